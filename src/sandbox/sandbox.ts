// A faithful local double of the SDX jobs API (shared/contracts/sdx-api.md): validates every request
// as the seed spec says, models the job lifecycle through simulated routers that check in, and makes
// each unknown of the real API a setting (sandbox-options.ts). Usable in-process (tests) and from
// another process (the `sandbox` CLI command) through the admin endpoints under /_sandbox/.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { codePointLength } from '../core/code-points.js';
import { silentLogger } from '../core/logger.js';
import { randomUuid, seededRandom } from '../core/random.js';
import { UUID_RE } from '../core/keys.js';
import {
  FAULT_KINDS,
  SANDBOX_DEFAULTS,
  type FaultKind,
  type ReplayAnswer,
  type SandboxClock,
  type SandboxFaultOptions,
  type SandboxOptions,
  type SandboxRateLimitOptions,
  type SandboxSiteOptions,
} from './options.js';
import type { Job, Site } from '../core/jobs.js';

export * from './options.js';

/** A job as the sandbox stores it: always with its script, whether it was cancelled (DELETE), and whether SDX lost it. */
export interface SandboxJob extends Job {
  script: string;
  cancelled: boolean;
  /** SDX no longer knows it (see Sandbox.forgetJob): 404, never listed, its key free. */
  forgotten?: boolean;
}

export interface SandboxStats {
  /** API requests received (not /_sandbox/). */
  requests: number;
  /** POST /site/{id}/job requests received, valid or not. */
  posts: number;
  /** "POST 201", "GET 200", "POST reset" (connection reset by a fault), ... */
  byMethodStatus: Record<string, number>;
  jobsCreated: number;
  /** POSTs answered as a replay of an existing key. */
  replays: number;
  /** Replays whose script or description differed from the original job's. */
  replayMismatches: number;
  /** Faults injected, by kind. */
  faults: Record<string, number>;
  /** 429 answers from the rate limit (not from faults). */
  rateLimited: number;
}

export interface SandboxRequestRecord {
  method: string;
  path: string;
  /** The HTTP status answered, or 'reset' when the connection was reset instead. */
  status: number | 'reset';
  idempotencyKey?: string;
  fault?: FaultKind;
}

/** Settings that can change while the sandbox runs (see Sandbox.configure). */
export type SandboxRuntimeSettings = Pick<
  SandboxOptions,
  | 'replayAnswer'
  | 'deleteStatus'
  | 'deleteStartedStatus'
  | 'latencyMs'
  | 'faults'
  | 'rateLimit'
  | 'maxScriptLength'
  | 'keyRetentionMs'
  | 'cancelledJobs'
  | 'failMarker'
  | 'checkinIntervalMs'
  | 'expressDelayMs'
  | 'runMs'
  | 'autoSites'
>;

export interface Sandbox {
  /** `http://127.0.0.1:<port>`: the base URL to give the client. */
  readonly url: string;
  /** The first accepted token. */
  readonly token: string;
  /** Jobs in creation order (of one site, or all), cancelled ones included, as copies. */
  jobs(siteId?: string): SandboxJob[];
  /** How many jobs were created for (site, idempotency key): 1 is exactly-once. */
  createdCount(siteId: string, idempotencyKey: string): number;
  createdCounts(): Array<{ siteId: string; idempotencyKey: string; count: number }>;
  stats(): SandboxStats;
  /** The API requests received, oldest first (the last 10 000). */
  requests(): SandboxRequestRecord[];
  /** Forget every job, counter and request; sites back to their configured state. Settings stay. */
  reset(): void;
  /** Take a router offline (it stops checking in; its jobs stay queued) or bring it back. */
  setOnline(siteId: string, online: boolean): void;
  addSite(site: SandboxSiteOptions): void;
  /** Make a router check in now (when online). */
  checkin(siteId: string): void;
  /** Delete a site in SDX: every request about it answers 404 from now on (autoSites does not bring it back). */
  removeSite(siteId: string): void;
  /** Cancel a queued job as someone outside routeros-gitops would (false: it already started, or is unknown). */
  cancelJob(jobId: string): boolean;
  /** Lose a job, as a server that forgets would: it answers 404 from now on, and its key is free. */
  forgetJob(jobId: string): boolean;
  /** Change settings while running. */
  configure(patch: SandboxRuntimeSettings): void;
  close(): Promise<void>;
}

