// The SDX jobs API adapter: the only module that talks HTTP to Altostrat (contracts:
// shared/contracts/sdx-api.md, spec/sdx-api.openapi.yaml).
//
// Every request goes through one loop: wait for the rate limiter, send, read at most
// maxResponseBytes, then retry (exponential backoff with full jitter, or the server's Retry-After)
// on network errors, timeouts, 429 and 5xx. Redirects are never followed. The token and any
// password in the base URL are scrubbed from every message and log line, including the wrapped
// errors of undici.
import { Agent, type Dispatcher } from 'undici';
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError, SdxApiError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { toRandom } from '../core/random.js';
import { UUID_RE } from '../core/keys.js';
import { makeRedactor } from '../core/redact.js';
import { isLoopbackHost } from '../core/api-url.js';
import { type RateLimiter, sharedRateLimiter } from './rate-limiter.js';
import { parseErrorBody, parseJob, parseJobList, parseSite, type ShapeResult } from './response-shapes.js';
import type { CancelResult, CreateJobRequest, CreateJobResult, Job, SdxClient, SdxStats, Site } from '../core/jobs.js';

export const DEFAULT_SDX_BASE_URL = 'https://v1.api.altostrat.io';

export interface SdxClientOptions {
  /** API root. Default `https://v1.api.altostrat.io`. A path prefix is kept; `user:password@` is never sent nor shown. */
  readonly baseUrl?: string;
  /** Bearer token (a JWT or an `alto_sk_...` key). Required. Never logged, never in an error. */
  readonly token: string;
  /** Client-side budget shared by every request of this client, retries included. Default 60; 0 = unlimited. */
  readonly requestsPerMinute?: number;
  /** The window `requestsPerMinute` counts over. Default 60_000 ms (tests shrink it). */
  readonly rateLimitWindowMs?: number;
  /**
   * The limiter to use. Default: one per (API origin, token, limit) for the whole process, so every
   * client of the same token shares the server's per-token budget.
   */
  readonly rateLimiter?: RateLimiter;
  /** Retries after the first attempt (network errors, timeouts, 429, 5xx). Default 5. */
  readonly maxRetries?: number;
  /** Backoff ceiling of the first retry; it doubles each retry; the delay is uniform in [0, ceiling]. Default 500 ms. */
  readonly retryBaseDelayMs?: number;
  /** Largest backoff ceiling. Default 30_000 ms. */
  readonly retryMaxDelayMs?: number;
  /** Longest Retry-After honoured; a server asking for more fails the request at once. Default 300_000 ms. */
  readonly maxRetryAfterMs?: number;
  /** TCP and TLS connect timeout. Default 10_000 ms. */
  readonly connectTimeoutMs?: number;
  /** Wait for response headers, and longest silence while reading a body. Default 30_000 ms. */
  readonly requestTimeoutMs?: number;
  /** Largest response body read. Default 4 MiB. */
  readonly maxResponseBytes?: number;
  /** Keep-alive connections to the API host (enough for concurrency 32). Default 32. */
  readonly connections?: number;
  /** Default: silent. */
  readonly logger?: Logger;
  /** Jitter source: a seed (reproducible) or a function returning [0, 1). Default Math.random. */
  readonly random?: number | (() => number);
  /**
   * A 201 answer counts as a replay when the job's created_at is older than the call's start by more
   * than this (clock skew allowance). Default 60_000 ms. 200 and conflict answers are always replays.
   */
  readonly replayClockSkewMs?: number;
  /** Attempts to find the job in the site's list after an idempotency conflict. Default 4. */
  readonly conflictLookupAttempts?: number;
  /** Default `routeros-gitops`. */
  readonly userAgent?: string;
  /**
   * Stops the client: no new request starts once it is aborted (requests waiting for the rate limit
   * or a retry fail at once with code `aborted`), and requests still in flight are cut
   * `abortGraceMs` later. Default: none.
   */
  readonly signal?: AbortSignal;
  /** How long requests in flight may finish after `signal` is aborted. Default 4000 ms. */
  readonly abortGraceMs?: number;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  bytes: number;
  /** Parsed JSON, or undefined when the body is empty or not JSON (see `jsonError`). */
  json: unknown;
  jsonError?: string;
  /** true when an earlier attempt of this exchange may have reached the server (its answer was lost). */
  earlierAttemptMayHaveLanded: boolean;
}

