// Group commit: while one write is in flight, new updates accumulate and all go into the next
// write, so 32 lanes recording at once cost a couple of commits, not 32. Every caller's promise
// settles with the write that carried its updates.
//
// Pacing: a write starts at least minIntervalMs after the previous one started. While a burst is
// in flight (updates arrived during the previous write), the next write waits longer, until the
// burst pauses for minIntervalMs or maxIntervalMs have passed since the previous write started,
// whichever is first: a steady stream of outcomes then costs about one write per maxIntervalMs
// (each write is a few git processes, whose start takes the CPU the lanes need), and an update is
// still stored within about maxIntervalMs plus one write. drain() writes what is queued at once.
import type { StateUpdate } from '../core/state.js';

export interface WriteQueue {
  /** Queue updates for the next write; resolves when that write is stored. */
  push(updates: readonly StateUpdate[]): Promise<void>;
  /** Run `fn` with no write in flight (writes queued meanwhile wait for it). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Write what is queued without waiting for the interval; resolves when every update queued so far is written (or has failed). */
  drain(): Promise<void>;
}

interface Waiter {
  updates: readonly StateUpdate[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface WriteQueueOptions {
  /**
   * Least time between the starts of two writes. Updates arriving meanwhile join the next write, so
   * a trickle of outcomes costs at most a few commits a second. Default 0.
   */
  readonly minIntervalMs?: number;
  /**
   * Longest time between the starts of two writes while a burst is in flight (see the top of this
   * file). Default: minIntervalMs (no stretching).
   */
  readonly maxIntervalMs?: number;
  /** A monotonic clock in ms, for the pacing. Default performance.now. */
  readonly now?: () => number;
}

export function createWriteQueue(write: (updates: StateUpdate[]) => Promise<void>, options: WriteQueueOptions = {}): WriteQueue {
  return new PacedWriteQueue(write, options);
}

class PacedWriteQueue implements WriteQueue {
  private readonly minInterval: number;
  private readonly maxInterval: number;
  private readonly now: () => number;
  private lastStart = -Infinity;
  private lastPush = -Infinity;
  /** Updates arrived while the previous write was in flight: a burst is going on. */
  private busy = false;
  private writing = false;
  private tail: Promise<unknown> = Promise.resolve();
  private pending: Waiter[] = [];
  private scheduled = false;
  private flushNow = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly write: (updates: StateUpdate[]) => Promise<void>,
    options: WriteQueueOptions,
  ) {
    this.minInterval = options.minIntervalMs ?? 0;
    this.maxInterval = Math.max(this.minInterval, options.maxIntervalMs ?? this.minInterval);
    this.now = options.now ?? (() => performance.now());
  }

  push(updates: readonly StateUpdate[]): Promise<void> {
    if (updates.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ updates, resolve, reject });
      this.lastPush = this.now();
      if (this.writing) this.busy = true;
      this.schedule();
    });
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => {});
    return run;
  }

  drain(): Promise<void> {
    if (this.scheduled) {
      this.flushNow = true;
      this.wake?.();
    }
    return this.exclusive(async () => {});
  }

  /** When the next write may start, as things stand now. */
  private startAt(): number {
    if (this.flushNow) return -Infinity;
    const earliest = this.lastStart + this.minInterval;
    if (!this.busy) return earliest;
    return Math.max(earliest, Math.min(this.lastStart + this.maxInterval, this.lastPush + this.minInterval));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    void this.exclusive(async () => {
      await this.waitForStart();
      this.scheduled = false;
      this.flushNow = false;
      await this.writeBatch();
    });
  }

  /** Wait until startAt(), re-checked after each wait: more updates may have come (the burst goes on) or a drain asked for the write now. */
  private async waitForStart(): Promise<void> {
    for (let wait = this.startAt() - this.now(); wait > 0; wait = this.startAt() - this.now()) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, wait);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wake = null;
    }
  }

  /** Write every pending update in one write; each caller's promise settles with it. */
  private async writeBatch(): Promise<void> {
    this.lastStart = this.now();
    const batch = this.pending;
    this.pending = [];
    this.writing = true;
    this.busy = false;
    try {
      await this.write(batch.flatMap((w) => w.updates));
      for (const w of batch) w.resolve();
    } catch (e) {
      for (const w of batch) w.reject(e);
    } finally {
      this.writing = false;
    }
  }
}
