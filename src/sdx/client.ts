// The SDX jobs API adapter: the only module that talks HTTP to Altostrat (contracts:
// shared/contracts/sdx-api.md, spec/sdx-api.openapi.yaml).
//
// Every request goes through one loop (transport.ts): wait for the rate limiter, send, read at most
// maxResponseBytes, then retry (exponential backoff with full jitter, or the server's Retry-After)
// on network errors, timeouts, 429 and 5xx. Redirects are never followed. The token and any
// password in the base URL are scrubbed from every message and log line, including the wrapped
// errors of undici (reply.ts). This file checks the options and holds the job operations.
import { Agent } from 'undici';
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError, SdxApiError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { toRandom } from '../core/random.js';
import { UUID_RE } from '../core/keys.js';
import { makeRedactor } from '../core/redact.js';
import { parseBaseUrl } from './base-url.js';
import { type RateLimiter, sharedRateLimiter } from './rate-limiter.js';
import { isConflict, type Reply, SdxErrors } from './reply.js';
import { parseErrorBody, parseJob, parseJobList, parseSite, parseSitePage, type SitePage } from './response-shapes.js';
import { SdxTransport } from './transport.js';
import { ACCESS_PATH, accessError } from './access.js';
import type { CancelResult, CreateJobRequest, CreateJobResult, Job, SdxClient, SdxStats, Site, SiteSummary } from '../core/jobs.js';

export { parseRetryAfter } from './transport.js';

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
  /**
   * Also hides these values in the client's errors (template secrets: a server may quote a job's
   * body back), before a long message is cut. Default: only the token and the base URL's secrets.
   */
  readonly redact?: (text: string) => string;
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
  /** Wall clock in ms since the epoch: a call's start (replay detection) and Retry-After dates. Default Date.now. */
  readonly now?: () => number;
}

/** What the job operations work with. */
interface ClientContext {
  readonly transport: SdxTransport;
  /** The API base URL as shown (no credentials). */
  readonly apiUrl: string;
  readonly errors: SdxErrors;
  readonly logger: Logger;
  readonly now: () => number;
  readonly replayClockSkewMs: number;
  readonly conflictLookupAttempts: number;
  /** The access check's answer (the first page of sites), read once by the next listSites: one request, not two. */
  accessPage?: Reply;
}

export function createSdxClient(opts: SdxClientOptions): SdxClient {
  const ctx = resolveClient(opts);
  return {
    createJob: (req) => createJob(ctx, req),
    listJobs: (siteId) => listJobs(ctx, siteId),
    getJob: (siteId, jobId) => getJob(ctx, siteId, jobId),
    cancelJob: (siteId, jobId) => cancelJob(ctx, siteId, jobId),
    getSite: (siteId) => getSite(ctx, siteId),
    listSites: () => listSites(ctx),
    checkAccess: () => checkAccess(ctx),
    stats: (): SdxStats => ctx.transport.stats(),
    close: () => ctx.transport.close(),
  };
}

/** The options checked, with their defaults, and the parts built from them. */
function resolveClient(opts: SdxClientOptions): ClientContext {
  if (typeof opts.token !== 'string' || opts.token.trim() === '') {
    throw new InputError({ file: '(settings)', message: 'the SDX API token is empty', hint: 'set the token (a JWT or an alto_sk_... key)' });
  }
  const token = opts.token.trim();
  const base = parseBaseUrl(opts.baseUrl ?? DEFAULT_SDX_BASE_URL);
  const own = makeRedactor([token, ...base.secrets]);
  const extra = opts.redact;
  const errors = new SdxErrors(extra ? (t) => own(extra(t)) : own, base.url);
  const logger = opts.logger ?? silentLogger;
  const random = toRandom(opts.random);
  const now = opts.now ?? Date.now;
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
  const abortGraceMs = opts.signal ? nonNegative('abortGraceMs', opts.abortGraceMs, 4000) : 0;
  const transport = new SdxTransport({
    base,
    token,
    userAgent: opts.userAgent ?? 'routeros-gitops',
    agent,
    limiter,
    errors,
    logger,
    random,
    now,
    maxRetries,
    retryBaseDelayMs,
    retryMaxDelayMs,
    maxRetryAfterMs,
    maxResponseBytes,
    requestTimeoutMs,
    signal: opts.signal,
    abortGraceMs,
  });
  return { transport, apiUrl: errors.apiUrl, errors, logger, now, replayClockSkewMs, conflictLookupAttempts };
}

