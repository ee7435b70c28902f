// The SDX jobs API's routes, as the seed spec describes them: list and create a site's jobs, read
// and cancel one job, read a site, list the sites (GET /site-minimal). Each takes the parsed request and returns the answer as data.
import { UUID_RE } from '../core/keys.js';
import type { Logger } from '../core/logger.js';
import { type Answer, decodeSegment, errorBody, invalid, methodNotAllowed, notFound } from './answers.js';
import { isAnswer, parseJobRequest } from './job-request.js';
import type { JobStore } from './job-store.js';
import type { ReplayAnswer } from './options.js';
import type { Routers } from './routers.js';
import type { SandboxSettings } from './settings.js';
import type { SandboxJob, SandboxStats } from './types.js';

/** What the routes act on. */
export interface ApiContext {
  readonly settings: SandboxSettings;
  readonly jobs: JobStore;
  readonly routers: Routers;
  /** Counters the routes add to (jobs created, replays). */
  stats(): SandboxStats;
  readonly logger: Logger;
}

export type Headers = Record<string, string | string[] | undefined>;

export function routeApi(ctx: ApiContext, method: string, path: string, headers: Headers, body: string): Answer {
  let m: RegExpExecArray | null;
  if ((m = /^\/site\/([^/]+)\/job\/?$/.exec(path))) return siteJobs(ctx, method, decodeSegment(m[1]!), headers, body);
  if ((m = /^\/site\/([^/]+)\/job\/([^/]+)\/?$/.exec(path))) return oneJob(ctx, method, decodeSegment(m[1]!), decodeSegment(m[2]!));
  if (/^\/site-minimal\/?$/.test(path)) {
    if (method !== 'GET') return methodNotAllowed(method, 'GET');
    // Every site of the token's organisation, as GET /site-minimal documents it: a plain array.
    return { status: 200, body: ctx.routers.list().map((s) => ctx.routers.toMinimalJson(s)) };
  }
  if ((m = /^\/sites\/([^/]+)\/?$/.exec(path))) {
    const siteId = decodeSegment(m[1]!);
    if (method !== 'GET') return methodNotAllowed(method, 'GET');
    if (!UUID_RE.test(siteId)) return invalid('parameter_invalid', 'The siteId path parameter must be a UUID.');
    const site = ctx.routers.find(siteId);
    return site ? { status: 200, body: ctx.routers.toJson(site) } : notFound(`No site with id ${siteId}.`);
  }
  return { status: 404, body: { message: 'Not Found' } };
}

/** /site/{siteId}/job: GET lists (newest first, without scripts), POST creates. */
function siteJobs(ctx: ApiContext, method: string, siteId: string, headers: Headers, body: string): Answer {
  if (method === 'POST') return createJob(ctx, siteId, headers, body);
  if (method !== 'GET') return methodNotAllowed(method, 'GET, POST');
  if (!UUID_RE.test(siteId)) return invalid('parameter_invalid', 'The siteId path parameter must be a UUID.');
  if (!ctx.routers.find(siteId)) return notFound(`No site with id ${siteId}.`);
  // Newest first, without scripts, as the list endpoint is documented.
  return {
    status: 200,
    body: ctx.jobs
      .visibleOfSite(siteId)
      .slice()
      .reverse()
      .map((j) => ctx.jobs.toJson(j, false)),
  };
}

/** /site/{siteId}/job/{jobId}: GET reads, DELETE cancels a job that has not started. */
function oneJob(ctx: ApiContext, method: string, siteId: string, jobId: string): Answer {
  if (method !== 'GET' && method !== 'DELETE') return methodNotAllowed(method, 'GET, DELETE');
  if (!UUID_RE.test(siteId)) return invalid('parameter_invalid', 'The siteId path parameter must be a UUID.');
  if (!UUID_RE.test(jobId)) return invalid('parameter_invalid', 'The jobId path parameter must be a UUID.');
  if (!ctx.routers.find(siteId)) return notFound(`No site with id ${siteId}.`);
  const job = ctx.jobs.find(siteId, jobId);
  if (!job) return notFound(`No job with id ${jobId} for this site.`);
  if (method === 'GET') return { status: 200, body: ctx.jobs.toJson(job, true) };
  const { deleteStatus, deleteStartedStatus } = ctx.settings;
  if (job.cancelled || !ctx.jobs.cancel(job)) {
    return {
      status: deleteStartedStatus,
      body: errorBody('invalid_request_error', 'job_already_started', 'The job has already started and can no longer be cancelled.'),
    };
  }
  return deleteStatus === 204 ? { status: 204 } : { status: deleteStatus, body: ctx.jobs.toJson(job, false) };
}

function createJob(ctx: ApiContext, siteId: string, headers: Headers, body: string): Answer {
  if (!UUID_RE.test(siteId)) return invalid('parameter_invalid', `The siteId path parameter must be a UUID, got ${JSON.stringify(siteId.slice(0, 60))}.`);
  const site = ctx.routers.find(siteId);
  if (!site) return notFound(`No site with id ${siteId}.`);
  const req = parseJobRequest(headers, body, ctx.settings.maxScriptLength);
  if (isAnswer(req)) return req;
  const stats = ctx.stats();
  const existing = ctx.jobs.holderOf(site.cfg.id, req.idempotencyKey);
  if (existing) {
    stats.replays++;
    if (existing.script !== req.script || existing.description !== req.description) stats.replayMismatches++;
    return replay(ctx.jobs, existing, ctx.settings.replayAnswer);
  }
  const job = ctx.jobs.create(site.cfg.id, req);
  stats.jobsCreated++;
  ctx.logger.debug({ site: site.cfg.id, job: job.id, key: req.idempotencyKey }, 'sandbox job created');
  ctx.routers.jobQueued(site, job);
  return { status: 201, body: ctx.jobs.toJson(job, true) };
}

/** The answer to a POST whose key already has a job (the replayAnswer setting). */
function replay(jobs: JobStore, job: SandboxJob, answer: ReplayAnswer): Answer {
  switch (answer) {
    case 'original-200':
      return { status: 200, body: jobs.toJson(job, true) };
    case 'original-201':
      return { status: 201, body: jobs.toJson(job, true) };
    case 'conflict-409':
    case 'conflict-400':
      return {
        status: answer === 'conflict-409' ? 409 : 400,
        body: errorBody('invalid_request_error', 'idempotency_key_in_use', `A job with X-Idempotency-Key ${job.idempotency_key} already exists for this site.`),
      };
  }
}
