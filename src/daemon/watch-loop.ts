// The reconcile loop's schedule, in the shape of Flux's kustomize-controller: a run per new head,
// an interval (fetch or re-check), a retry interval with backoff after a transient failure, a
// follow-up while jobs are pending, jitter on every timer. A new head does not wait for an earlier
// run that is only following its jobs: a run says when the next may begin (once its intents are
// stored), and runs then overlap (the apply takes each site over from the older run, site-turns.ts).
// Whatever arrives before that is coalesced into one next run at the newest head; a head a run is
// still working on is not run again until that run ends. No git, no SDX here: the head source and
// the run are passed in.
import type { CommitInfo } from '../core/ports.js';
import type { Logger } from '../core/logger.js';
import type { RunResult } from './metrics.js';

/** The followed ref: a local branch (watched) or a remote's branch (fetched). */
export interface HeadSource {
  readonly mode: 'local' | 'remote';
  /** What is followed, for logs and /healthz: "HEAD", "origin/main". */
  readonly describe: string;
  /** Bring the ref up to date: `git fetch` in remote mode; nothing in local mode. */
  refresh(): Promise<void>;
  /** The commit the ref points to now. */
  resolve(): Promise<CommitInfo>;
  /** Call `onChange` whenever the ref may have moved; resolves once watching. */
  watch(onChange: (why: string) => void): Promise<void>;
  close(): Promise<void>;
}

export interface RunReport {
  result: RunResult;
  /** A transient failure: run the same head again after the retry interval, with backoff. */
  retry: boolean;
  /** Jobs are still pending: run again after the retry interval to record their outcomes. */
  followUp: boolean;
}

export interface WatchLoopOptions {
  readonly head: HeadSource;
  /**
   * One reconcile at `commit`. Never throws: a failure is a report with `retry`. It calls
   * `mayOverlap` once a newer run may begin beside it (its intents are stored; only its jobs are left
   * to follow); until then, or until it ends, the next run waits.
   */
  readonly run: (commit: CommitInfo, why: string, mayOverlap: () => void) => Promise<RunReport>;
  /** Remote mode: fetch this often. Local mode: re-check the ref this often (a safety net). */
  readonly intervalMs: number;
  /** First delay after a transient failure, and the follow-up delay while jobs are pending. */
  readonly retryIntervalMs: number;
  /** Consecutive failures double the retry delay up to this. Default 10 × retryIntervalMs. */
  readonly maxRetryIntervalMs?: number;
  /** Every timer is randomised by ± this fraction, so a fleet of daemons does not fetch in step. Default 0.1. */
  readonly jitter?: number;
  readonly logger: Logger;
  /** Default Math.random. */
  readonly random?: () => number;
}

export interface LoopSnapshot {
  /** The last head resolved. */
  head: CommitInfo | null;
  /** The last head a run finished for (retries aside): a new commit is one that differs from it. */
  lastReconciled: string | null;
  /** The head of the last run started. */
  lastAttempted: string | null;
  running: boolean;
  consecutiveFailures: number;
  /** When the next retry or follow-up run is due (ISO 8601), or null. */
  nextRetryAt: string | null;
}

export class WatchLoop {
  private readonly opts: WatchLoopOptions;
  private readonly random: () => number;
  private stopped = false;
  private wanted = false;
  private force = false;
  private readonly reasons = new Set<string>();
  private draining: Promise<void> | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryAt: number | null = null;
  private failures = 0;
  private fetchFailures = 0;
  private head: CommitInfo | null = null;
  private lastReconciled: string | null = null;
  private lastAttempted: string | null = null;
  /** Runs not ended yet, by commit: their reports. */
  private readonly active = new Map<string, Promise<RunReport>>();
  /** The newest run begun: only its report schedules retries and follow-ups. */
  private newest = 0;

  constructor(opts: WatchLoopOptions) {
    this.opts = opts;
    this.random = opts.random ?? Math.random;
  }

  /** Start watching, then the first run (which also follows jobs a previous process left pending). */
  async start(): Promise<void> {
    await this.opts.head.watch((why) => this.kick(why));
    // Stopped while the watcher was starting: it was not there to be closed then.
    if (this.stopped) return this.opts.head.close();
    void this.poll('start');
  }

  /** Ask for a run: at once when idle, else once the current run ends. `force`: even at the same head. */
  kick(why: string, force = false): void {
    if (this.stopped) return;
    this.wanted = true;
    this.force ||= force;
    this.reasons.add(why);
    this.ensureDraining();
  }

