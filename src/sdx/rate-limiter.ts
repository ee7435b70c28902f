// Client-side request budget: at most `limit` request starts in any sliding window of `windowMs`.
// A sliding window never exceeds a server's fixed-window or sliding-window limit of the same size,
// where a token bucket of the same size could send up to twice the limit within one window.
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';

export class RateLimiter {
  private readonly starts: number[] = [];
  private pausedUntil = 0;
  private tail: Promise<void> = Promise.resolve();

  /**
   * @param limit requests per window; 0 = unlimited (pauses from 429 Retry-After still apply)
   * @param windowMs window length, default 60_000 (a minute)
   */
  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!Number.isFinite(limit) || limit < 0) throw new RangeError(`rate limit must be a number >= 0, got ${limit}`);
    if (!(windowMs > 0)) throw new RangeError(`rate limit window must be > 0 ms, got ${windowMs}`);
  }

  /**
   * Resolves when the caller may start one request. Callers are served in arrival order. With a
   * signal, an abort rejects at once (an AbortError) and the caller's turn is skipped: it takes no
   * slot of the budget.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.limit === 0 && this.pausedUntil <= this.now()) return Promise.resolve();
    const turn = this.tail.then(() => {
      if (signal?.aborted) throw abortError(signal);
      return this.take(signal);
    });
    this.tail = turn.catch(() => undefined);
    if (!signal) return turn;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      turn.then(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  /** Hold every request for `ms` (the server said Retry-After for this token). */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }

  private async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.now();
      if (this.pausedUntil > now) {
        await sleep(Math.ceil(this.pausedUntil - now), undefined, { signal });
        continue;
      }
      if (this.limit === 0) return;
      while (this.starts.length > 0 && this.starts[0]! <= now - this.windowMs) this.starts.shift();
      if (this.starts.length < this.limit) {
        this.starts.push(now);
        return;
      }
      await sleep(Math.max(1, Math.ceil(this.starts[0]! + this.windowMs - now)), undefined, { signal });
    }
  }
}

function abortError(signal: AbortSignal): Error {
  const e = new Error(`aborted: ${(signal.reason as Error | undefined)?.message ?? 'the run was stopped'}`);
  e.name = 'AbortError';
  return e;
}

const shared = new Map<string, RateLimiter>();

/**
 * The process-wide limiter for one (API origin, token, limit, window): clients built with the same
 * token share one budget, as the server counts per token. The token is only kept as a hash.
 */
export function sharedRateLimiter(origin: string, token: string, limit: number, windowMs: number): RateLimiter {
  const key = `${origin}|${createHash('sha256').update(token).digest('hex')}|${limit}|${windowMs}`;
  let limiter = shared.get(key);
  if (!limiter) {
    limiter = new RateLimiter(limit, windowMs);
    shared.set(key, limiter);
  }
  return limiter;
}
