// The README's "Your first fleet", run as a newcomer would (issue 14): every command of its shell
// blocks, in order, and every script block written where its first line says, against the sandbox
// the walkthrough starts, in a temporary folder. A command this test does not know fails it, so the
// README cannot show a step nobody ran. Its first `apply` runs in a pseudo-terminal, as a person's
// would: it shows the plan and asks, and is answered yes. After the walkthrough, the lockout script
// of its step 7 is committed past the hook without its acknowledgement: apply refuses it and sends
// nothing; acknowledged, it is sent. Then a wrong URL and a wrong token on a 20-site fleet: one
// request each, the cause named, exit 3 (times are printed, never asserted).
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cli, type CliRun } from './helpers/cli.js';
import { useLifecycle } from './helpers/lifecycle.js';
import { waitFor } from './helpers/sandbox.js';
import { CLI, ensureBuilt } from './daemon-harness.js';
import { run } from '../src/cli/run.js';
import { onTerminal } from './helpers/terminal.js';

const exec = promisify(execFile);
const life = useLifecycle();
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

type Step = { kind: 'sh'; line: string } | { kind: 'file'; path: string; text: string };

/** The walkthrough's steps, in order: shell lines and script files. */
async function walkthrough(): Promise<Step[]> {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const region = readme.slice(readme.indexOf('<!-- first-fleet:start -->'), readme.indexOf('<!-- first-fleet:end -->'));
  expect(region.length).toBeGreaterThan(100);
  const steps: Step[] = [];
  for (const m of region.matchAll(/```(\w+)\n([\s\S]*?)```/g)) {
    const [, lang, body] = m;
    if (lang === 'sh') {
      for (const line of body!.split('\n')) if (line.trim() && !line.trim().startsWith('#')) steps.push({ kind: 'sh', line: line.trim() });
    } else {
      const header = /^# (\S+)\n/.exec(body!);
      if (!header) throw new Error(`a ${lang} block of the walkthrough does not start with "# <path>":\n${body}`);
      steps.push({ kind: 'file', path: header[1]!, text: body!.slice(header[0].length) });
    }
  }
  return steps;
}

/** `A=B C=D routeros-gitops args  # exit 3: ...` -> env, argv, expected exit code. */
function parseLine(line: string): { env: Record<string, string>; argv: string[]; exit: number } {
  const comment = /\s+#\s(.*)$/.exec(line);
  const exit = comment ? Number(/^exit (\d+)/.exec(comment[1]!)?.[1] ?? 0) : 0;
  const words = (comment ? line.slice(0, comment.index) : line).match(/"[^"]*"|\S+/g)!.map((w) => w.replace(/^"(.*)"$/, '$1'));
  const env: Record<string, string> = {};
  while (words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
    const [k, ...v] = words.shift()!.split('=');
    env[k!] = v.join('=');
  }
  return { env, argv: words, exit };
}