interface SiteState {
  cfg: SandboxSiteOptions;
  online: boolean;
  lastSeenAt: number | null;
  busy: boolean;
  nextCheckinAt: number | null;
  cancelCheckin: (() => void) | null;
  cancelRun: (() => void) | null;
}

interface Answer {
  status: number;
  body?: unknown;
  /** Raw body with its content type, instead of JSON. */
  raw?: { contentType: string; text: string };
  headers?: Record<string, string>;
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const MAX_LOG = 10_000;
const DOC = 'https://docs.altostrat.io/errors/';
const BOOLEAN_HEADERS = ['x-needs-ack', 'x-backup', 'x-express-execute'] as const;
const HEADER_NAMES: Record<string, string> = {
  'x-idempotency-key': 'X-Idempotency-Key',
  'x-description': 'X-Description',
  'x-needs-ack': 'X-Needs-Ack',
  'x-backup': 'X-Backup',
  'x-express-execute': 'X-Express-Execute',
};
const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The real clock; timers do not keep the process alive. */
export const realClock: SandboxClock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

/** A clock that only moves when told: `advance(ms)` fires due router timers in order. */
export function createManualClock(startMs = Date.UTC(2025, 0, 1)): SandboxClock & { advance(ms: number): void } {
  let now = startMs;
  let seq = 0;
  let timers: Array<{ at: number; seq: number; fn: () => void; live: boolean }> = [];
  return {
    now: () => now,
    setTimer(fn, ms) {
      const t = { at: now + Math.max(0, ms), seq: seq++, fn, live: true };
      timers.push(t);
      return () => {
        t.live = false;
      };
    },
    advance(ms) {
      const target = now + Math.max(0, ms);
      for (;;) {
        timers = timers.filter((t) => t.live);
        let next: (typeof timers)[number] | undefined;
        for (const t of timers) if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
        if (!next) break;
        next.live = false;
        now = next.at;
        next.fn();
      }
      now = target;
    },
  };
}

function errorBody(type: string, code: string, message: string) {
  return { type, code, message, doc_url: `${DOC}${code}` };
}
const invalid = (code: 'parameter_missing' | 'parameter_invalid', message: string): Answer => ({
  status: 400,
  body: errorBody('invalid_request_error', code, message),
});
const notFound = (message: string): Answer => ({ status: 404, body: errorBody('invalid_request_error', 'not_found', message) });

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? realClock;
  const tokens = (typeof options.token === 'string' ? [options.token] : options.token ? [...options.token] : [SANDBOX_DEFAULTS.token]).filter(Boolean);
  if (tokens.length === 0) throw new Error('sandbox: at least one token is needed');
  const settings = {
    autoSites: options.autoSites ?? SANDBOX_DEFAULTS.autoSites,
    checkinIntervalMs: options.checkinIntervalMs ?? SANDBOX_DEFAULTS.checkinIntervalMs,
    expressDelayMs: options.expressDelayMs ?? SANDBOX_DEFAULTS.expressDelayMs,
    runMs: options.runMs ?? SANDBOX_DEFAULTS.runMs,
    failMarker: options.failMarker ?? SANDBOX_DEFAULTS.failMarker,
    replayAnswer: options.replayAnswer ?? SANDBOX_DEFAULTS.replayAnswer,
    deleteStatus: options.deleteStatus ?? SANDBOX_DEFAULTS.deleteStatus,
    deleteStartedStatus: options.deleteStartedStatus ?? SANDBOX_DEFAULTS.deleteStartedStatus,
    latencyMs: options.latencyMs ?? SANDBOX_DEFAULTS.latencyMs,
    maxScriptLength: options.maxScriptLength ?? SANDBOX_DEFAULTS.maxScriptLength,
    keyRetentionMs: options.keyRetentionMs ?? SANDBOX_DEFAULTS.keyRetentionMs,
    cancelledJobs: options.cancelledJobs ?? SANDBOX_DEFAULTS.cancelledJobs,
    faults: options.faults as SandboxFaultOptions | undefined,
    rateLimit: options.rateLimit as SandboxRateLimitOptions | undefined,
  };
  const configuredSites = [...(options.sites ?? [])];
  for (const s of configuredSites) if (!UUID_RE.test(s.id)) throw new Error(`sandbox: site id ${JSON.stringify(s.id)} is not a UUID`);

