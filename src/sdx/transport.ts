// The one loop every SDX request goes through: wait for the rate limiter, send, read at most
// maxResponseBytes, then retry (exponential backoff with full jitter, or the server's Retry-After)
// on network errors, timeouts, 429 and 5xx. Redirects are never followed. Counts what it did.
import type { Dispatcher } from 'undici';
import { setTimeout as sleep } from 'node:timers/promises';
import { SdxApiError } from '../core/errors.js';
import { CANNOT_CONNECT, isTlsCode, networkCause } from '../core/sdx-failure.js';
import type { Logger } from '../core/logger.js';
import type { SdxStats } from '../core/jobs.js';
import type { BaseUrl } from './base-url.js';
import type { RateLimiter } from './rate-limiter.js';
import { decodeReply, first, type Reply, type SdxErrors } from './reply.js';
import { HeadersDeadlines, type RawReply, ReplyCollector } from './reply-collector.js';

export interface Exchange {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Asked right before each attempt goes out (after the rate limit, between retries): a reason cancels the request, unsent. */
  guard?: () => string | null;
  /**
   * A server that cannot be reached (connection refused, DNS, connect timeout, TLS) is not retried:
   * the check made before anything is sent fails at once. Default false (retried like any fault).
   */
  failFast?: boolean;
}

/** Everything the loop needs, resolved (see SdxClientOptions for each setting and its default). */
export interface TransportConfig {
  readonly base: BaseUrl;
  readonly token: string;
  readonly userAgent: string;
  readonly agent: Dispatcher;
  readonly limiter: RateLimiter;
  readonly errors: SdxErrors;
  readonly logger: Logger;
  /** Jitter source, [0, 1). */
  readonly random: () => number;
  /** Wall clock in ms (Retry-After dates). */
  readonly now: () => number;
  readonly maxRetries: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly maxRetryAfterMs: number;
  readonly maxResponseBytes: number;
  readonly requestTimeoutMs: number;
  readonly signal?: AbortSignal;
  readonly abortGraceMs: number;
}

const NETWORK_CAUSES: Record<string, string> = {
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  ECONNABORTED: 'connection_reset',
  UND_ERR_SOCKET: 'socket_closed',
  ECONNREFUSED: 'connection_refused',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ENETDOWN: 'unreachable',
  EAI_AGAIN: 'dns',
  ETIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
};

/** Errors after which the request certainly did not reach the server (safe to say "not sent"). */
const NOT_SENT = CANNOT_CONNECT;

/** A failed attempt that may be retried. */
interface Failed {
  cause: string;
  error: SdxApiError;
  retryAfterMs: number | undefined;
}

const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

export class SdxTransport {
  private readonly counters = { requests: 0, retries: 0, byStatus: {} as Record<string, number>, retriesByCause: {} as Record<string, number> };
  /** Requests waiting for the rate limiter now. */
  private waiting = 0;
  /**
   * Set once a request gave up on a server that cannot be reached (every retry refused, no such
   * host...): the server is gone for this client, and later requests fail at once, unsent, instead
   * of each retrying for a minute. A new client (the next run) tries again.
   */
  private lost: SdxApiError | null = null;
  private readonly inFlight = new Set<ReplyCollector>();
  // undici's own headers timeout runs on coarse (~0.5 s) timers; this one is exact.
  private readonly deadlines: HeadersDeadlines;
  private closed = false;

  constructor(private readonly c: TransportConfig) {
    this.deadlines = new HeadersDeadlines(c.requestTimeoutMs);
    const signal = c.signal;
    if (signal) {
      const hardStop = () => {
        const t = setTimeout(() => {
          for (const h of this.inFlight) h.cut('the run was stopped');
        }, c.abortGraceMs);
        t.unref();
      };
      if (signal.aborted) hardStop();
      else signal.addEventListener('abort', hardStop, { once: true });
    }
  }