/** An answer as received: status, headers, the body's chunks (or tooLarge: the body was not read). */
interface RawReply {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  chunks: Buffer[];
  bytes: number;
  tooLarge: boolean;
}

interface Exchange {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Asked right before each attempt goes out: a reason cancels the request, unsent. */
  guard?: () => string | null;
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
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND']);

const ERROR_TEXT_MAX = 300;

export function createSdxClient(opts: SdxClientOptions): SdxClient {
  if (typeof opts.token !== 'string' || opts.token.trim() === '') {
    throw new InputError({ file: '(settings)', message: 'the SDX API token is empty', hint: 'set the token (a JWT or an alto_sk_... key)' });
  }
  const token = opts.token.trim();
  const base = parseBaseUrl(opts.baseUrl ?? DEFAULT_SDX_BASE_URL);
  const redact = makeRedactor([token, ...base.secrets]);
  const host = base.url.host;
  const logger = opts.logger ?? silentLogger;
  const random = toRandom(opts.random);
  const maxRetries = nonNegative('maxRetries', opts.maxRetries, 5);
  const retryBaseDelayMs = nonNegative('retryBaseDelayMs', opts.retryBaseDelayMs, 500);
  const retryMaxDelayMs = nonNegative('retryMaxDelayMs', opts.retryMaxDelayMs, 30_000);
  const maxRetryAfterMs = nonNegative('maxRetryAfterMs', opts.maxRetryAfterMs, 300_000);
  const maxResponseBytes = nonNegative('maxResponseBytes', opts.maxResponseBytes, 4 * 1024 * 1024);
  const replayClockSkewMs = nonNegative('replayClockSkewMs', opts.replayClockSkewMs, 60_000);
  const conflictLookupAttempts = Math.max(1, nonNegative('conflictLookupAttempts', opts.conflictLookupAttempts, 4));
  const requestTimeoutMs = nonNegative('requestTimeoutMs', opts.requestTimeoutMs, 30_000);
  const limiter =
    opts.rateLimiter ??
    sharedRateLimiter(
      base.url.origin,
      token,
      nonNegative('requestsPerMinute', opts.requestsPerMinute, 60),
      nonNegative('rateLimitWindowMs', opts.rateLimitWindowMs, 60_000) || 60_000,
    );
  const agent = new Agent({
    connections: Math.max(1, opts.connections ?? 32),
    pipelining: 1,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connect: { timeout: nonNegative('connectTimeoutMs', opts.connectTimeoutMs, 10_000) },
    headersTimeout: requestTimeoutMs,
    bodyTimeout: requestTimeoutMs,
  });
  const userAgent = opts.userAgent ?? 'routeros-gitops';
  // undici's own headers timeout runs on coarse (~0.5 s) timers; this one is exact.
  const deadlines = new HeadersDeadlines(requestTimeoutMs);

  const counters = { requests: 0, retries: 0, byStatus: {} as Record<string, number>, retriesByCause: {} as Record<string, number> };
  const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
  let closed = false;
  const signal = opts.signal;
  const inFlight = new Set<ReplyCollector>();
  if (signal) {
    const hardStop = () => {
      const t = setTimeout(
        () => {
          for (const h of inFlight) h.cut('the run was stopped');
        },
        nonNegative('abortGraceMs', opts.abortGraceMs, 4000),
      );
      t.unref();
    };
    if (signal.aborted) hardStop();
    else signal.addEventListener('abort', hardStop, { once: true });
  }
  const stoppedError = (where: string) => fail(`${where}: not sent, the run was stopped`, 0, 'aborted', undefined, false);

  function fail(what: string, status: number, code: string | undefined, type: string | undefined, retryable: boolean, cause?: unknown): SdxApiError {
    return new SdxApiError(redact(what), status, code, type, retryable, cause === undefined ? undefined : { cause });
  }

  /** A plain copy of an undici/network error: message scrubbed, only the code kept. */
  function wrapNetworkError(err: unknown): Error & { code?: string } {
    const e = err as { message?: unknown; code?: unknown; name?: unknown };
    const copy: Error & { code?: string } = new Error(redact(String(e?.message ?? err)));
    copy.name = typeof e?.name === 'string' ? e.name : 'Error';
    if (typeof e?.code === 'string') copy.code = e.code;
    return copy;
  }

  function backoff(retry: number): number {
    const ceiling = Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** retry);
    return Math.floor(random() * ceiling);
  }