async function createJob(ctx: ClientContext, req: CreateJobRequest): Promise<CreateJobResult> {
  checkJobRequest(req);
  const callStarted = ctx.now();
  const path = `/site/${req.siteId}/job`;
  const where = `SDX POST ${path}`;
  const reply = await ctx.transport.exchange({
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
    const job = withSite(
      ctx.errors.decode(reply, where, parseJob, '; the job may have been created: retrying with the same idempotency key is safe'),
      req.siteId,
    );
    if (job.idempotency_key.toLowerCase() !== req.idempotencyKey.toLowerCase()) {
      throw ctx.errors.shape(reply, where, `the job has idempotency key ${job.idempotency_key}, not ${req.idempotencyKey}`);
    }
    const created = Date.parse(job.created_at);
    const replayed = reply.status !== 201 || (Number.isFinite(created) && created < callStarted - ctx.replayClockSkewMs);
    if (reply.earlierAttemptMayHaveLanded) ctx.logger.debug({ path, jobId: job.id, status: reply.status }, 'sdx job created after a lost answer');
    return { job, replayed };
  }
  if (isConflict(reply)) {
    ctx.logger.debug({ path, status: reply.status }, 'sdx idempotency conflict; finding the job by key');
    return { job: await findByKey(ctx, req.siteId, req.idempotencyKey, reply, where), replayed: true };
  }
  throw ctx.errors.reply(reply, where);
}

function checkJobRequest(req: CreateJobRequest): void {
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
}

async function listJobs(ctx: ClientContext, siteId: string): Promise<Job[]> {
  checkUuid('siteId', siteId);
  const path = `/site/${siteId}/job`;
  const reply = await ctx.transport.exchange({ method: 'GET', path });
  if (reply.status !== 200) throw ctx.errors.reply(reply, `SDX GET ${path}`);
  return ctx.errors.decode(reply, `SDX GET ${path}`, parseJobList).map((j) => withSite(j, siteId));
}

async function getJob(ctx: ClientContext, siteId: string, jobId: string): Promise<Job> {
  checkUuid('siteId', siteId);
  checkUuid('jobId', jobId);
  const path = `/site/${siteId}/job/${jobId}`;
  const reply = await ctx.transport.exchange({ method: 'GET', path });
  if (reply.status !== 200) throw ctx.errors.reply(reply, `SDX GET ${path}`);
  return withSite(ctx.errors.decode(reply, `SDX GET ${path}`, parseJob), siteId);
}

async function cancelJob(ctx: ClientContext, siteId: string, jobId: string): Promise<CancelResult> {
  checkUuid('siteId', siteId);
  checkUuid('jobId', jobId);
  const path = `/site/${siteId}/job/${jobId}`;
  const reply = await ctx.transport.exchange({ method: 'DELETE', path });
  if (reply.status === 200 || reply.status === 202 || reply.status === 204) return 'cancelled';
  const body = reply.json === undefined ? undefined : parseErrorBody(reply.json);
  if ((reply.status === 400 || reply.status === 409 || reply.status === 422) && body?.code === 'job_already_started') return 'already_started';
  // An earlier attempt whose answer was lost probably cancelled it: the job is gone either way.
  if (reply.status === 404) return reply.earlierAttemptMayHaveLanded ? 'cancelled' : 'not_found';
  throw ctx.errors.reply(reply, `SDX DELETE ${path}`);
}

async function getSite(ctx: ClientContext, siteId: string): Promise<Site> {
  checkUuid('siteId', siteId);
  const path = `/sites/${siteId}`;
  const reply = await ctx.transport.exchange({ method: 'GET', path });
  if (reply.status !== 200) throw ctx.errors.reply(reply, `SDX GET ${path}`);
  return ctx.errors.decode(reply, `SDX GET ${path}`, parseSite);
}

/** Most pages followed when the site list is paged (a loop in the API's links must end). */
const MAX_SITE_PAGES = 1000;

/**
 * Every site of the token (GET /site-minimal). The first request is the access check: a server that
 * cannot be reached is not retried, and every failure of it is an SdxAccessError (exit 3).
 */
async function listSites(ctx: ClientContext): Promise<SiteSummary[]> {
  const sites: SiteSummary[] = [];
  let path: string | null = ACCESS_PATH;
  for (let page = 0; path !== null; page++) {
    if (page >= MAX_SITE_PAGES)
      throw ctx.errors.fail(`SDX GET ${ACCESS_PATH}: more than ${MAX_SITE_PAGES} pages of sites`, 200, 'too_many_pages', undefined, false);
    const where: string = `SDX GET ${path}`;
    let reply: Reply;
    try {
      const kept = page === 0 ? ctx.accessPage : undefined;
      ctx.accessPage = undefined;
      reply = kept ?? (await ctx.transport.exchange({ method: 'GET', path, failFast: page === 0 }));
      if (reply.status !== 200) throw ctx.errors.reply(reply, where);
    } catch (e) {
      throw page === 0 ? accessError(e, ctx.apiUrl) : e;
    }
    const parsed: SitePage = page === 0 ? decodeOrAccessError(ctx, reply, where) : ctx.errors.decode(reply, where, parseSitePage);
    sites.push(...parsed.sites);
    path = parsed.next === null ? null : nextPagePath(ctx, parsed.next);
  }
  return sites;
}

function decodeOrAccessError(ctx: ClientContext, reply: Reply, where: string): SitePage {
  try {
    return ctx.errors.decode(reply, where, parseSitePage);
  } catch (e) {
    throw accessError(e, ctx.apiUrl);
  }
}

/** The next page's path under the API base, refused when it points at another server. */
function nextPagePath(ctx: ClientContext, next: string): string {
  const base = new URL(`${ctx.apiUrl}/`);
  const url = new URL(next, base);
  if (url.origin !== base.origin)
    throw ctx.errors.fail(`SDX GET ${ACCESS_PATH}: the next page is on another server (${url.host}); not followed`, 200, 'foreign_page', undefined, false);
  const prefix = base.pathname.replace(/\/+$/, '');
  const path = url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length) : url.pathname;
  return path + url.search;
}

