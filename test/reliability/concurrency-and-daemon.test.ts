// Concurrency and daemon crashes: two applies and a daemon on one repository at once, and a daemon
// killed at random moments; no change applied twice, no state update lost.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { TempRepo } from '../helpers/git-repo.js';
import { cli } from '../helpers/cli.js';
import { useLifecycle } from '../helpers/lifecycle.js';
import { ensureBuilt, spawnDaemon, CLI } from '../daemon-harness.js';
import type { Sandbox } from '../../src/sandbox/sandbox.js';
import { expectNoDuplicates, expectStateAgrees, fleet as makeFleet, seededRandom } from './helpers.js';

const life = useLifecycle();

async function setup(files: Record<string, string>, inspect?: (method: string) => void) {
  ensureBuilt();
  return life.fleet(files, { checkinIntervalMs: 40, latencyMs: 2, inspectRequest: (q) => inspect?.(q.method) }, { RGO_POLL_MAX_MS: '80' });
}

async function expectConsistent(r: TempRepo, sb: Sandbox, scripts: number) {
  expectNoDuplicates(sb);
  expect(await expectStateAgrees(r, sb)).toBe(scripts);
}

async function until(f: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await f()) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const planEmpty = async (r: TempRepo, env: Record<string, string>) => {
  const res = await cli(['plan', '--format', 'json'], { cwd: r.dir, env });
  return res.code === 0 && res.json<{ changes: unknown[] }>().changes.length === 0;
};

describe('concurrency', () => {
  it('two applies and a daemon on the same repository at once: no change applied twice, no state update lost', async () => {
    const { r, sb, env } = await setup(makeFleet(10, 3));
    const daemon = spawnDaemon(['--interval', '1s', '--retry-interval', '300ms'], { cwd: r.dir, env });
    life.defer(() => daemon.stop(20_000).catch(() => undefined));
    const applies = [0, 1].map(
      () =>
        new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, [CLI, 'apply', '-C', r.dir, '--lock-timeout', '60'], {
            env: { ...process.env, ...env, RGO_LOG_LEVEL: 'error' },
            stdio: 'ignore',
          });
          child.on('exit', (code) => resolve(code));
        }),
    );
    // A commit while they run: the daemon (or an apply) picks it up.
    await r.commit({ 'sites/r3/10-x.rsc': '/ip dns set servers=10.3.1.9\n' }, 'newer');
    expect(await Promise.all(applies)).toEqual([0, 0]);
    await until(() => planEmpty(r, env), 60_000, 'everything applied');
    await daemon.stop(20_000);
    await expectConsistent(r, sb, 30);
    console.log(`concurrency: ${sb.stats().jobsCreated} jobs for 31 changes (30 + 1 newer), ${sb.stats().replays} replays`);
  }, 120_000);
});

describe('daemon crashes', () => {
  it('a daemon killed with SIGKILL at 20 random moments, sometimes with a newer commit, then restarted: every change applied exactly once', async () => {
    const seed = 777;
    const rand = seededRandom(seed);
    let posts = 0;
    const { r, sb, env } = await setup(makeFleet(6, 3), (m) => void (m === 'POST' && posts++));
    let version = 0;
    const kills: number[] = [];
    for (let k = 0; k < 20; k++) {
      if (rand() < 0.3) {
        version++;
        const s = Math.floor(rand() * 6);
        const n = Math.floor(rand() * 3);
        await r.commit({ [`sites/r${s}/${n}0-x.rsc`]: `/ip dns set servers=10.${s}.${n}.${version}\n` }, `v${version}`);
      }
      const d = spawnDaemon(['--interval', '1s', '--retry-interval', '200ms', '--debounce', '50ms'], { cwd: r.dir, env });
      const start = posts;
      const after = Math.floor(rand() * 4);
      const deadline = Date.now() + 15_000;
      let ended = false;
      void d.exited.then(() => (ended = true));
      while (!ended && posts - start < after && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
      await new Promise((res) => setTimeout(res, Math.floor(rand() * 60)));
      d.child.kill('SIGKILL');
      await d.exited;
      kills.push(posts - start);
    }
    const last = spawnDaemon(['--interval', '1s', '--retry-interval', '200ms'], { cwd: r.dir, env });
    life.defer(() => last.stop(20_000).catch(() => undefined));
    await until(() => planEmpty(r, env), 60_000, 'everything applied');
    await last.stop(20_000);
    console.log(
      `daemon crashes (seed ${seed}): ${kills.length} kills (after ${kills.join(',')} POSTs), ${version} newer commits, ${sb.stats().jobsCreated} jobs, ${sb.stats().replays} replays`,
    );
    expect(kills.length).toBe(20);
    await expectConsistent(r, sb, 18);
  }, 180_000);
});