  /** Send one request, retrying as the top of this file says; resolves with the first answer that is not retried. */
  async exchange(x: Exchange): Promise<Reply> {
    if (this.closed) throw this.c.errors.fail(`SDX ${x.method} ${x.path}: the client is closed`, 0, 'client_closed', undefined, false);
    const path = this.c.base.prefix + x.path;
    const where = `SDX ${x.method} ${x.path}`;
    if (this.lost) throw this.lostContact(where, this.lost);
    const landed = { value: false };
    for (let attempt = 0; ; attempt++) {
      this.waiting++;
      try {
        await this.c.limiter.acquire(this.c.signal);
      } catch (e) {
        if ((e as Error).name === 'AbortError') throw this.stopped(where);
        throw e;
      } finally {
        this.waiting--;
      }
      const refused = x.guard?.();
      if (refused) throw this.c.errors.fail(`${where}: not sent, ${refused}`, 0, 'aborted', undefined, false);
      this.counters.requests++;
      const started = performance.now();
      let result: Reply | Failed;
      try {
        result = this.judgeReply(await this.send(x, path), x, where, attempt, started, landed);
      } catch (err) {
        if (err instanceof SdxApiError) throw err;
        result = this.judgeNetworkError(err, x, where, attempt, started, landed);
      }
      if (!('cause' in result)) return result;
      await this.waitToRetry(x, where, attempt, result);
    }
  }

  /** Backoff before retry number `retry` (0-based): uniform in [0, min(max, base * 2^retry)]. */
  backoff(retry: number): number {
    const ceiling = Math.min(this.c.retryMaxDelayMs, this.c.retryBaseDelayMs * 2 ** retry);
    return Math.floor(this.c.random() * ceiling);
  }

  stats(): SdxStats {
    const c = this.counters;
    return {
      requests: c.requests,
      retries: c.retries,
      byStatus: { ...c.byStatus },
      retriesByCause: { ...c.retriesByCause },
      waitingForRateLimit: this.waiting,
    };
  }

  isClosed(): boolean {
    return this.closed;
  }

  /** No request starts from now on; the agent's connections are closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.c.agent.close();
  }

  /** Why an attempt ended: the answer to return, or what failed when it may be retried (otherwise it throws). */
  private judgeReply(raw: RawReply, x: Exchange, where: string, attempt: number, started: number, landed: { value: boolean }): Reply | Failed {
    if (raw.tooLarge) throw this.c.errors.tooLarge(raw, where, this.c.maxResponseBytes);
    const reply = decodeReply(raw, landed.value);
    bump(this.counters.byStatus, String(reply.status));
    this.c.logger.debug({ method: x.method, path: x.path, status: reply.status, attempt, ms: Math.round(performance.now() - started) }, 'sdx request');
    if (reply.status >= 300 && reply.status < 400) throw this.c.errors.redirect(reply, where);
    if (reply.status !== 429 && reply.status < 500) return reply;
    // A 5xx may come after the server acted (a proxy timing out), so the retry may be a replay.
    if (reply.status >= 500) landed.value = true;
    return {
      cause: `http_${reply.status}`,
      error: this.c.errors.reply(reply, where),
      retryAfterMs: parseRetryAfter(reply.headers['retry-after'], this.c.now()),
    };
  }

  /** A network error: retried when it is one of NETWORK_CAUSES (thrown otherwise). */
  private judgeNetworkError(err: unknown, x: Exchange, where: string, attempt: number, started: number, landed: { value: boolean }): Failed {
    const wrapped = this.c.errors.network(err);
    const code = wrapped.code ?? 'UNKNOWN';
    bump(this.counters.byStatus, 'network');
    const mapped = NETWORK_CAUSES[code];
    const cannotConnect = NOT_SENT.has(code) || isTlsCode(code);
    const retryable = mapped !== undefined && !(x.failFast && cannotConnect);
    if (!NOT_SENT.has(code)) landed.value = true;
    const hint = code === 'ENOTFOUND' ? ' (check the SDX base URL)' : '';
    // Words first ("connection refused"), the code and undici's text after, for whoever debugs it.
    const error = this.c.errors.fail(
      `${where}: ${cannotConnect ? 'could not reach' : 'no answer from'} SDX at ${this.c.errors.apiUrl} (${networkCause(code)}; ${code}: ${wrapped.message})${hint}`,
      0,
      code,
      'network_error',
      retryable,
      wrapped,
    );
    this.c.logger.debug({ method: x.method, path: x.path, error: code, attempt, ms: Math.round(performance.now() - started) }, 'sdx request failed');
    if (!retryable) throw error;
    return { cause: mapped, error, retryAfterMs: undefined };
  }

