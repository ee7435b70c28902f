// Runs the built CLI's `watch` as a real child process and reads its NDJSON logs (stderr), so the
// daemon tests wait for what it says it did rather than for a fixed time. Every wait is bounded.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type LogLine = Record<string, unknown> & { msg?: string; event?: string; level?: number };

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(ROOT, 'build', 'cli.js');

/** `npm test` builds first; a bare `vitest run` on a fresh clone builds here. */
export function ensureBuilt(): void {
  if (!existsSync(CLI)) execFileSync(process.execPath, ['scripts/build.mjs', 'cli'], { cwd: ROOT, stdio: 'inherit' });
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every JSON line of stderr so far, in order. */
  readonly logs: LogLine[];
  /** stderr lines that are not JSON (messages for people). */
  readonly text: string[];
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** The first log at index >= from matching pred; rejects after timeoutMs with what was seen. */
  waitFor(pred: (l: LogLine) => boolean, opts?: { from?: number; timeoutMs?: number; what?: string }): Promise<LogLine>;
  /** The HTTP base URL (from the "listening" log). */
  url(): Promise<string>;
  /** Logs with this event field, from index `from`. */
  events(event: string, from?: number): LogLine[];
  /** SIGTERM and wait for the exit (SIGKILL after timeoutMs, and fail). */
  stop(timeoutMs?: number): Promise<number | string>;
}

export interface SpawnOptions {
  cwd: string;
  env: Record<string, string | undefined>;
}

export function spawnDaemon(args: string[], opts: SpawnOptions): DaemonProcess {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, RGO_LOG_LEVEL: 'info', ...opts.env })) if (v !== undefined) env[k] = v;
  const child = spawn(process.execPath, [CLI, 'watch', ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  const text: string[] = [];
  const waiters = new Set<() => void>();
  let buf = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        text.push(line);
      }
    }
    for (const w of waiters) w();
  });
  child.stdout!.resume();
  let ended = false;
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      ended = true;
      for (const w of waiters) w();
      resolve(code ?? signal ?? -1);
    }),
  );

  const waitFor: DaemonProcess['waitFor'] = (pred, o = {}) =>
    new Promise((resolve, reject) => {
      const from = o.from ?? 0;
      const check = () => {
        for (let i = from; i < logs.length; i++) {
          if (pred(logs[i]!)) {
            finish();
            resolve(logs[i]!);
            return true;
          }
        }
        if (ended) {
          finish();
          reject(new Error(`the daemon exited while waiting for ${o.what ?? 'a log line'}\n${dump()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${o.timeoutMs ?? 10_000} ms waiting for ${o.what ?? 'a log line'}\n${dump()}`));
      }, o.timeoutMs ?? 10_000);
      const listener = () => void check();
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(listener);
      };
      if (!check()) waiters.add(listener);
    });

  const dump = () => [...logs.slice(-25).map((l) => JSON.stringify(l)), ...text.slice(-10)].join('\n');

  return {
    child,
    pid: child.pid!,
    logs,
    text,
    exited,
    waitFor,
    async url() {
      const l = await waitFor((x) => x.event === 'listening', { what: 'the listening log' });
      return String(l.url);
    },
    events: (event, from = 0) => logs.slice(from).filter((l) => l.event === event),
    async stop(timeoutMs = 15_000) {
      if (!ended) child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const res = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
      clearTimeout(timer);
      if (res === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`the daemon did not exit within ${timeoutMs} ms of SIGTERM\n${dump()}`);
      }
      return res;
    },
  };
}

/** Poll `fn` until it returns a value other than undefined (bounded). */
export async function eventually<T>(fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, what = 'a condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
