// Group commit: while one write is in flight, new updates accumulate and all go into the next
// write, so 32 lanes recording at once cost a couple of commits, not 32. Every caller's promise
// settles with the write that carried its updates.
import type { StateUpdate } from '../core/state.js';

export interface WriteQueue {
  /** Queue updates for the next write; resolves when that write is stored. */
  push(updates: readonly StateUpdate[]): Promise<void>;
  /** Run `fn` with no write in flight (writes queued meanwhile wait for it). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Resolves when every update queued so far has been written (or has failed). */
  drain(): Promise<void>;
}

interface Waiter {
  updates: readonly StateUpdate[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface WriteQueueOptions {
  /**
   * Least time between the starts of two writes. Updates arriving meanwhile join the next write, so a
   * steady stream of outcomes (1,000 a second from 32 lanes) costs a few commits a second instead of
   * one git process pair per few updates, which would take the CPU the lanes need. Default 0.
   */
  readonly minIntervalMs?: number;
}

export function createWriteQueue(write: (updates: StateUpdate[]) => Promise<void>, options: WriteQueueOptions = {}): WriteQueue {
  const minInterval = options.minIntervalMs ?? 0;
  let lastStart = -Infinity;
  let tail: Promise<unknown> = Promise.resolve();
  let pending: Waiter[] = [];
  let scheduled = false;

  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => {});
    return run;
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    void exclusive(async () => {
      const wait = lastStart + minInterval - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      scheduled = false;
      lastStart = performance.now();
      const batch = pending;
      pending = [];
      try {
        await write(batch.flatMap((w) => w.updates));
        for (const w of batch) w.resolve();
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    });
  };

  return {
    push(updates) {
      if (updates.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        pending.push({ updates, resolve, reject });
        schedule();
      });
    },
    exclusive,
    drain: () => exclusive(async () => {}),
  };
}