describe('Your first fleet (README)', () => {
  it('runs every command of the walkthrough, in order, against the sandbox', async () => {
    ensureBuilt();
    const home = await mkdtemp(path.join(tmpdir(), 'rgo-first-hour-'));
    life.defer(() => rm(home, { recursive: true, force: true }));
    // routeros-gitops on PATH (the pre-commit hook init installs calls it), as `npm link` puts it.
    const bin = path.join(home, 'bin');
    await mkdir(bin);
    await writeFile(path.join(bin, 'routeros-gitops'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    await chmod(path.join(bin, 'routeros-gitops'), 0o755);
    const gitEnv = {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: home,
      GIT_AUTHOR_NAME: 'New User',
      GIT_AUTHOR_EMAIL: 'new@example.invalid',
      GIT_COMMITTER_NAME: 'New User',
      GIT_COMMITTER_EMAIL: 'new@example.invalid',
    };
    const stop = new AbortController();
    life.defer(() => stop.abort());
    let cwd = home;
    let sandboxUrl = '';
    let sandboxDone: Promise<number> | null = null;
    // Quick polls: the README's commands, not its waits, are under test.
    const env: Record<string, string> = { RGO_POLL_INITIAL_MS: '100', RGO_POLL_MAX_MS: '200' };
    let asked: { code: number; screen: string } | null = null;
    const ran: string[] = [];
    const results: Array<{ line: string; res: CliRun }> = [];
    const asUrl = (v: string) => v.replace('http://127.0.0.1:8787', sandboxUrl);

    for (const step of await walkthrough()) {
      if (step.kind === 'file') {
        await mkdir(path.dirname(path.join(cwd, step.path)), { recursive: true });
        await writeFile(path.join(cwd, step.path), step.text);
        ran.push(`write ${step.path}`);
        continue;
      }
      for (const part of step.line.split(' && ')) {
        const { env: lineEnv, argv, exit } = parseLine(part);
        const [cmd, ...args] = argv;
        if (cmd === 'export') {
          for (const a of args) {
            const [k, ...v] = a.split('=');
            env[k!] = asUrl(v.join('='));
          }
        } else if (cmd === 'cd') {
          cwd = path.resolve(cwd, args[0]!);
        } else if (cmd === 'git') {
          await exec('git', args, { cwd, env: gitEnv });
        } else if (cmd === 'routeros-gitops' && args[0] === 'sandbox' && args.at(-1) === '&') {
          // The sandbox command itself, in the background, on a free port instead of 8787.
          let out = '';
          sandboxDone = run(['sandbox', ...args.slice(1, -1), '--listen', '127.0.0.1:0'], {
            cwd,
            env: { PATH: process.env.PATH, RGO_LOG_LEVEL: 'warn' },
            stdout: { write: (s: string) => (out += s) },
            stderr: { write: () => true },
            signal: stop.signal,
          });
          sandboxUrl = await waitFor(() => /listening on (\S+)/.exec(out)?.[1], 5000, 'the sandbox');
        } else if (cmd === 'routeros-gitops' && args[0] === 'apply' && !asked) {
          // The first apply, on a terminal: the plan is shown and a person answers yes.
          asked = await onTerminal(args, { cwd, env: { ...env, ...gitEnv }, prompt: '(yes/no)', answer: 'yes' });
          console.log(`${part} (on a terminal, answered yes): exit ${asked.code}`);
          expect(asked.code, asked.screen).toBe(exit);
        } else if (cmd === 'routeros-gitops') {
          const t0 = performance.now();
          const res = await cli(args, { cwd, env: { ...env, ...Object.fromEntries(Object.entries(lineEnv).map(([k, v]) => [k, asUrl(v)])) } });
          console.log(`${part}: exit ${res.code}, ${Math.round(performance.now() - t0)} ms`);
          expect(res.code, `${part}\n${res.stdout}\n${res.stderr}`).toBe(exit);
          results.push({ line: part, res });
        } else {
          throw new Error(`the README walkthrough has a command this test does not run: ${part}`);
        }
        ran.push(part);
      }
    }
    // What the steps showed.
    const show = (prefix: string) => results.find((r) => r.line.startsWith(prefix))!.res;
    expect(show('routeros-gitops sites').stdout).toMatch(/^HQ core +hq-core +3f1c2a9e-7b4d-4c8e-9a61-2d5e8f0b7c13 +7\.20\.8 +CCR2004-1G-12S\+2XS +yes/m);
    expect(show('SDX_API_URL=http://127.0.0.1:9').stderr).toContain('could not reach SDX at http://127.0.0.1:9 (connection refused)');
    expect(show('SDX_API_TOKEN=not-my-token').stderr).toContain(`SDX at ${sandboxUrl} refused the token (HTTP 401: Unauthenticated.`);
    expect(show('routeros-gitops init').stdout).toContain('Installed the pre-commit hook');
    expect(show('routeros-gitops validate').stdout).toBe('No problems found.\n');
    expect(show('routeros-gitops plan').stdout).toMatch(/3 jobs? to send|sites\/hq-core\/10-dns\.rsc/);
    // The first apply showed the plan of hq-core alone, with its diffs, before it asked.
    expect(asked!.screen).toMatch(/hq-core/);
    expect(asked!.screen).not.toMatch(/branch-lisbon/);
    expect(asked!.screen).toContain('+/ip dns set servers=1.1.1.1,9.9.9.9');
    expect(asked!.screen.indexOf('+/ip dns set')).toBeLessThan(asked!.screen.indexOf('(yes/no)'));
    const applies = results.filter((r) => r.line.startsWith('routeros-gitops apply'));
    expect(applies.length).toBeGreaterThanOrEqual(2);
    expect(applies.every((a) => a.res.code === 0)).toBe(true);
    expect(show('routeros-gitops validate sites/hq-core/30-services.rsc').stdout).toMatch(/lockout .*\[ip-service\]/);
    expect(show('routeros-gitops status').stdout).toMatch(/^hq-core +[0-9a-f]{7} +succeeded/m);
    expect(show('routeros-gitops status').stdout).toMatch(/^branch-lisbon +[0-9a-f]{7} +succeeded/m);
    // Everything the walkthrough committed is in the repository it made, and the hook ran on it.
    expect(await readFile(path.join(cwd, '.git/hooks/pre-commit'), 'utf8')).toContain('routeros-gitops validate');
    expect((await exec('git', ['log', '--format=%s'], { cwd })).stdout.trim().split('\n')).toEqual([
      'Web UI off, SSH from the LAN only',
      'DNS and the LAN bridge',
    ]);

    // A lockout risk that gets past the hook (git commit --no-verify, or a merge on GitHub): apply
    // refuses the commit and sends nothing; acknowledged, it goes out.
    const sdx = { ...env, RGO_LOG_LEVEL: 'warn' };
    const sent = async () => (await cli(['status', '--format', 'json'], { cwd })).stdout;
    await writeFile(path.join(cwd, 'sites/branch-lisbon/30-services.rsc'), '/ip service set winbox address=10.1.0.0/16\n');
    await exec('git', ['add', '-A'], { cwd, env: gitEnv });
    await expect(exec('git', ['commit', '-qm', 'winbox from the branch LAN'], { cwd, env: gitEnv })).rejects.toThrow(/ip-service/);
    await exec('git', ['commit', '-qm', 'winbox from the branch LAN', '--no-verify'], { cwd, env: gitEnv });
    const before = await sent();
    const refused = await cli(['apply'], { cwd, env: sdx });
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/sites\/branch-lisbon\/30-services\.rsc:1:1 \(site branch-lisbon\): changing \/ip service \(winbox\).*\[ip-service\]/);
    expect(refused.stderr).toContain('# routeros-gitops: allow ip-service');
    expect(await sent()).toBe(before);
    await writeFile(path.join(cwd, 'sites/branch-lisbon/30-services.rsc'), '# routeros-gitops: allow ip-service\n/ip service set winbox address=10.1.0.0/16\n');
    await exec('git', ['commit', '-qam', 'winbox from the branch LAN, acknowledged'], { cwd, env: gitEnv });
    const acknowledged = await cli(['apply', '--format', 'json'], { cwd, env: sdx });
    expect(acknowledged.code, acknowledged.stderr).toBe(0);
    expect(acknowledged.json<{ results: Array<{ path: string; outcome: string }> }>().results).toEqual([
      expect.objectContaining({ path: 'sites/branch-lisbon/30-services.rsc', outcome: 'succeeded' }),
    ]);
    stop.abort();
    expect(await sandboxDone).toBe(0);
    console.log(`ran: ${ran.join(' | ')}`);
  });

  it('a wrong URL and a wrong token on a 20-site fleet: one request each, the cause named, exit 3', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) {
      files[`sites/r${i}/site.yaml`] = `id: aaaaaaaa-bbbb-4ccc-8ddd-${i.toString(16).padStart(12, '0')}\n`;
      files[`sites/r${i}/10-dns.rsc`] = '/ip dns set servers=1.1.1.1\n';
    }
    const { r, sb, env } = await life.fleet(files);
    const plan = await cli(['plan'], { cwd: r.dir, env });
    expect(plan.code).toBe(0);
    for (const [what, extra, message] of [
      ['wrong URL', { SDX_API_URL: `${sb.url}/not-sdx` }, 'does not answer as the SDX API does'],
      ['wrong token', { SDX_API_TOKEN: 'not-the-token-0000' }, 'refused the token (HTTP 401: Unauthenticated.'],
    ] as const) {
      const before = sb.requests().length;
      const t0 = performance.now();
      const res = await cli(['apply'], { cwd: r.dir, env: { ...env, ...extra } });
      console.log(`apply with a ${what}, 20 sites: ${Math.round(performance.now() - t0)} ms, ${sb.requests().length - before} request`);
      expect(res.code).toBe(3);
      expect(res.stderr).toContain(message);
      expect(sb.requests().length - before).toBe(1);
      expect(res.stderr).not.toContain('not-the-token-0000');
    }
    expect(sb.stats().jobsCreated).toBe(0);
  });
});
