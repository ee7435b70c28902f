// The daemon's schedule on its own (no git, no SDX): coalescing, retries with backoff, follow-ups,
// and a stop that waits for the run in progress. The end-to-end suites (daemon-*.test.ts) run the
// real thing; this one pins down the timing rules they cannot force.
import { describe, expect, it } from 'vitest';
import { WatchLoop, type HeadSource, type RunReport } from '../src/daemon/watch-loop.js';
import type { CommitInfo } from '../src/core/ports.js';
import { silentLogger } from '../src/core/logger.js';
import { classify } from '../src/daemon/daemon.js';
import type { ReconcileResult } from '../src/apply/reconcile.js';
import { emptySummary, type Outcome } from '../src/core/outcome.js';

function fakeHead() {
  let sha = 'c0';
  let onChange: ((why: string) => void) | null = null;
  let refreshes = 0;
  const source: HeadSource = {
    mode: 'local',
    describe: 'main',
    refresh: async () => void refreshes++,
    resolve: async (): Promise<CommitInfo> => ({ sha, subject: sha, time: new Date().toISOString() }),
    watch: async (cb) => void (onChange = cb),
    close: async () => {},
  };
  return {
    source,
    /** Move the head and notify, as a commit would. */
    move(to: string) {
      sha = to;
      onChange?.('ref-change');
    },
    refreshes: () => refreshes,
  };
}

