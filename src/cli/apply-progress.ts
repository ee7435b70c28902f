// Progress of a long apply without a terminal (issue 14): a line on stderr every interval (default
// 10 s, RGO_PROGRESS_INTERVAL), never on stdout, so `--format json` stays one document. On a terminal
// the per-job lines say as much. The timer and the clock are injectable: tests drive it directly.
import type { SdxClient } from '../core/jobs.js';
import type { ApplyEvent } from '../core/outcome.js';
import type { Plan } from '../core/plan.js';
import { progressLine } from '../report/progress.js';

export interface ProgressTimer {
  /** Call `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
  now(): number;
}

export const realTimer: ProgressTimer = {
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
  now: () => performance.now(),
};

export class ApplyProgress {
  private total = 0;
  private readonly sent = new Set<string>();
  private readonly done = new Set<string>();
  private client: SdxClient | null = null;
  private started = 0;
  private stopTimer: (() => void) | null = null;

  /**
   * @param write where lines go (stderr)
   * @param intervalMs how often (default 10 s)
   */
  constructor(
    private readonly write: (line: string) => void,
    private readonly intervalMs = 10_000,
    private readonly timer: ProgressTimer = realTimer,
  ) {}

  /** The plan is known and the lease held: the count starts, and the timer with it. */
  plan(plan: Plan): void {
    const counted = plan.changes.filter((c) => c.action === 'create' || c.action === 'follow');
    this.total = counted.length;
    if (!this.total || this.stopTimer) return;
    this.started = this.timer.now();
    this.stopTimer = this.timer.every(this.intervalMs, () => this.tick());
  }

  /** The run's SDX client, whose rate-limit queue the line reports. */
  watch(client: SdxClient): SdxClient {
    this.client = client;
    return client;
  }

  onEvent(e: ApplyEvent): void {
    const key = (c: { site_id: string; file: string }) => `${c.site_id}\0${c.file}`;
    if (e.type === 'job-created') this.sent.add(key(e.change));
    if (e.type === 'result' && (e.result.change.action === 'create' || e.result.change.action === 'follow')) {
      this.done.add(key(e.result.change));
      if (e.result.job_id) this.sent.add(key(e.result.change));
    }
  }

  /** One line now. */
  tick(): void {
    const counts = {
      total: this.total,
      sent: Math.min(this.sent.size, this.total),
      done: Math.min(this.done.size, this.total),
      waitingForRateLimit: this.client?.stats().waitingForRateLimit ?? 0,
    };
    this.write(`${progressLine(counts, this.timer.now() - this.started)}\n`);
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = null;
  }
}