  async function exchange(x: Exchange): Promise<Reply> {
    if (closed) throw fail(`SDX ${x.method} ${x.path}: the client is closed`, 0, 'client_closed', undefined, false);
    const path = base.prefix + x.path;
    const where = `SDX ${x.method} ${x.path}`;
    let earlierAttemptMayHaveLanded = false;
    for (let attempt = 0; ; attempt++) {
      try {
        await limiter.acquire(signal);
      } catch (e) {
        if ((e as Error).name === 'AbortError') throw stoppedError(where);
        throw e;
      }
      const refused = x.guard?.();
      if (refused) throw fail(`${where}: not sent, ${refused}`, 0, 'aborted', undefined, false);
      counters.requests++;
      const started = performance.now();
      let cause: string;
      let lastError: SdxApiError;
      let retryAfterMs: number | undefined;
      try {
        const raw = await send(x, path);
        const reply = readReply(raw, where, earlierAttemptMayHaveLanded);
        bump(counters.byStatus, String(reply.status));
        logger.debug({ method: x.method, path: x.path, status: reply.status, attempt, ms: Math.round(performance.now() - started) }, 'sdx request');
        if (reply.status >= 300 && reply.status < 400) throw redirectError(reply, where);
        if (reply.status !== 429 && reply.status < 500) return reply;
        cause = `http_${reply.status}`;
        lastError = replyError(reply, where);
        retryAfterMs = parseRetryAfter(reply.headers['retry-after']);
        // A 5xx may come after the server acted (a proxy timing out), so the retry may be a replay.
        if (reply.status >= 500) earlierAttemptMayHaveLanded = true;
      } catch (err) {
        if (err instanceof SdxApiError) throw err;
        const wrapped = wrapNetworkError(err);
        const code = wrapped.code ?? 'UNKNOWN';
        bump(counters.byStatus, 'network');
        const mapped = NETWORK_CAUSES[code];
        const retryable = mapped !== undefined;
        if (!NOT_SENT.has(code)) earlierAttemptMayHaveLanded = true;
        const hint = code === 'ENOTFOUND' ? ' (check the SDX base URL)' : '';
        lastError = fail(`${where}: network error talking to ${host}: ${code}: ${wrapped.message}${hint}`, 0, code, 'network_error', retryable, wrapped);
        logger.debug({ method: x.method, path: x.path, error: code, attempt, ms: Math.round(performance.now() - started) }, 'sdx request failed');
        if (!retryable) throw lastError;
        cause = mapped;
      }
      if (attempt >= maxRetries) {
        throw fail(`${lastError.message} (gave up after ${attempt + 1} attempts)`, lastError.status, lastError.code, lastError.type, true, lastError.cause);
      }
      let delay = backoff(attempt);
      if (retryAfterMs !== undefined) {
        if (retryAfterMs > maxRetryAfterMs) {
          throw fail(
            `${lastError.message} (the server asks to retry after ${Math.ceil(retryAfterMs / 1000)} s, longer than maxRetryAfterMs ${maxRetryAfterMs} ms)`,
            lastError.status,
            lastError.code,
            lastError.type,
            true,
          );
        }
        delay = retryAfterMs;
        // The server throttles the token, not this request: hold every request of the client.
        if (cause === 'http_429') limiter.pause(retryAfterMs);
      }
      counters.retries++;
      bump(counters.retriesByCause, cause);
      logger.warn({ method: x.method, path: x.path, attempt: attempt + 1, cause, delayMs: delay, error: lastError.message }, 'sdx request failed; retrying');
      if (delay > 0) {
        try {
          await sleep(delay, undefined, { signal });
        } catch {
          throw stoppedError(where);
        }
      }
    }
  }