  // --- state ---
  const idRandom = seededRandom(options.seed ?? SANDBOX_DEFAULTS.seed);
  let faultRandom = seededRandom(settings.faults?.seed ?? 1);
  let faultsInjected = 0;
  const sites = new Map<string, SiteState>();
  const jobsById = new Map<string, SandboxJob>();
  const jobsBySite = new Map<string, SandboxJob[]>();
  const byKey = new Map<string, SandboxJob>();
  const created = new Map<string, number>();
  const windows = new Map<string, number[]>();
  let log: SandboxRequestRecord[] = [];
  let stats = emptyStats();

  function emptyStats(): SandboxStats {
    return { requests: 0, posts: 0, byMethodStatus: {}, jobsCreated: 0, replays: 0, replayMismatches: 0, faults: {}, rateLimited: 0 };
  }
  const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
  const iso = (ms: number) => new Date(ms).toISOString();
  const keyOf = (siteId: string, key: string) => `${siteId.toLowerCase()}|${key.toLowerCase()}`;

  // --- simulated routers ---
  function addSite(cfg: SandboxSiteOptions): SiteState {
    const existing = sites.get(cfg.id.toLowerCase());
    if (existing) return existing;
    const state: SiteState = { cfg, online: cfg.online ?? true, lastSeenAt: null, busy: false, nextCheckinAt: null, cancelCheckin: null, cancelRun: null };
    sites.set(cfg.id.toLowerCase(), state);
    if (state.online) {
      state.lastSeenAt = clock.now();
      scheduleCheckin(state, intervalOf(state));
    }
    return state;
  }

  /** Sites deleted in SDX (removeSite): unknown from then on, even with autoSites. */
  const deletedSites = new Set<string>();

  function findSite(siteId: string): SiteState | undefined {
    const s = sites.get(siteId.toLowerCase());
    if (s || !settings.autoSites || !UUID_RE.test(siteId) || deletedSites.has(siteId.toLowerCase())) return s;
    return addSite({ id: siteId.toLowerCase() });
  }

  const intervalOf = (s: SiteState) => s.cfg.checkinIntervalMs ?? settings.checkinIntervalMs;

  /** Keep the earliest of the pending check-in and one `delay` from now. */
  function scheduleCheckin(s: SiteState, delay: number): void {
    const at = clock.now() + delay;
    if (s.nextCheckinAt !== null && s.nextCheckinAt <= at) return;
    s.cancelCheckin?.();
    s.nextCheckinAt = at;
    s.cancelCheckin = clock.setTimer(() => checkin(s), delay);
  }

  function stopSite(s: SiteState): void {
    s.cancelCheckin?.();
    s.cancelRun?.();
    s.cancelCheckin = s.cancelRun = null;
    s.nextCheckinAt = null;
  }

  /** One heartbeat: the router takes the next queued job (one at a time, in creation order). */
  function checkin(s: SiteState): void {
    s.cancelCheckin = null;
    s.nextCheckinAt = null;
    if (!s.online) return;
    const now = clock.now();
    s.lastSeenAt = now;
    if (!s.busy) {
      const next = (jobsBySite.get(s.cfg.id.toLowerCase()) ?? []).find((j) => !j.cancelled && !j.forgotten && j.started_at === null);
      if (next) runJob(s, next, now);
    }
    scheduleCheckin(s, intervalOf(s));
  }

  function runJob(s: SiteState, job: SandboxJob, now: number): void {
    job.started_at = iso(now);
    // Without acknowledgement the job is complete once the router has downloaded it.
    if (!job.needs_acknowledgement) {
      job.completed_at = iso(now);
      logger.debug({ site: job.site_id, job: job.id }, 'sandbox job downloaded (no ack)');
      return;
    }
    s.busy = true;
    s.cancelRun = clock.setTimer(() => {
      s.cancelRun = null;
      s.busy = false;
      const at = iso(clock.now());
      if (scriptFails(s, job.script)) job.failed_at = at;
      else job.completed_at = at;
      logger.debug({ site: job.site_id, job: job.id, failed: job.failed_at !== null }, 'sandbox job finished');
      const queued = (jobsBySite.get(s.cfg.id.toLowerCase()) ?? []).filter((j) => !j.cancelled && !j.forgotten && j.started_at === null);
      if (queued.some((j) => j.express_execute) && s.online) scheduleCheckin(s, settings.expressDelayMs);
    }, s.cfg.runMs ?? settings.runMs);
  }

