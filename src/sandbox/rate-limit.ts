// The sandbox's per-token rate limit (the rateLimit setting): a sliding window of request times per
// token, answered as the real API's gateway does (429, X-RateLimit-*, and Retry-After unless off).
import type { Answer } from './answers.js';
import { SANDBOX_DEFAULTS } from './options.js';
import type { SandboxSettings } from './settings.js';

export class TokenRateLimit {
  private readonly windows = new Map<string, number[]>();

  /**
   * @param settings read live (rateLimit); call clear() when it changes
   * @param now milliseconds; default the real clock. The limit counts real time even when the
   *   routers run on a manual clock: clients wait for it in real time.
   */
  constructor(
    private readonly settings: SandboxSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Count one request of `token`: undefined when allowed, else the 429 to answer. */
  check(token: string): Answer | undefined {
    const wait = this.take(token);
    if (wait === undefined) return undefined;
    const rl = this.settings.rateLimit;
    return {
      status: 429,
      body: { message: 'Too Many Attempts.' },
      headers: {
        'x-ratelimit-limit': String(rl?.requestsPerMinute ?? SANDBOX_DEFAULTS.rateLimitRequestsPerMinute),
        'x-ratelimit-remaining': '0',
        ...(rl?.retryAfter !== false && { 'retry-after': String(wait) }),
      },
    };
  }

  clear(): void {
    this.windows.clear();
  }

  /** Sliding window per token; undefined when allowed, else seconds until a slot frees. */
  private take(token: string): number | undefined {
    const rl = this.settings.rateLimit;
    const limit = rl?.requestsPerMinute ?? SANDBOX_DEFAULTS.rateLimitRequestsPerMinute;
    if (!rl || limit <= 0) return undefined;
    const windowMs = rl.windowMs ?? SANDBOX_DEFAULTS.rateLimitWindowMs;
    const now = this.now();
    const w = this.windows.get(token) ?? [];
    while (w.length > 0 && w[0]! <= now - windowMs) w.shift();
    this.windows.set(token, w);
    if (w.length < limit) {
      w.push(now);
      return undefined;
    }
    return Math.max(1, Math.ceil((w[0]! + windowMs - now) / 1000));
  }
}