  /** A request refused without being sent: the server was lost earlier in this client's life. */
  private lostContact(where: string, lost: SdxApiError): SdxApiError {
    return this.c.errors.fail(
      `${where}: not sent, lost contact with SDX at ${this.c.errors.apiUrl} (${networkCause(lost.code)}) earlier in this run`,
      0,
      lost.code,
      'network_error',
      false,
    );
  }

  /** Give up after maxRetries, or wait the backoff (or the server's Retry-After) before the next attempt. */
  private async waitToRetry(x: Exchange, where: string, attempt: number, f: Failed): Promise<void> {
    const { error, cause, retryAfterMs } = f;
    if (attempt >= this.c.maxRetries) {
      const final = this.c.errors.fail(`${error.message} (gave up after ${attempt + 1} attempts)`, error.status, error.code, error.type, true, error.cause);
      if (error.status === 0 && error.code && NOT_SENT.has(error.code)) this.lost = final;
      throw final;
    }
    let delay = this.backoff(attempt);
    if (retryAfterMs !== undefined) {
      if (retryAfterMs > this.c.maxRetryAfterMs) {
        throw this.c.errors.fail(
          `${error.message} (the server asks to retry after ${Math.ceil(retryAfterMs / 1000)} s, longer than maxRetryAfterMs ${this.c.maxRetryAfterMs} ms)`,
          error.status,
          error.code,
          error.type,
          true,
        );
      }
      delay = retryAfterMs;
      // The server throttles the token, not this request: hold every request of the client.
      if (cause === 'http_429') this.c.limiter.pause(retryAfterMs);
    }
    this.counters.retries++;
    bump(this.counters.retriesByCause, cause);
    this.c.logger.warn({ method: x.method, path: x.path, attempt: attempt + 1, cause, delayMs: delay, error: error.message }, 'sdx request failed; retrying');
    if (delay > 0) {
      try {
        await sleep(delay, undefined, { signal: this.c.signal });
      } catch {
        throw this.stopped(where);
      }
    }
  }

  private stopped(where: string): SdxApiError {
    return this.c.errors.fail(`${where}: not sent, the run was stopped`, 0, 'aborted', undefined, false);
  }

  /**
   * One attempt: send the request and collect the answer, with the exact headers deadline and the
   * response size limit (a larger body is not read). Driven by undici's handler callbacks directly:
   * no AbortController, timer, stream or async iterator per request.
   */
  private send(x: Exchange, path: string): Promise<RawReply> {
    return new Promise<RawReply>((resolve, reject) => {
      const h = new ReplyCollector(
        this.c.maxResponseBytes,
        (r) => {
          this.inFlight.delete(h);
          resolve(r);
        },
        (e) => {
          this.inFlight.delete(h);
          reject(e);
        },
        this.deadlines,
      );
      this.inFlight.add(h);
      this.deadlines.add(h);
      this.c.agent.dispatch(
        {
          origin: this.c.base.url.origin,
          path,
          method: x.method,
          headers: {
            authorization: `Bearer ${this.c.token}`,
            accept: 'application/json',
            'user-agent': this.c.userAgent,
            ...x.headers,
          },
          body: x.body,
        },
        h,
      );
    });
  }
}

/** Retry-After as delay-seconds or an HTTP-date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = first(value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