  function scriptFails(s: SiteState, script: string): boolean {
    if (s.cfg.failAll) return true;
    if (script.split(/\r?\n/).some((line) => line.trim() === settings.failMarker)) return true;
    return (s.cfg.failScripts ?? []).some((p) => (typeof p === 'string' ? script.includes(p) : new RegExp(p.source, p.flags.replace('g', '')).test(script)));
  }

  function setOnline(siteId: string, online: boolean): void {
    const s = findSite(siteId);
    if (!s) throw new Error(`sandbox: no site ${siteId}`);
    if (s.online === online) return;
    s.online = online;
    if (!online) {
      s.cancelCheckin?.();
      s.cancelCheckin = null;
      s.nextCheckinAt = null;
    } else {
      // A router that comes back checks in at once (or nearly).
      scheduleCheckin(s, settings.expressDelayMs);
    }
  }

  function resetState(): void {
    for (const s of sites.values()) stopSite(s);
    sites.clear();
    deletedSites.clear();
    jobsById.clear();
    jobsBySite.clear();
    byKey.clear();
    created.clear();
    windows.clear();
    log = [];
    stats = emptyStats();
    // Job ids keep their sequence: a restarted server never hands out an id it used before.
    faultRandom = seededRandom(settings.faults?.seed ?? 1);
    faultsInjected = 0;
    for (const cfg of configuredSites) addSite(cfg);
  }

  // --- API ---
  function siteJson(s: SiteState): Site {
    const name = s.cfg.name ?? `Sandbox site ${s.cfg.id.slice(0, 8)}`;
    return {
      id: s.cfg.id,
      name,
      has_pulse: s.online,
      last_seen_at: s.lastSeenAt === null ? null : iso(s.lastSeenAt),
      software_version: s.cfg.softwareVersion ?? '7.15.1',
      model: s.cfg.model ?? 'RB5009UG+S+',
      identity: s.cfg.identity ?? name,
    };
  }

  function jobJson(j: SandboxJob, withScript: boolean): Job {
    const { cancelled: _cancelled, forgotten: _forgotten, cancelled_at, script, ...rest } = j;
    const shown: Job = settings.cancelledJobs === 'listed' ? { ...rest, cancelled_at: cancelled_at ?? null } : rest;
    return withScript ? { ...shown, script } : shown;
  }

