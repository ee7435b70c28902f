// The daemon's parts on their own (no git, no SDX): the /status cache and the shutdown bound on an
// injected clock, what an error means for the loop, the event fan-out, a run's record.
import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/core/clock.js';
import { InputError } from '../src/core/errors.js';
import { silentLogger } from '../src/core/logger.js';
import type { ApplyEvent } from '../src/core/outcome.js';
import type { CommitInfo } from '../src/core/ports.js';
import { type EventSink, failedRun, fanOut, recordRun } from '../src/daemon/daemon-run.js';
import { cachedSiteStatus, startDaemon } from '../src/daemon/daemon.js';
import { DaemonMetrics } from '../src/daemon/metrics.js';
import type { HeadSource } from '../src/daemon/watch-loop.js';

/** A clock that moves only when told: `sleep` resolves when `fire()` is called (or its signal aborts). */
function manualClock(start = 1_000_000): Clock & { advance(ms: number): void; fire(): void; sleeping(): number } {
  let now = start;
  const sleepers = new Set<() => void>();
  return {
    now: () => now,
    advance: (ms) => void (now += ms),
    sleep: (_ms, signal) =>
      new Promise<void>((resolve) => {
        const done = () => {
          sleepers.delete(done);
          resolve();
        };
        if (signal?.aborted) return resolve();
        sleepers.add(done);
        signal?.addEventListener('abort', done, { once: true });
      }),
    fire: () => {
      for (const s of [...sleepers]) s();
    },
    sleeping: () => sleepers.size,
  };
}

const commit: CommitInfo = { sha: 'a'.repeat(40), subject: 'change', time: '2025-01-02T03:04:05Z' };

async function until(cond: () => boolean, what: string) {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('daemon parts', () => {
  it('serves /status from one read per second of the injected clock', async () => {
    const clock = manualClock();
    let reads = 0;
    const status = cachedSiteStatus(async () => ({ state: `read ${++reads}`, sites: [] }), clock);
    expect((await status()).state).toBe('read 1');
    clock.advance(1000);
    expect((await status()).state).toBe('read 1');
    clock.advance(1);
    expect((await status()).state).toBe('read 2');
    expect(reads).toBe(2);
  });

  it('stops after shutdownTimeoutMs by its clock when the run in progress does not end, with exit code 1', async () => {
    const clock = manualClock();
    const stop = new AbortController();
    let runStarted = false;
    const head: HeadSource = {
      mode: 'local',
      describe: 'main',
      refresh: async () => {},
      resolve: async () => commit,
      watch: async () => {},
      close: async () => {},
    };
    const daemon = await startDaemon({
      head,
      settings: () => {
        throw new Error('never reached: the run waits on its sink');
      },
      siteStatus: async () => ({ state: 'x', sites: [] }),
      // The run in progress hangs (as a run following a job would): only the bound can end the stop.
      runSink: () => {
        runStarted = true;
        return new Promise<EventSink | null>(() => {});
      },
      intervalMs: 3_600_000,
      retryIntervalMs: 3_600_000,
      jitter: 0,
      shutdownTimeoutMs: 30_000,
      signal: stop.signal,
      logger: silentLogger,
      clock,
    });
    await until(() => runStarted, 'the run to start');
    let code: number | undefined;
    void daemon.done.then((c) => (code = c));
    stop.abort(new Error('SIGTERM'));
    await until(() => clock.sleeping() === 1, 'the stop to wait on the clock');
    // Real time does not end the wait; the clock does.
    await new Promise((r) => setTimeout(r, 20));
    expect(code).toBeUndefined();
    clock.fire();
    expect(await daemon.done).toBe(1);
  });

  it('tells the loop what an error means: an invalid commit is not retried, anything else is', () => {
    const signal = new AbortController().signal;
    const invalid = failedRun(new InputError({ file: 'sites/a/site.yaml', line: 2, message: 'id is not a UUID' }), signal);
    expect(invalid).toEqual({ error: 'sites/a/site.yaml:2: id is not a UUID', report: { result: 'invalid', retry: false, followUp: false } });
    expect(failedRun(new Error('git fetch failed'), signal)).toEqual({ error: 'git fetch failed', report: { result: 'error', retry: true, followUp: false } });
  });

  it('gives every sink every event, even after one throws', () => {
    const seen: string[] = [];
    const sinks: EventSink[] = [
      { onEvent: () => seen.push('first') },
      {
        onEvent: () => {
          throw new Error('broken sink');
        },
      },
      { onEvent: () => seen.push('third') },
    ];
    fanOut(sinks, silentLogger)({ type: 'run-started' } as unknown as ApplyEvent);
    expect(seen).toEqual(['first', 'third']);
  });

  it('records a run with the times of its clock, and the commit time of a succeeded one in the metrics', () => {
    const metrics = new DaemonMetrics({ mode: 'local' });
    metrics.reconcileBegins();
    const run = recordRun(metrics, commit, { result: null, error: 'boom', report: { result: 'error', retry: true, followUp: false } }, 1_000, 3_500);
    expect(run).toMatchObject({
      started_at: '1970-01-01T00:00:01.000Z',
      finished_at: '1970-01-01T00:00:03.500Z',
      duration_ms: 2500,
      result: 'error',
      error: 'boom',
    });
    expect(metrics.reconciling).toBe(false);
    expect(metrics.lastAppliedCommitTime).toBeNull();
    recordRun(metrics, commit, { result: null, error: null, report: { result: 'succeeded', retry: false, followUp: false } }, 0, 1);
    expect(metrics.lastAppliedCommitTime).toBe(Date.parse(commit.time) / 1000);
  });
});