const ok: RunReport = { result: 'succeeded', retry: false, followUp: false };
const transient: RunReport = { result: 'error', retry: true, followUp: false };
const pending: RunReport = { result: 'pending', retry: false, followUp: true };

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function until(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const base = { intervalMs: 60_000, retryIntervalMs: 40, jitter: 0, logger: silentLogger };

describe('watch loop', () => {
  it('runs once per new head and coalesces the heads that arrive during a run into one run at the newest', async () => {
    const head = fakeHead();
    const runs: Array<{ sha: string; why: string }> = [];
    const gate = deferred();
    const loop = new WatchLoop({
      ...base,
      head: head.source,
      run: async (c, why) => {
        runs.push({ sha: c.sha, why });
        if (runs.length === 1) await gate.promise;
        return ok;
      },
    });
    await loop.start();
    await until(() => runs.length === 1);
    for (let i = 1; i <= 5; i++) head.move(`c${i}`);
    gate.resolve();
    await until(() => runs.length === 2);
    head.move('c5'); // the same head again: nothing to do
    await new Promise((r) => setTimeout(r, 50));
    await loop.stop();
    expect(runs).toEqual([
      { sha: 'c0', why: 'start' },
      { sha: 'c5', why: 'ref-change' },
    ]);
    expect(loop.snapshot().lastReconciled).toBe('c5');
  });

  it('retries a transient failure on the retry interval, doubling each time, and a new commit does not wait for it', async () => {
    const head = fakeHead();
    const at: number[] = [];
    const shas: string[] = [];
    let failuresLeft = 3;
    const loop = new WatchLoop({
      ...base,
      head: head.source,
      run: async (c) => {
        at.push(Date.now());
        shas.push(c.sha);
        if (c.sha === 'c0' && failuresLeft-- > 0) return transient;
        return ok;
      },
    });
    const t0 = Date.now();
    await loop.start();
    await until(() => shas.length === 4);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    // 40, 80, 160 ms (timers fire late, never early).
    expect(gaps[0]).toBeGreaterThanOrEqual(39);
    expect(gaps[1]).toBeGreaterThanOrEqual(79);
    expect(gaps[2]).toBeGreaterThanOrEqual(159);
    expect(at[3]! - t0).toBeLessThan(2000);

    // A failure at a new head, then an even newer head: it runs at once, backoff or not.
    failuresLeft = 0;
    let failNext = true;
    const loop2Runs: string[] = [];
    const head2 = fakeHead();
    const loop2 = new WatchLoop({
      ...base,
      retryIntervalMs: 10_000,
      head: head2.source,
      run: async (c) => {
        loop2Runs.push(c.sha);
        if (failNext) {
          failNext = false;
          return transient;
        }
        return ok;
      },
    });
    await loop2.start();
    await until(() => loop2Runs.length === 1);
    expect(loop2.snapshot().nextRetryAt).not.toBeNull();
    loop2.kick('interval'); // the same head while backing off: waits for its retry
    await new Promise((r) => setTimeout(r, 30));
    expect(loop2Runs).toEqual(['c0']);
    head2.move('c1');
    await until(() => loop2Runs.length === 2);
    expect(loop2Runs).toEqual(['c0', 'c1']);
    expect(loop2.snapshot().nextRetryAt).toBeNull();
    await Promise.all([loop.stop(), loop2.stop()]);
  });

  it('runs again at the same head while jobs are pending, then stops asking', async () => {
    const head = fakeHead();
    const runs: string[] = [];
    const loop = new WatchLoop({
      ...base,
      head: head.source,
      run: async (_c, why) => {
        runs.push(why);
        return runs.length < 3 ? pending : ok;
      },
    });
    await loop.start();
    await until(() => runs.length === 3);
    await new Promise((r) => setTimeout(r, 120));
    await loop.stop();
    expect(runs).toEqual(['start', 'retry', 'retry']);
  });

  it('refreshes (fetches) on every interval and on start', async () => {
    const head = fakeHead();
    const runs: string[] = [];
    const loop = new WatchLoop({
      ...base,
      intervalMs: 20,
      head: { ...head.source, mode: 'remote' },
      run: async (c) => {
        runs.push(c.sha);
        return ok;
      },
    });
    await loop.start();
    await until(() => head.refreshes() >= 4);
    await loop.stop();
    expect(runs).toEqual(['c0']); // the head never moved: one run
  });

  it('stop waits for the run in progress and starts no other', async () => {
    const head = fakeHead();
    const gate = deferred();
    const runs: string[] = [];
    let finished = false;
    const loop = new WatchLoop({
      ...base,
      head: head.source,
      run: async (c) => {
        runs.push(c.sha);
        await gate.promise;
        finished = true;
        return { result: 'interrupted', retry: false, followUp: false };
      },
    });
    await loop.start();
    await until(() => runs.length === 1);
    head.move('c1');
    const stopped = loop.stop();
    setTimeout(gate.resolve, 30);
    await stopped;
    expect(finished).toBe(true);
    head.move('c2');
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toEqual(['c0']);
  });
});

describe('what a run means for the loop', () => {
  const result = (rows: Array<[Outcome, string | null]>, interrupted = false): ReconcileResult => {
    const summary = emptySummary();
    for (const [o] of rows) summary[o]++;
    const results = rows.map(([outcome, job_id]) => ({ outcome, job_id, change: { action: 'create' } }));
    return { results, summary, interrupted } as unknown as ReconcileResult;
  };

  it('retries a change that could not be sent, follows up pending jobs, and leaves a failed script alone', () => {
    expect(classify(result([['succeeded', 'j1']]))).toEqual({ result: 'succeeded', retry: false, followUp: false });
    expect(classify(result([]))).toEqual({ result: 'succeeded', retry: false, followUp: false });
    // SDX unreachable after the client's own retries: transient.
    expect(
      classify(
        result([
          ['failed', null],
          ['blocked', null],
        ]),
      ),
    ).toEqual({ result: 'error', retry: true, followUp: false });
    // The router ran it and it failed: not retried (a new commit, or apply --retry-failed).
    expect(
      classify(
        result([
          ['failed', 'j1'],
          ['blocked', null],
        ]),
      ),
    ).toEqual({ result: 'failed', retry: false, followUp: false });
    // Still running, and a change waiting behind it: pending, followed up.
    expect(
      classify(
        result([
          ['timed_out', 'j1'],
          ['blocked', null],
        ]),
      ),
    ).toEqual({ result: 'pending', retry: false, followUp: true });
    expect(classify(result([['queued', 'j1']]))).toEqual({ result: 'pending', retry: false, followUp: true });
    // A failure on one site and a pending job on another: failed, and still followed up.
    expect(
      classify(
        result([
          ['failed', 'j1'],
          ['queued', 'j2'],
        ]),
      ),
    ).toEqual({ result: 'failed', retry: false, followUp: true });
    expect(classify(result([['queued', 'j1']], true))).toEqual({ result: 'interrupted', retry: false, followUp: false });
  });
});

describe('watch loop: overlapping runs', () => {
  it('begins a newer head once the running one may overlap, never runs a head twice at once, and only the newest run schedules', async () => {
    const head = fakeHead();
    const begun: string[] = [];
    const ends = new Map<string, ReturnType<typeof deferred>>();
    const reports = new Map<string, RunReport>();
    const loop = new WatchLoop({
      ...base,
      retryIntervalMs: 10_000,
      head: head.source,
      run: async (c, _why, mayOverlap) => {
        begun.push(c.sha);
        const end = deferred();
        ends.set(`${c.sha}#${begun.length}`, end);
        mayOverlap(); // intents stored: only jobs left to follow
        await end.promise;
        return reports.get(c.sha) ?? ok;
      },
    });
    await loop.start();
    await until(() => begun.length === 1);
    // c0 is still following its jobs: the same head is not run again, even when asked to.
    loop.kick('interval');
    await new Promise((r) => setTimeout(r, 30));
    expect(begun).toEqual(['c0']);
    // A new head begins at once beside it.
    head.move('c1');
    await until(() => begun.length === 2);
    expect(begun).toEqual(['c0', 'c1']);
    expect(loop.snapshot().running).toBe(true);
    // The older run ends last and asks for a retry: the newer run covers it, nothing is scheduled.
    reports.set('c0', transient);
    ends.get('c1#2')!.resolve();
    await until(() => loop.snapshot().lastReconciled === 'c1');
    ends.get('c0#1')!.resolve();
    await new Promise((r) => setTimeout(r, 30));
    expect(loop.snapshot().nextRetryAt).toBeNull();
    expect(loop.snapshot().running).toBe(false);
    expect(begun).toEqual(['c0', 'c1']);
    await loop.stop();
  });

  it('a forced run at the head of a run in progress runs once that run ends; a run that never says it may overlap keeps the next waiting', async () => {
    const head = fakeHead();
    const begun: string[] = [];
    const gates: Array<ReturnType<typeof deferred>> = [];
    const loop = new WatchLoop({
      ...base,
      head: head.source,
      run: async (c, _why, mayOverlap) => {
        begun.push(c.sha);
        const gate = deferred();
        gates.push(gate);
        if (c.sha !== 'c1') mayOverlap();
        await gate.promise;
        return ok;
      },
    });
    await loop.start();
    await until(() => begun.length === 1);
    loop.kick('reload', true);
    await new Promise((r) => setTimeout(r, 30));
    expect(begun).toEqual(['c0']);
    gates[0]!.resolve();
    await until(() => begun.length === 2);
    expect(begun).toEqual(['c0', 'c0']);
    // c1 never says it may overlap (it is still planning): c2 waits for it to end.
    head.move('c1');
    await until(() => begun.length === 3);
    head.move('c2');
    await new Promise((r) => setTimeout(r, 30));
    expect(begun).toEqual(['c0', 'c0', 'c1']);
    gates[2]!.resolve();
    await until(() => begun.length === 4);
    expect(begun.at(-1)).toBe('c2');
    for (const g of gates) g.resolve();
    gates[3]!.resolve();
    await loop.stop();
  });
});