  /**
   * One attempt: send the request and collect the answer, with the exact headers deadline and the
   * response size limit (a larger body is not read). Driven by undici's handler callbacks directly:
   * no AbortController, timer, stream or async iterator per request.
   */
  function send(x: Exchange, path: string): Promise<RawReply> {
    return new Promise<RawReply>((resolve, reject) => {
      const h = new ReplyCollector(
        maxResponseBytes,
        (r) => {
          inFlight.delete(h);
          resolve(r);
        },
        (e) => {
          inFlight.delete(h);
          reject(e);
        },
        deadlines,
      );
      inFlight.add(h);
      deadlines.add(h);
      agent.dispatch(
        {
          origin: base.url.origin,
          path,
          method: x.method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            'user-agent': userAgent,
            ...x.headers,
          },
          body: x.body,
        },
        h,
      );
    });
  }

  function readReply(res: RawReply, where: string, earlierAttemptMayHaveLanded: boolean): Reply {
    const declared = Number(res.headers['content-length']);
    if (res.tooLarge) {
      throw fail(
        `${where}: HTTP ${res.statusCode} from ${host}: response body larger than ${maxResponseBytes} bytes (maxResponseBytes); not read`,
        res.statusCode,
        'response_too_large',
        undefined,
        false,
      );
    }
    const bytes = res.bytes;
    const text = res.chunks.length === 1 ? res.chunks[0]!.toString('utf8') : Buffer.concat(res.chunks).toString('utf8');
    const contentType = String(res.headers['content-type'] ?? '');
    const reply: Reply = { status: res.statusCode, headers: res.headers, text, bytes, json: undefined, earlierAttemptMayHaveLanded };
    const trimmed = text.trimStart();
    if (/json/i.test(contentType) || trimmed.startsWith('{') || trimmed.startsWith('[')) {
      if (trimmed === '') {
        if (/json/i.test(contentType)) reply.jsonError = 'empty body';
      } else {
        try {
          reply.json = JSON.parse(text);
        } catch (e) {
          reply.jsonError = `${(e as Error).message}${declared > bytes ? ', truncated' : ''}`;
        }
      }
    }
    return reply;
  }

  function redirectError(reply: Reply, where: string): SdxApiError {
    let target = 'no Location header';
    const loc = first(reply.headers.location);
    if (loc) {
      try {
        const u = new URL(loc, base.url);
        target = u.host === host ? `to ${u.pathname} on the same host` : `to another host, ${u.host}`;
      } catch {
        target = 'to an unparsable Location';
      }
    }
    return fail(
      `${where}: HTTP ${reply.status} redirect from ${host} ${target}; redirects are not followed (check the SDX base URL)`,
      reply.status,
      'redirect',
      undefined,
      false,
    );
  }

  /** The SdxApiError for a non-success answer, from ErrorResponse, the gateway's {message}, or anything else. */
  function replyError(reply: Reply, where: string): SdxApiError {
    const retryable = reply.status === 429 || reply.status >= 500;
    const body = reply.json === undefined ? undefined : parseErrorBody(reply.json);
    const contentType = first(reply.headers['content-type']);
    let detail: string;
    if (body) {
      detail = `HTTP ${reply.status}${body.code ? ` ${body.code}` : ''}: ${clip(body.message ?? '(no message)')}`;
    } else if (reply.text.trim() === '') {
      detail = `HTTP ${reply.status} from ${host} (empty body)`;
    } else if (reply.jsonError !== undefined || reply.json !== undefined) {
      detail = `HTTP ${reply.status} from ${host} (JSON without a message${reply.jsonError ? `: ${reply.jsonError}` : ''})`;
    } else {
      detail = `HTTP ${reply.status} from ${host} (not JSON${contentType ? `, ${contentType.split(';')[0]}` : ''})`;
    }
    if (reply.status === 401) detail += ' - the SDX API token was refused: check it is valid and not expired';
    if (reply.status === 403) detail += ' - the SDX API token may not act on this site';
    return fail(`${where}: ${detail}`, reply.status, body?.code, body?.type, retryable);
  }

  function shapeError(reply: Reply, where: string, problem: string, extra = ''): SdxApiError {
    return fail(
      `${where}: HTTP ${reply.status} from ${host}: unexpected response, ${clip(problem)}${extra}`,
      reply.status,
      'malformed_response',
      undefined,
      false,
    );
  }

  function decode<T>(reply: Reply, where: string, parse: (v: unknown) => ShapeResult<T>, extra = ''): T {
    if (reply.json === undefined) {
      const why =
        reply.jsonError !== undefined
          ? `body is not valid JSON (${reply.jsonError}, ${reply.bytes} bytes)`
          : `body is not JSON (${first(reply.headers['content-type']) ?? 'no content type'}, ${reply.bytes} bytes)`;
      throw shapeError(reply, where, why, extra);
    }
    const parsed = parse(reply.json);
    if (!parsed.ok) throw shapeError(reply, where, parsed.problem, extra);
    return parsed.value;
  }

  function isConflict(reply: Reply): boolean {
    if (reply.status === 409) return true;
    if (reply.status !== 400 && reply.status !== 422) return false;
    const body = reply.json === undefined ? undefined : parseErrorBody(reply.json);
    return /idempot|conflict|duplicate|already.?(exists|used)/i.test(`${body?.code ?? ''} ${body?.message ?? ''}`);
  }

  async function listJobs(siteId: string): Promise<Job[]> {
    checkUuid('siteId', siteId);
    const path = `/site/${siteId}/job`;
    const reply = await exchange({ method: 'GET', path });
    if (reply.status !== 200) throw replyError(reply, `SDX GET ${path}`);
    return decode(reply, `SDX GET ${path}`, parseJobList).map((j) => withSite(j, siteId));
  }

  async function findByKey(siteId: string, key: string, conflict: Reply, where: string): Promise<Job> {
    for (let i = 0; i < conflictLookupAttempts; i++) {
      const job = (await listJobs(siteId)).find((j) => j.idempotency_key.toLowerCase() === key.toLowerCase());
      if (job) return job;
      // The conflicting job may not be listed yet (replication lag); look again shortly.
      if (i + 1 < conflictLookupAttempts) await sleep(Math.max(1, backoff(i)));
    }
    const server = replyError(conflict, where);
    throw fail(
      `${server.message} - the server reports idempotency key ${key} as used, but no job with that key is in the site's job list (looked ${conflictLookupAttempts} times)`,
      conflict.status,
      server.code ?? 'idempotency_conflict',
      server.type,
      false,
    );
  }

  return {
    async createJob(req: CreateJobRequest): Promise<CreateJobResult> {
      checkUuid('siteId', req.siteId);
      checkUuid('idempotencyKey', req.idempotencyKey);
      if (!/^[\x20-\x7e]{3,100}$/.test(req.description)) {
        throw new InputError({
          file: '(sdx request)',
          site: req.siteId,
          message: `job description ${JSON.stringify(req.description.slice(0, 120))} must be 3..100 printable ASCII characters (it travels as the X-Description header)`,
        });
      }
      if (req.script.length === 0) throw new InputError({ file: '(sdx request)', site: req.siteId, message: 'the job script is empty' });
      const callStarted = Date.now();
      const path = `/site/${req.siteId}/job`;
      const where = `SDX POST ${path}`;
      const reply = await exchange({
        method: 'POST',
        path,
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          'x-idempotency-key': req.idempotencyKey,
          'x-description': req.description,
          'x-needs-ack': String(req.needsAck),
          'x-backup': String(req.backup),
          'x-express-execute': String(req.express),
        },
        body: req.script,
        guard: req.guard,
      });
      if (reply.status >= 200 && reply.status < 300) {
        const job = withSite(decode(reply, where, parseJob, '; the job may have been created: retrying with the same idempotency key is safe'), req.siteId);
        if (job.idempotency_key.toLowerCase() !== req.idempotencyKey.toLowerCase()) {
          throw shapeError(reply, where, `the job has idempotency key ${job.idempotency_key}, not ${req.idempotencyKey}`);
        }
        const created = Date.parse(job.created_at);
        const replayed = reply.status !== 201 || (Number.isFinite(created) && created < callStarted - replayClockSkewMs);
        if (reply.earlierAttemptMayHaveLanded) logger.debug({ path, jobId: job.id, status: reply.status }, 'sdx job created after a lost answer');
        return { job, replayed };
      }
      if (isConflict(reply)) {
        logger.debug({ path, status: reply.status }, 'sdx idempotency conflict; finding the job by key');
        return { job: await findByKey(req.siteId, req.idempotencyKey, reply, where), replayed: true };
      }
      throw replyError(reply, where);
    },

    listJobs,

    async getJob(siteId: string, jobId: string): Promise<Job> {
      checkUuid('siteId', siteId);
      checkUuid('jobId', jobId);
      const path = `/site/${siteId}/job/${jobId}`;
      const reply = await exchange({ method: 'GET', path });
      if (reply.status !== 200) throw replyError(reply, `SDX GET ${path}`);
      return withSite(decode(reply, `SDX GET ${path}`, parseJob), siteId);
    },

    async cancelJob(siteId: string, jobId: string): Promise<CancelResult> {
      checkUuid('siteId', siteId);
      checkUuid('jobId', jobId);
      const path = `/site/${siteId}/job/${jobId}`;
      const reply = await exchange({ method: 'DELETE', path });
      if (reply.status === 200 || reply.status === 202 || reply.status === 204) return 'cancelled';
      const body = reply.json === undefined ? undefined : parseErrorBody(reply.json);
      if ((reply.status === 400 || reply.status === 409 || reply.status === 422) && body?.code === 'job_already_started') return 'already_started';
      // An earlier attempt whose answer was lost probably cancelled it: the job is gone either way.
      if (reply.status === 404) return reply.earlierAttemptMayHaveLanded ? 'cancelled' : 'not_found';
      throw replyError(reply, `SDX DELETE ${path}`);
    },

    async getSite(siteId: string): Promise<Site> {
      checkUuid('siteId', siteId);
      const path = `/sites/${siteId}`;
      const reply = await exchange({ method: 'GET', path });
      if (reply.status !== 200) throw replyError(reply, `SDX GET ${path}`);
      return decode(reply, `SDX GET ${path}`, parseSite);
    },

    stats(): SdxStats {
      return { requests: counters.requests, retries: counters.retries, byStatus: { ...counters.byStatus }, retriesByCause: { ...counters.retriesByCause } };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await agent.close();
    },
  };
}

