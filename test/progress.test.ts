// Long applies are not silent without a terminal (issue 14): a progress line on stderr every
// interval (sent, done, waiting on the rate limit, time left), never on stdout. Driven by a fake
// timer and clock: no assertion depends on how long anything takes.
import { describe, expect, it } from 'vitest';
import { ApplyProgress, type ProgressTimer } from '../src/cli/apply-progress.js';
import type { SdxClient } from '../src/core/jobs.js';
import type { ApplyEvent } from '../src/core/outcome.js';
import type { Plan } from '../src/core/plan.js';
import { duration, progressLine } from '../src/report/progress.js';
import { cli, fleetFiles } from './helpers/cli.js';
import { useLifecycle } from './helpers/lifecycle.js';

const life = useLifecycle();

function fakeTimer() {
  let now = 0;
  let tick: (() => void) | null = null;
  let everyMs = 0;
  const timer: ProgressTimer = {
    every(ms, fn) {
      everyMs = ms;
      tick = fn;
      return () => {
        tick = null;
      };
    },
    now: () => now,
  };
  return {
    timer,
    advance(ms: number) {
      now += ms;
      tick?.();
    },
    running: () => tick !== null,
    everyMs: () => everyMs,
  };
}

const change = (i: number, action = 'create') => ({ site: `s${i}`, site_id: `id-${i}`, file: '10.rsc', path: `sites/s${i}/10.rsc`, action });

describe('the progress line', () => {
  it('counts sent and done, shows requests waiting on the rate limit, and estimates the time left', () => {
    const lines: string[] = [];
    const t = fakeTimer();
    const p = new ApplyProgress((s) => lines.push(s), 10_000, t.timer);
    const changes = [change(1), change(2), change(3), change(4), change(5, 'none')];
    p.plan({ changes } as unknown as Plan);
    expect(t.everyMs()).toBe(10_000);
    let waiting = 3;
    p.watch({ stats: () => ({ requests: 0, retries: 0, byStatus: {}, retriesByCause: {}, waitingForRateLimit: waiting }) } as unknown as SdxClient);
    const created = (i: number) => p.onEvent({ type: 'job-created', change: changes[i], job: { id: `j${i}` }, reused: false } as unknown as ApplyEvent);
    const result = (i: number) => p.onEvent({ type: 'result', result: { change: changes[i], job_id: `j${i}`, outcome: 'succeeded' } } as unknown as ApplyEvent);
    t.advance(10_000);
    expect(lines.pop()).toBe('progress: 0/4 sent, 0/4 done, 3 requests waiting on the rate limit, time left not known yet (10 s so far)\n');
    created(0);
    created(1);
    result(0);
    waiting = 0;
    t.advance(10_000);
    // One done in 20 s, three left: about a minute.
    expect(lines.pop()).toBe('progress: 2/4 sent, 1/4 done, about 1 min left (20 s so far)\n');
    p.stop();
    expect(t.running()).toBe(false);
  });

  it('words durations', () => {
    expect([duration(400), duration(42_000), duration(185_000), duration(3_720_000)]).toEqual(['0 s', '42 s', '3 min 5 s', '1 h 2 min']);
    expect(progressLine({ total: 2, sent: 2, done: 2, waitingForRateLimit: 0 }, 5000)).toBe('progress: 2/2 sent, 2/2 done, finishing (5 s so far)');
  });

  it('does not start for a run with nothing to send', () => {
    const t = fakeTimer();
    new ApplyProgress(() => {}, 10_000, t.timer).plan({ changes: [change(1, 'stale')] } as unknown as Plan);
    expect(t.running()).toBe(false);
  });
});

describe('apply without a terminal', () => {
  it('prints progress lines on stderr (never on stdout, which stays one JSON document); none on a terminal', async () => {
    const { r, env } = await life.fleet(fleetFiles(4), { checkinIntervalMs: 300 });
    const res = await cli(['apply', '--format', 'json'], { cwd: r.dir, env: { ...env, RGO_PROGRESS_INTERVAL: '25ms' } });
    expect(res.code).toBe(0);
    expect(res.json<{ results: unknown[] }>().results).toHaveLength(8);
    const lines = res.stderr.split('\n').filter((l) => l.startsWith('progress: '));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^progress: \d\/8 sent, \d\/8 done, .* \(\d+ s so far\)$/);
    expect(res.stdout).not.toContain('progress:');

    await r.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' });
    const tty = await cli(['apply'], { cwd: r.dir, env: { ...env, RGO_PROGRESS_INTERVAL: '25ms' }, tty: true });
    expect(tty.code).toBe(0);
    expect(tty.stderr).not.toContain('progress: ');
  });
});
