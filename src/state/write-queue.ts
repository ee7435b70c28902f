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
}

export function createWriteQueue(write: (updates: StateUpdate[]) => Promise<void>, options: WriteQueueOptions = {}): WriteQueue {
  const minInterval = options.minIntervalMs ?? 0;
  const maxInterval = Math.max(minInterval, options.maxIntervalMs ?? minInterval);
  let lastStart = -Infinity;
  let lastPush = -Infinity;
  /** Updates arrived while the previous write was in flight: a burst is going on. */
  let busy = false;
  let writing = false;
  let tail: Promise<unknown> = Promise.resolve();
  let pending: Waiter[] = [];
  let scheduled = false;
  let flushNow = false;
  let wake: (() => void) | null = null;

  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => {});
    return run;
  };

  /** When the next write may start, as things stand now. */
  const startAt = (): number => {
    if (flushNow) return -Infinity;
    const earliest = lastStart + minInterval;
    if (!busy) return earliest;
    return Math.max(earliest, Math.min(lastStart + maxInterval, lastPush + minInterval));
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    void exclusive(async () => {
      // Re-check after each wait: more updates may have come (the burst goes on) or a drain asked
      // for the write now.
      for (let wait = startAt() - performance.now(); wait > 0; wait = startAt() - performance.now()) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, wait);
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
        wake = null;
      }
      scheduled = false;
      flushNow = false;
      lastStart = performance.now();
      const batch = pending;
      pending = [];
      writing = true;
      busy = false;
      try {
        await write(batch.flatMap((w) => w.updates));
        for (const w of batch) w.resolve();
      } catch (e) {
        for (const w of batch) w.reject(e);
      } finally {
        writing = false;
      }
    });
  };

  return {
    push(updates) {
      if (updates.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        pending.push({ updates, resolve, reject });
        lastPush = performance.now();
        if (writing) busy = true;
        schedule();
      });
    },
    exclusive,
    drain() {
      if (scheduled) {
        flushNow = true;
        wake?.();
      }
      return exclusive(async () => {});
    },
  };
}