/**
 * The requests waiting for response headers, oldest first. Every request of a client has the same
 * timeout, so deadlines come in the order requests start: one timer, set for the oldest, serves them
 * all (a timer and an AbortController per request cost more than the rest of the client).
 */
class HeadersDeadlines {
  private head: ReplyCollector | null = null;
  private tail: ReplyCollector | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly timeoutMs: number) {}

  add(h: ReplyCollector): void {
    h.deadline = performance.now() + this.timeoutMs;
    h.prev = this.tail;
    h.next = null;
    if (this.tail) this.tail.next = h;
    else this.head = h;
    this.tail = h;
    h.listed = true;
    if (this.timer === null) this.arm(h.deadline);
  }

  remove(h: ReplyCollector): void {
    if (!h.listed) return;
    h.listed = false;
    if (h.prev) h.prev.next = h.next;
    else this.head = h.next;
    if (h.next) h.next.prev = h.prev;
    else this.tail = h.prev;
    h.prev = h.next = null;
    // An idle client keeps no timer (it would hold the process open); otherwise the timer, set for
    // an earlier deadline, finds the new oldest when it fires.
    if (this.head === null && this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private arm(at: number): void {
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - performance.now()));
  }

  private expire(): void {
    this.timer = null;
    const now = performance.now();
    // Deadlines are in order; a request is due once its deadline is reached (within the timer's
    // millisecond rounding).
    while (this.head !== null && this.head.deadline <= now + 1) {
      const h = this.head;
      this.remove(h);
      h.timeOut(this.timeoutMs);
    }
    if (this.head !== null) this.arm(this.head.deadline);
  }
}

