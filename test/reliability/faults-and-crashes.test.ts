// Faults and crashes: every change applied exactly once, whatever fails, and the state agrees with
// the jobs the sandbox holds. Randomised with fixed seeds, printed on failure.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cli } from '../helpers/cli.js';
import { useLifecycle } from '../helpers/lifecycle.js';
import type { SandboxOptions } from '../../src/sandbox/sandbox.js';
import { expectNoDuplicates, expectStateAgrees, fleet, seededRandom, siteId } from './helpers.js';

const life = useLifecycle();
const setup = (files: Record<string, string>, opts: SandboxOptions) => life.fleet(files, { checkinIntervalMs: 30, ...opts }, { RGO_POLL_MAX_MS: '80' });

describe('faults', () => {
  it('30% injected faults of every kind over 200 changes: each applied exactly once, the run ends, the report says what was retried', async () => {
    const seed = 20261128;
    const { r, sb, env } = await setup(fleet(40, 5), {
      faults: {
        probability: 0.3,
        seed,
        stallMs: 10_000,
        retryAfterSeconds: 1,
        kinds: ['error500', 'html502', 'unavailable503', 'throttle429', 'throttle429NoRetryAfter', 'resetBefore', 'lostAfter', 'stall'],
      },
    });
    const t0 = Date.now();
    const res = await cli(['apply', '--format', 'json', '--concurrency', '20'], { cwd: r.dir, env });
    const out = res.json<{ results: Array<{ outcome: string; reason: string | null }>; retries: Record<string, number>; requests: number }>();
    const notDone = out.results.filter((x) => x.outcome !== 'succeeded');
    const faults = sb.stats().faults;
    const injected = Object.values(faults).reduce((a, b) => a + b, 0);
    console.log(
      `faults (seed ${seed}): ${out.results.length} changes, ${out.requests} requests, ${injected} faults injected ${JSON.stringify(faults)}, retried ${JSON.stringify(out.retries)}, ${Date.now() - t0} ms, not succeeded: ${notDone.length}`,
    );
    expect(notDone, `seed ${seed}`).toEqual([]);
    expect(res.code).toBe(0);
    expect(out.results).toHaveLength(200);
    for (const kind of ['error500', 'html502', 'unavailable503', 'throttle429', 'resetBefore', 'lostAfter', 'stall'])
      expect(faults[kind] ?? 0, kind).toBeGreaterThan(0);
    expect(Object.keys(out.retries).length).toBeGreaterThan(1);
    expectNoDuplicates(sb);
    expect(sb.stats().jobsCreated).toBe(200);
    expect(await expectStateAgrees(r, sb)).toBe(200);
  }, 240_000);
});

describe('crashes', () => {
  it('apply killed with SIGKILL at 24 random moments, sometimes at a newer commit: every change applied exactly once, the state agrees with the sandbox', async () => {
    const seed = 4242;
    const rand = seededRandom(seed);
    const SITES = 8;
    const SCRIPTS = 3;
    let posts = 0;
    const { r, sb, env } = await setup(fleet(SITES, SCRIPTS), {
      checkinIntervalMs: 40,
      latencyMs: 3,
      inspectRequest: (q) => void (q.method === 'POST' && posts++),
    });
    let version = 0;
    const kills: number[] = [];
    for (let k = 0; k < 24; k++) {
      if (rand() < 0.35) {
        // A newer commit: a few scripts get new content.
        version++;
        const files: Record<string, string> = {};
        for (let i = 0; i < 3; i++) {
          const s = Math.floor(rand() * SITES);
          const n = Math.floor(rand() * SCRIPTS);
          files[`sites/r${s}/${n}0-x.rsc`] = `/ip dns set servers=10.${s}.${n}.${version}\n`;
        }
        await r.commit(files, `v${version}`);
      }
      const child = spawn(process.execPath, ['build/cli.js', 'apply', '-C', r.dir, '--concurrency', '4', '--lock-timeout', '30'], {
        env: { ...process.env, ...env, RGO_LOG_LEVEL: 'error' },
        stdio: 'ignore',
      });
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      // A random moment of the run: after 0 to 4 of its POSTs, plus 0 to 80 ms.
      const start = posts;
      const after = Math.floor(rand() * 5);
      const delay = Math.floor(rand() * 80);
      let done = false;
      void exited.then(() => (done = true));
      const deadline = Date.now() + 20_000;
      while (!done && posts - start < after && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
      if (!done) await new Promise((res) => setTimeout(res, delay));
      const killed = !done && child.kill('SIGKILL');
      await exited;
      if (killed) kills.push(posts - start);
    }
    // Then one run to the end.
    const final = await cli(['apply', '--format', 'json'], { cwd: r.dir, env });
    const out = final.json<{ results: Array<{ outcome: string }> }>();
    console.log(
      `crashes (seed ${seed}): ${kills.length} kills (after ${kills.join(',')} POSTs), ${version} newer commits, ${sb.stats().jobsCreated} jobs created, ${sb.stats().replays} replays, final run: ${out.results.length} changes`,
    );
    expect(final.code, final.stdout).toBe(0);
    expect(kills.length).toBeGreaterThanOrEqual(20);
    expectNoDuplicates(sb);
    expect(await expectStateAgrees(r, sb)).toBe(SITES * SCRIPTS);
    // What the routers ran last is what the repository says.
    for (let s = 0; s < SITES; s++) {
      for (let n = 0; n < SCRIPTS; n++) {
        const want = `${await r.git(['show', `HEAD:sites/r${s}/${n}0-x.rsc`])}\n`;
        const ran = sb
          .jobs(siteId(s))
          .filter((j) => !j.cancelled && j.completed_at && j.script.startsWith(`/ip dns set servers=10.${s}.${n}.`))
          .sort((a, b) => (a.completed_at! < b.completed_at! ? -1 : 1));
        expect(ran.at(-1)?.script, `r${s} ${n}0-x.rsc`).toBe(want);
      }
    }
    const plan = await cli(['plan', '--format', 'json'], { cwd: r.dir, env });
    expect(plan.json<{ changes: unknown[] }>().changes).toEqual([]);
  }, 240_000);
});