  function createJob(siteId: string, headers: http.IncomingHttpHeaders, body: string): Answer {
    if (!UUID_RE.test(siteId)) return invalid('parameter_invalid', `The siteId path parameter must be a UUID, got ${JSON.stringify(siteId.slice(0, 60))}.`);
    const site = findSite(siteId);
    if (!site) return notFound(`No site with id ${siteId}.`);
    const key = header(headers, 'x-idempotency-key');
    if (key === undefined || key === '') return invalid('parameter_missing', 'The X-Idempotency-Key header is required.');
    if (!UUID_RE.test(key)) return invalid('parameter_invalid', 'The X-Idempotency-Key header must be a UUID.');
    const rawDescription = header(headers, 'x-description');
    if (rawDescription === undefined || rawDescription === '') return invalid('parameter_missing', 'The X-Description header is required.');
    // node:http decodes header bytes as latin1; count the characters the client meant (UTF-8).
    const description = Buffer.from(rawDescription, 'latin1').toString('utf8');
    const chars = [...description].length;
    if (chars < 3 || chars > 100) return invalid('parameter_invalid', `The X-Description header must be between 3 and 100 characters, got ${chars}.`);
    const flags: Record<string, boolean | undefined> = {};
    for (const name of BOOLEAN_HEADERS) {
      const v = header(headers, name);
      if (v === undefined) continue;
      if (v !== 'true' && v !== 'false') return invalid('parameter_invalid', `The ${HEADER_NAMES[name]} header must be true or false.`);
      flags[name] = v === 'true';
    }
    const contentType = (header(headers, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType !== 'text/plain')
      return invalid(
        'parameter_invalid',
        `The request body must be text/plain (the RouterOS script), got ${contentType ? JSON.stringify(contentType) : 'no Content-Type'}.`,
      );
    if (body.trim() === '') return invalid('parameter_missing', 'The request body (the RouterOS script) is required.');
    // Characters as the API counts them: code points (UTF-16 length is never less, so count only when it matters).
    const scriptChars = settings.maxScriptLength > 0 && body.length > settings.maxScriptLength ? codePointLength(body) : 0;
    if (scriptChars > settings.maxScriptLength) {
      return invalid(
        'parameter_invalid',
        `The request body (the RouterOS script) may not be longer than ${settings.maxScriptLength} characters, got ${scriptChars}.`,
      );
    }

    let existing = byKey.get(keyOf(site.cfg.id, key));
    // A server that keeps keys only for a while (keyRetentionMs): an older key is forgotten.
    if (existing && settings.keyRetentionMs > 0 && clock.now() - Date.parse(existing.created_at) > settings.keyRetentionMs) {
      byKey.delete(keyOf(site.cfg.id, key));
      existing = undefined;
    }
    if (existing) {
      stats.replays++;
      if (existing.script !== body || existing.description !== description) stats.replayMismatches++;
      return replay(existing, settings.replayAnswer);
    }

    const now = clock.now();
    let token = '';
    for (let i = 0; i < 10; i++) token += TOKEN_ALPHABET[Math.floor(idRandom() * TOKEN_ALPHABET.length)];
    const siteKey = site.cfg.id.toLowerCase();
    const job: SandboxJob = {
      id: randomUuid(idRandom),
      token,
      site_id: site.cfg.id,
      idempotency_key: key,
      description,
      express_execute: flags['x-express-execute'] ?? false,
      needs_acknowledgement: flags['x-needs-ack'] ?? true,
      should_backup: flags['x-backup'] ?? false,
      associated_backup: flags['x-backup'] ? `${site.cfg.id}/${Math.floor(now / 1000)}.rsc` : null,
      started_at: null,
      completed_at: null,
      failed_at: null,
      created_at: iso(now),
      log_url: `logs?group=sites&streams=${site.cfg.id}&filter={$.message=*${token}*}`,
      script: body,
      cancelled: false,
    };
    jobsById.set(job.id, job);
    if (!jobsBySite.has(siteKey)) jobsBySite.set(siteKey, []);
    jobsBySite.get(siteKey)!.push(job);
    byKey.set(keyOf(site.cfg.id, key), job);
    created.set(keyOf(site.cfg.id, key), (created.get(keyOf(site.cfg.id, key)) ?? 0) + 1);
    stats.jobsCreated++;
    logger.debug({ site: site.cfg.id, job: job.id, key }, 'sandbox job created');
    if (site.online) scheduleCheckin(site, job.express_execute ? settings.expressDelayMs : intervalOf(site));
    return { status: 201, body: jobJson(job, true) };
  }

  function replay(job: SandboxJob, answer: ReplayAnswer): Answer {
    switch (answer) {
      case 'original-200':
        return { status: 200, body: jobJson(job, true) };
      case 'original-201':
        return { status: 201, body: jobJson(job, true) };
      case 'conflict-409':
      case 'conflict-400':
        return {
          status: answer === 'conflict-409' ? 409 : 400,
          body: errorBody(
            'invalid_request_error',
            'idempotency_key_in_use',
            `A job with X-Idempotency-Key ${job.idempotency_key} already exists for this site.`,
          ),
        };
    }
  }

  /** Whether the API shows a job: not lost, and not cancelled unless cancelled jobs are listed. */
  function visible(j: SandboxJob): boolean {
    return !j.forgotten && (!j.cancelled || settings.cancelledJobs === 'listed');
  }

  function siteJobs(siteId: string): SandboxJob[] {
    return (jobsBySite.get(siteId.toLowerCase()) ?? []).filter(visible);
  }

  function findJob(siteId: string, jobId: string): SandboxJob | undefined {
    const j = jobsById.get(jobId.toLowerCase());
    return j && visible(j) && j.site_id.toLowerCase() === siteId.toLowerCase() ? j : undefined;
  }

  /** Cancel a queued job (DELETE, or someone in the SDX UI); false when it started already. */
  function cancel(job: SandboxJob): boolean {
    if (job.started_at !== null || job.completed_at !== null || job.failed_at !== null) return false;
    job.cancelled = true;
    job.cancelled_at = iso(clock.now());
    // The key is free again: a new POST with it queues a new job.
    byKey.delete(keyOf(job.site_id, job.idempotency_key));
    return true;
  }

  function route(method: string, path: string, headers: http.IncomingHttpHeaders, body: string): Answer {
    let m: RegExpExecArray | null;
    if ((m = /^\/site\/([^/]+)\/job\/?$/.exec(path))) {
      const siteId = decode(m[1]!);
      if (method === 'POST') return createJob(siteId, headers, body);
      if (method !== 'GET') return { status: 405, body: { message: `The ${method} method is not supported for this route.` }, headers: { allow: 'GET, POST' } };
      if (!UUID_RE.test(siteId)) return invalid('parameter_invalid', 'The siteId path parameter must be a UUID.');
      if (!findSite(siteId)) return notFound(`No site with id ${siteId}.`);
      // Newest first, without scripts, as the list endpoint is documented.
      return {
        status: 200,
        body: siteJobs(siteId)
          .slice()
          .reverse()
          .map((j) => jobJson(j, false)),
      };
    }
    if ((m = /^\/site\/([^/]+)\/job\/([^/]+)\/?$/.exec(path))) {
      const siteId = decode(m[1]!);
      const jobId = decode(m[2]!);
      if (method !== 'GET' && method !== 'DELETE')
        return { status: 405, body: { message: `The ${method} method is not supported for this route.` }, headers: { allow: 'GET, DELETE' } };
      if (!UUID_RE.test(siteId)) return invalid('parameter_invalid', 'The siteId path parameter must be a UUID.');
      if (!UUID_RE.test(jobId)) return invalid('parameter_invalid', 'The jobId path parameter must be a UUID.');
      if (!findSite(siteId)) return notFound(`No site with id ${siteId}.`);
      const job = findJob(siteId, jobId);
      if (!job) return notFound(`No job with id ${jobId} for this site.`);
      if (method === 'GET') return { status: 200, body: jobJson(job, true) };
      if (job.cancelled || !cancel(job)) {
        return {
          status: settings.deleteStartedStatus,
          body: errorBody('invalid_request_error', 'job_already_started', 'The job has already started and can no longer be cancelled.'),
        };
      }
      return settings.deleteStatus === 204 ? { status: 204 } : { status: settings.deleteStatus, body: jobJson(job, false) };
    }
    if ((m = /^\/sites\/([^/]+)\/?$/.exec(path))) {
      const siteId = decode(m[1]!);
      if (method !== 'GET') return { status: 405, body: { message: `The ${method} method is not supported for this route.` }, headers: { allow: 'GET' } };
      if (!UUID_RE.test(siteId)) return invalid('parameter_invalid', 'The siteId path parameter must be a UUID.');
      const site = findSite(siteId);
      return site ? { status: 200, body: siteJson(site) } : notFound(`No site with id ${siteId}.`);
    }
    return { status: 404, body: { message: 'Not Found' } };
  }

  /** Sliding window per token; undefined when allowed, else seconds until a slot frees. */
  function throttle(token: string): number | undefined {
    const rl = settings.rateLimit;
    const limit = rl?.requestsPerMinute ?? SANDBOX_DEFAULTS.rateLimitRequestsPerMinute;
    if (!rl || limit <= 0) return undefined;
    const windowMs = rl.windowMs ?? SANDBOX_DEFAULTS.rateLimitWindowMs;
    const now = Date.now();
    const w = windows.get(token) ?? [];
    while (w.length > 0 && w[0]! <= now - windowMs) w.shift();
    windows.set(token, w);
    if (w.length < limit) {
      w.push(now);
      return undefined;
    }
    return Math.max(1, Math.ceil((w[0]! + windowMs - now) / 1000));
  }

  function drawFault(method: string): FaultKind | undefined {
    const f = settings.faults;
    if (!f || !(f.probability! > 0)) return undefined;
    if (f.methods && !f.methods.includes(method as 'GET')) return undefined;
    const kinds = f.kinds && f.kinds.length > 0 ? f.kinds : FAULT_KINDS;
    if (f.limit !== undefined && faultsInjected >= f.limit) return undefined;
    if (faultRandom() >= f.probability!) return undefined;
    faultsInjected++;
    return kinds[Math.floor(faultRandom() * kinds.length)];
  }

  function faultAnswer(kind: FaultKind): Answer | undefined {
    const retryAfter = String(settings.faults?.retryAfterSeconds ?? SANDBOX_DEFAULTS.faultRetryAfterSeconds);
    switch (kind) {
      case 'error500':
        return { status: 500, body: errorBody('api_error', 'internal_server_error', 'An internal server error occurred. Please try again later.') };
      case 'html502':
        return {
          status: 502,
          raw: {
            contentType: 'text/html',
            text: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n',
          },
        };
      case 'unavailable503':
        return { status: 503, raw: { contentType: 'text/plain', text: 'Service Unavailable' } };
      case 'throttle429':
        return { status: 429, body: { message: 'Too Many Attempts.' }, headers: { 'retry-after': retryAfter } };
      case 'throttle429NoRetryAfter':
        return { status: 429, body: { message: 'Too Many Attempts.' } };
      default:
        return undefined;
    }
  }

  // --- HTTP ---
  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = (req.method ?? 'GET').toUpperCase();
    const body = await readBody(req);
    if (url.pathname.startsWith('/_sandbox/')) return send(res, admin(method, url, body.text));

    const path = url.pathname;
    const key = header(req.headers, 'x-idempotency-key');
    const isPost = method === 'POST' && /^\/site\/[^/]+\/job\/?$/.test(path);
    stats.requests++;
    if (isPost) stats.posts++;
    const record = (status: number | 'reset', fault?: FaultKind) => {
      bump(stats.byMethodStatus, `${method} ${status}`);
      log.push({ method, path, status, ...(key !== undefined && { idempotencyKey: key }), ...(fault && { fault }) });
      if (log.length > MAX_LOG) log = log.slice(-MAX_LOG);
      logger.debug({ method, path, status, fault }, 'sandbox request');
    };
    const answer = (a: Answer, fault?: FaultKind) => {
      record(a.status, fault);
      send(res, a);
    };

    options.inspectRequest?.({ method, path, query: Object.fromEntries(url.searchParams), headers: { ...req.headers }, body: body.text });
    if (settings.latencyMs > 0) await sleep(settings.latencyMs);

    const auth = /^Bearer\s+(\S+)\s*$/i.exec(header(req.headers, 'authorization') ?? '');
    if (!auth || !tokens.includes(auth[1]!)) return answer({ status: 401, body: { message: 'Unauthenticated.' } });

    const wait = throttle(auth[1]!);
    if (wait !== undefined) {
      stats.rateLimited++;
      const limit = String(settings.rateLimit?.requestsPerMinute ?? SANDBOX_DEFAULTS.rateLimitRequestsPerMinute);
      return answer({
        status: 429,
        body: { message: 'Too Many Attempts.' },
        headers: { 'x-ratelimit-limit': limit, 'x-ratelimit-remaining': '0', ...(settings.rateLimit?.retryAfter !== false && { 'retry-after': String(wait) }) },
      });
    }

    const fault = drawFault(method);
    if (fault) {
      bump(stats.faults, fault);
      const canned = faultAnswer(fault);
      if (canned) return answer(canned, fault);
      if (fault === 'resetBefore') {
        record('reset', fault);
        return resetSocket(req.socket);
      }
      if (fault === 'stall') await sleep(settings.faults?.stallMs ?? SANDBOX_DEFAULTS.faultStallMs);
    }

    if (body.tooLarge) return answer(invalid('parameter_invalid', `The request body is larger than ${MAX_BODY_BYTES} bytes.`), fault);
    const a = route(method, path, req.headers, body.text);
    if (fault === 'lostAfter') {
      // The work is done (a POST created its job); only the answer is lost.
      record('reset', fault);
      return resetSocket(req.socket);
    }
    return answer(a, fault);
  }