/** The only response headers the client reads; the others are not decoded at all. */
const READ_HEADERS = new Set(['content-type', 'content-length', 'retry-after', 'location']);
const READ_HEADER_LENGTHS = new Set([...READ_HEADERS].map((h) => h.length));

/** Those headers, as undici's parseHeaders would give them (lower-case names; repeated ones as arrays). */
function pickHeaders(raw: Buffer[]): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    if (!READ_HEADER_LENGTHS.has(key.length)) continue;
    const name = key.toString('latin1').toLowerCase();
    if (!READ_HEADERS.has(name)) continue;
    const value = raw[i + 1]!.toString('utf8');
    const had = out[name];
    out[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return out;
}

/** undici's dispatch handler for one attempt: collects the answer, enforcing the size limit. */
class ReplyCollector implements Dispatcher.DispatchHandler {
  deadline = 0;
  prev: ReplyCollector | null = null;
  next: ReplyCollector | null = null;
  listed = false;
  private abort: ((err?: Error) => void) | null = null;
  private failure: Error | null = null;
  private settled = false;
  private statusCode = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly resolve: (r: RawReply) => void,
    private readonly reject: (e: unknown) => void,
    private readonly deadlines: HeadersDeadlines,
  ) {}

  /** Cut the request (the run is stopping). */
  cut(why: string): void {
    const e: Error & { code?: string } = new Error(why);
    e.code = 'UND_ERR_ABORTED';
    this.stop(e);
  }

  timeOut(ms: number): void {
    const e: Error & { code?: string } = new Error(`no response headers within ${ms} ms`);
    e.code = 'UND_ERR_HEADERS_TIMEOUT';
    this.stop(e);
  }

  /** End the request with `err` (now, or as soon as undici starts it). */
  private stop(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    if (this.abort) this.abort(err);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.failure) abort(this.failure);
    else this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true;
    this.deadlines.remove(this);
    this.statusCode = statusCode;
    this.headers = pickHeaders(rawHeaders);
    const declared = Number(this.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.maxBytes) {
      this.tooLarge();
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      this.tooLarge();
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    this.deadlines.remove(this);
    if (this.settled) return;
    this.settled = true;
    this.resolve({ statusCode: this.statusCode, headers: this.headers, chunks: this.chunks, bytes: this.bytes, tooLarge: false });
  }

  onError(err: Error): void {
    this.deadlines.remove(this);
    if (this.settled) return;
    this.settled = true;
    this.reject(this.failure ?? err);
  }

  /** The body is larger than the limit: answer so, and drop the connection rather than read it. */
  private tooLarge(): void {
    if (!this.settled) {
      this.settled = true;
      this.resolve({ statusCode: this.statusCode, headers: this.headers, chunks: [], bytes: this.bytes, tooLarge: true });
    }
    this.chunks = [];
    this.stop(new Error('response body larger than maxResponseBytes'));
  }
}