/**
 * The access check before a run sends anything: one GET /site-minimal, not retried when the server
 * cannot be reached. Its body is not needed: an answer too large to read still shows the token works.
 */
async function checkAccess(ctx: ClientContext): Promise<void> {
  try {
    const reply = await ctx.transport.exchange({ method: 'GET', path: ACCESS_PATH, failFast: true });
    if (reply.status !== 200) throw ctx.errors.reply(reply, `SDX GET ${ACCESS_PATH}`);
    if (reply.json === undefined) throw ctx.errors.shape(reply, `SDX GET ${ACCESS_PATH}`, 'the body is not JSON');
    ctx.accessPage = reply;
  } catch (e) {
    if (e instanceof SdxApiError && e.code === 'response_too_large' && e.status === 200) return;
    throw accessError(e, ctx.apiUrl);
  }
}

/** After an idempotency conflict: the job that holds the key, from the site's list. */
async function findByKey(ctx: ClientContext, siteId: string, key: string, conflict: Reply, where: string): Promise<Job> {
  const attempts = ctx.conflictLookupAttempts;
  for (let i = 0; i < attempts; i++) {
    const job = (await listJobs(ctx, siteId)).find((j) => j.idempotency_key.toLowerCase() === key.toLowerCase());
    if (job) return job;
    // The conflicting job may not be listed yet (replication lag); look again shortly.
    if (i + 1 < attempts) await sleep(Math.max(1, ctx.transport.backoff(i)));
  }
  const server = ctx.errors.reply(conflict, where);
  throw ctx.errors.fail(
    `${server.message} - the server reports idempotency key ${key} as used, but no job with that key is in the site's job list (looked ${attempts} times)`,
    conflict.status,
    server.code ?? 'idempotency_conflict',
    server.type,
    false,
  );
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
