// A command run in a real pseudo-terminal (util-linux `script`), as a person at a terminal would
// run it: the built CLI as a child, its stdin, stdout and stderr the terminal.
import { spawn } from 'node:child_process';
import { CLI, ensureBuilt } from '../daemon-harness.js';

/** Single quotes for sh. */
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Run the CLI in a pseudo-terminal; once it prints `prompt`, type `answer` and Enter. Resolves with
 * everything the terminal showed and the exit code.
 */
export function onTerminal(
  args: string[],
  opts: { cwd: string; env: Record<string, string>; prompt: string; answer: string /** Type `answer` as is, without Enter (\x04: Ctrl-D). */; raw?: boolean },
): Promise<{ code: number; screen: string }> {
  ensureBuilt();
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    // -q quiet, -f flush each write, -e the child's exit code, -c the command; /dev/null: no typescript file.
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', RGO_LOG_LEVEL: 'warn', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let answered = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit within 60 s; the terminal showed:\n${screen}`));
    }, 60_000);
    const read = (chunk: Buffer) => {
      screen += chunk.toString('utf8');
      if (!answered && screen.includes(opts.prompt)) {
        answered = true;
        child.stdin.write(opts.raw ? opts.answer : `${opts.answer}\n`);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run script(1) from util-linux, which this test needs for a pseudo-terminal: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.end();
      resolve({ code: code ?? -1, screen: screen.replace(/\r\n/g, '\n') });
    });
  });
}