function withSite(job: Job, siteId: string): Job {
  return job.site_id ? job : { ...job, site_id: siteId };
}

function checkUuid(name: string, value: string): void {
  if (typeof value !== 'string' || !UUID_RE.test(value)) {
    throw new InputError({
      file: '(sdx request)',
      message: `${name} ${JSON.stringify(String(value).slice(0, 60))} is not a UUID (expected the form 9a9a3e6f-1b1a-4b1a-8c1a-1e1a1a1a1a1a)`,
    });
  }
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0)
    throw new InputError({ file: '(settings)', message: `SDX client option ${name} must be a number >= 0, got ${String(value)}` });
  return value;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > ERROR_TEXT_MAX ? `${one.slice(0, ERROR_TEXT_MAX)}...` : one;
}

/** Retry-After as delay-seconds or an HTTP-date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = first(value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** The base URL without credentials, its path prefix, and the secrets it carried (to scrub). */
function parseBaseUrl(raw: string): { url: URL; prefix: string; secrets: string[] } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Say which part is wrong without repeating a value that may hold a password.
    throw new InputError({ file: '(settings)', message: 'the SDX base URL is not a valid URL', hint: 'use the form https://v1.api.altostrat.io' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError({
      file: '(settings)',
      message: `the SDX base URL must be http(s), got ${url.protocol}`,
      hint: 'use the form https://v1.api.altostrat.io',
    });
  }
  // The token never crosses a network in clear text (entry points check this first, naming the source).
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new InputError({
      file: '(settings)',
      message: 'the SDX base URL uses plain http to a host that is not this machine; the token would cross the network in clear text',
      hint: 'use https (plain http is accepted only for loopback addresses: 127.0.0.0/8, ::1, localhost)',
    });
  }
  const secrets: string[] = [];
  if (url.password) secrets.push(url.password, safeDecode(url.password), `${url.username}:${url.password}`);
  if (url.username && url.password) secrets.push(`${safeDecode(url.username)}:${safeDecode(url.password)}`);
  url.username = '';
  url.password = '';
  return { url, prefix: url.pathname.replace(/\/+$/, ''), secrets };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