  private ensureDraining(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      // A kick that landed between the drain's last check and its end.
      if (this.wanted && !this.stopped) this.ensureDraining();
    });
  }

  /** Stop intake (watcher, timers) and wait for the runs in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.clearRetry();
    await this.opts.head.close().catch((e: unknown) => this.opts.logger.warn({ err: (e as Error).message }, 'closing the ref watcher failed'));
    await this.draining;
    await Promise.all(this.active.values());
  }

  snapshot(): LoopSnapshot {
    return {
      head: this.head,
      lastReconciled: this.lastReconciled,
      lastAttempted: this.lastAttempted,
      running: this.active.size > 0,
      consecutiveFailures: this.failures,
      nextRetryAt: this.retryAt === null ? null : new Date(this.retryAt).toISOString(),
    };
  }

  /** The interval tick: refresh the ref (fetch), ask for a run, and schedule the next tick. */
  private async poll(why: string): Promise<void> {
    this.pollTimer = null;
    let delay = this.jittered(this.opts.intervalMs);
    try {
      await this.opts.head.refresh();
      this.fetchFailures = 0;
    } catch (e) {
      // A failed fetch is retried on the retry interval, with backoff, not left until the next interval.
      this.fetchFailures++;
      delay = Math.min(delay, this.backoff(this.fetchFailures));
      this.opts.logger.warn(
        { event: 'fetch-failed', ref: this.opts.head.describe, err: (e as Error).message, retry_in_ms: delay },
        'could not fetch the followed branch; retrying',
      );
    }
    if (this.stopped) return;
    this.kick(why);
    this.pollTimer = setTimeout(() => void this.poll('interval'), delay);
  }

  private async drain(): Promise<void> {
    while (this.wanted && !this.stopped) {
      this.wanted = false;
      const force = this.force;
      this.force = false;
      const why = [...this.reasons].join(', ');
      this.reasons.clear();

      // 1. Resolve the followed ref (after any number of coalesced changes: the newest head).
      let head: CommitInfo;
      try {
        head = await this.opts.head.resolve();
      } catch (e) {
        this.failures++;
        const delay = this.backoff(this.failures);
        this.opts.logger.warn(
          { event: 'resolve-failed', ref: this.opts.head.describe, err: (e as Error).message, retry_in_ms: delay },
          'could not resolve the followed ref; retrying',
        );
        this.scheduleRetry(delay, false);
        continue;
      }
      if (this.stopped) break;
      this.head = head;

      // 2. A run at this very head is still going: nothing new (a forced run, a retry, asks again
      //    once it ends). Never waited for here: a newer head must not wait behind it.
      const same = this.active.get(head.sha);
      if (same) {
        if (force) void same.then(() => this.kick(why, true));
        else this.opts.logger.debug({ commit: head.sha, why }, 'a run at this head is in progress');
        continue;
      }

      // 3. Nothing new: the head was reconciled already, or is waiting for its retry's backoff.
      const backingOff = this.retryTimer !== null && head.sha === this.lastAttempted;
      if (!force && (head.sha === this.lastReconciled || backingOff)) {
        this.opts.logger.debug({ commit: head.sha, why }, backingOff ? 'same head; waiting for its retry' : 'no new commit');
        continue;
      }

      // 4. Run. A new commit does not wait for an older one's retry, nor for its jobs to be followed.
      this.clearRetry();
      this.lastAttempted = head.sha;
      const overlap = await this.begin(head, why);
      if (overlap === 'interrupted' || this.stopped) break;
    }
  }

  /** Begin a run at `head`; resolves once a newer run may begin beside it, or with its report's result when it ended first. */
  private begin(head: CommitInfo, why: string): Promise<'overlap' | RunReport['result']> {
    const seq = ++this.newest;
    let mayOverlap!: () => void;
    const overlapping = new Promise<'overlap'>((resolve) => (mayOverlap = () => resolve('overlap')));
    const report = this.opts.run(head, why, mayOverlap);
    this.active.set(head.sha, report);
    const ended = report.then((r) => {
      if (this.active.get(head.sha) === report) this.active.delete(head.sha);
      if (seq === this.newest) this.schedule(head, r);
      return r.result;
    });
    return Promise.race([overlapping, ended]);
  }

  /** What the newest run's result asks for: a retry with backoff, or a follow-up for pending jobs. */
  private schedule(head: CommitInfo, report: RunReport): void {
    if (report.result === 'interrupted' || this.stopped) return;
    if (report.retry) {
      this.failures++;
      this.scheduleRetry(this.backoff(this.failures), true);
    } else {
      this.failures = 0;
      this.lastReconciled = head.sha;
      if (report.followUp) this.scheduleRetry(this.jittered(this.opts.retryIntervalMs), true);
    }
  }

  /** `force`: run even at the same head (a retry or a follow-up; not after a failed resolve). */
  private scheduleRetry(delay: number, force: boolean): void {
    this.clearRetry();
    if (this.stopped) return;
    this.retryAt = Date.now() + delay;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retryAt = null;
      this.kick('retry', force);
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryAt = null;
  }

  /** retryInterval × 2^(n-1), capped, jittered. */
  private backoff(n: number): number {
    const max = this.opts.maxRetryIntervalMs ?? this.opts.retryIntervalMs * 10;
    return this.jittered(Math.min(max, this.opts.retryIntervalMs * 2 ** Math.max(0, n - 1)));
  }

  private jittered(ms: number): number {
    const j = this.opts.jitter ?? 0.1;
    return Math.max(0, Math.round(ms * (1 + j * (2 * this.random() - 1))));
  }
}