  function admin(method: string, url: URL, body: string): Answer {
    const path = url.pathname;
    if (method === 'GET' && path === '/_sandbox/jobs') {
      const site = url.searchParams.get('site') ?? undefined;
      return { status: 200, body: { jobs: api.jobs(site) } };
    }
    if (method === 'GET' && path === '/_sandbox/stats') return { status: 200, body: { ...api.stats(), createdCounts: api.createdCounts() } };
    if (method === 'GET' && path === '/_sandbox/requests') return { status: 200, body: { requests: api.requests() } };
    if (method === 'POST' && path === '/_sandbox/reset') {
      api.reset();
      return { status: 204 };
    }
    const m = /^\/_sandbox\/sites\/([^/]+)$/.exec(path);
    if (m && method === 'POST') {
      const siteId = decode(m[1]!);
      let patch: unknown;
      try {
        patch = body.trim() ? JSON.parse(body) : {};
      } catch {
        return { status: 400, body: { message: 'body must be JSON like {"online": false}' } };
      }
      const online = (patch as { online?: unknown }).online;
      if (online !== undefined && typeof online !== 'boolean') return { status: 400, body: { message: 'online must be true or false' } };
      if (!UUID_RE.test(siteId)) return { status: 400, body: { message: 'site id must be a UUID' } };
      const s = findSite(siteId) ?? addSite({ id: siteId });
      if (online !== undefined) setOnline(siteId, online);
      return { status: 200, body: siteJson(s) };
    }
    return {
      status: 404,
      body: {
        message:
          'unknown sandbox admin endpoint (GET /_sandbox/jobs, GET /_sandbox/stats, GET /_sandbox/requests, POST /_sandbox/reset, POST /_sandbox/sites/{id})',
      },
    };
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err: String(err) }, 'sandbox handler failed');
      if (!res.headersSent) send(res, { status: 500, body: errorBody('api_error', 'internal_server_error', 'sandbox handler failed') });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? SANDBOX_DEFAULTS.port, options.host ?? SANDBOX_DEFAULTS.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  resetState();

  const api: Sandbox = {
    url: `http://${hostForUrl}:${address.port}`,
    token: tokens[0]!,
    jobs(siteId) {
      const list = siteId === undefined ? [...jobsById.values()] : (jobsBySite.get(siteId.toLowerCase()) ?? []);
      return list.map((j) => ({ ...j }));
    },
    createdCount(siteId, key) {
      return created.get(keyOf(siteId, key)) ?? 0;
    },
    createdCounts() {
      return [...created.entries()].map(([k, count]) => {
        const [siteId, idempotencyKey] = k.split('|') as [string, string];
        return { siteId, idempotencyKey, count };
      });
    },
    stats() {
      return structuredClone(stats);
    },
    requests() {
      return log.map((r) => ({ ...r }));
    },
    reset: resetState,
    setOnline,
    addSite(site) {
      if (!UUID_RE.test(site.id)) throw new Error(`sandbox: site id ${JSON.stringify(site.id)} is not a UUID`);
      configuredSites.push(site);
      addSite(site);
    },
    checkin(siteId) {
      const s = findSite(siteId);
      if (!s) throw new Error(`sandbox: no site ${siteId}`);
      checkin(s);
    },
    removeSite(siteId) {
      const s = sites.get(siteId.toLowerCase());
      if (s) stopSite(s);
      sites.delete(siteId.toLowerCase());
      deletedSites.add(siteId.toLowerCase());
      const i = configuredSites.findIndex((c) => c.id.toLowerCase() === siteId.toLowerCase());
      if (i >= 0) configuredSites.splice(i, 1);
    },
    cancelJob(jobId) {
      const j = jobsById.get(jobId.toLowerCase());
      return !!j && !j.cancelled && !j.forgotten && cancel(j);
    },
    forgetJob(jobId) {
      const j = jobsById.get(jobId.toLowerCase());
      if (!j || j.forgotten) return false;
      j.forgotten = true;
      if (byKey.get(keyOf(j.site_id, j.idempotency_key)) === j) byKey.delete(keyOf(j.site_id, j.idempotency_key));
      return true;
    },
    configure(patch) {
      for (const [k, v] of Object.entries(patch)) if (v !== undefined || k === 'faults' || k === 'rateLimit') (settings as Record<string, unknown>)[k] = v;
      if ('faults' in patch) {
        faultRandom = seededRandom(settings.faults?.seed ?? 1);
        faultsInjected = 0;
      }
      if ('rateLimit' in patch) windows.clear();
    },
    async close() {
      for (const s of sites.values()) stopSite(s);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function resetSocket(socket: Socket): void {
  // An RST (ECONNRESET at the client), like a proxy dropping the connection.
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

async function readBody(req: http.IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    bytes += b.length;
    if (bytes > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(b);
  }
  return { text: tooLarge ? '' : Buffer.concat(chunks).toString('utf8'), tooLarge };
}

function send(res: http.ServerResponse, a: Answer): void {
  const headers: Record<string, string> = { ...a.headers };
  let payload: string | undefined;
  if (a.raw) {
    headers['content-type'] = a.raw.contentType;
    payload = a.raw.text;
  } else if (a.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(a.body);
  }
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(a.status, headers);
  res.end(payload);
}
