// Run the real CLI in-process (the same run() the binary calls) and capture what it prints.
import { run } from '../../src/cli/run.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json<T = Record<string, unknown>>(): T;
}

export async function cli(
  args: string[],
  opts: { cwd: string; env?: Record<string, string | undefined>; signal?: AbortSignal; tty?: boolean },
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RGO_LOG_LEVEL: 'warn',
    RGO_DEBUG: process.env.RGO_DEBUG,
    ...opts.env,
  };
  const code = await run(args, {
    cwd: opts.cwd,
    env,
    stdout: { write: (s: string) => (stdout += s), isTTY: opts.tty ?? false },
    stderr: { write: (s: string) => (stderr += s), isTTY: opts.tty ?? false },
    signal: opts.signal,
  });
  return {
    code,
    stdout,
    stderr,
    json<T>() {
      try {
        return JSON.parse(stdout) as T;
      } catch {
        throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
      }
    },
  };
}

export const SITE_IDS = [
  '11111111-1111-4111-8111-111111111111',
  '22222222-2222-4222-8222-222222222222',
  '33333333-3333-4333-8333-333333333333',
  '44444444-4444-4444-8444-444444444444',
];

/** A small fleet: `n` sites with the given scripts each. */
export function fleetFiles(
  n = 2,
  scripts: Record<string, string> = { '00-identity.rsc': '/system identity set name=${{ site.name }}\n', '10-dns.rsc': '/ip dns set servers=1.1.1.1\n' },
): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const name = `site-${i + 1}`;
    files[`sites/${name}/site.yaml`] = `id: ${SITE_IDS[i]}\n`;
    for (const [f, body] of Object.entries(scripts)) files[`sites/${name}/${f}`] = body;
  }
  return files;
}
