// Following one job to its outcome: poll it with backoff (faster while the router has not picked
// it up), until the router reports, the site's timeout, or the run stops; record what was learned.
import { SdxApiError } from '../core/errors.js';
import { isNetworkFailure, networkCause } from '../core/sdx-failure.js';
import { jobState, type Job } from '../core/jobs.js';
import type { PlannedChange } from '../core/plan.js';
import type { JobSettings } from '../core/settings.js';
import type { PartialResult, RunContext } from './run-context.js';

export interface FollowInput {
  change: PlannedChange;
  job: Job;
  reused: boolean;
  settings: Pick<JobSettings, 'timeout'>;
  /** For a split send: the part this job is. */
  part?: { index: number; count: number } | null;
}

/** Follow a job to its outcome (or the timeout, or the run's stop), and record it. */
export async function followJob(ctx: RunContext, f: FollowInput): Promise<PartialResult> {
  const c = f.change;
  const deadline = ctx.clock.now() + f.settings.timeout * 1000;
  let job = f.job;
  let delay = ctx.poll.initialMs;
  let unreachable: string | null = null;
  let seenRunning = false;
  for (;;) {
    const st = jobState(job);
    if (st === 'running') seenRunning = true;
    const url = ctx.logUrl(job);
    const part = f.part ?? null;
    const base = { change: c, job_id: job.id, log_url: url, reused: f.reused, part };
    if (st === 'succeeded' && part && part.index < part.count - 1) {
      // A part that is not the last: the send goes on with the next part (its intent, before its POST).
      ctx.recordSend(c, { phase: 'intent', job_id: null, part: { index: part.index + 1, count: part.count } });
      return { ...base, outcome: st, reason: null };
    }
    if (st === 'succeeded' || st === 'failed') {
      ctx.recordSend(c, { phase: st, job_id: job.id, log_url: url, part });
      return { ...base, outcome: st, reason: st === 'failed' ? `the router reported a failure at ${job.failed_at}; see the job's log` : null };
    }
    const by = st === 'cancelled' ? ctx.supersededBy(job.id) : undefined;
    if (by) return supersededByNewer(c, job.id, url, f.reused, by, part);
    if (st === 'cancelled')
      return neverRan(
        ctx,
        c,
        job.id,
        url,
        f.reused,
        'cancelled',
        `SDX shows job ${job.id} cancelled (not by routeros-gitops); it never ran, and the next run sends the script again`,
        part,
      );
    const left = deadline - ctx.clock.now();
    if (left <= 0 || ctx.stopped()) {
      ctx.recordSend(c, { phase: st, job_id: job.id, log_url: url, part });
      if (ctx.stopped()) return { ...base, outcome: 'queued', reason: 'the run was stopped; the next run follows this job' };
      const why = unreachable ? ` (SDX could not be reached: ${unreachable})` : st === 'queued' ? ' (the router has not picked it up: is it online?)' : '';
      return { ...base, outcome: 'timed_out', reason: `still ${st} after ${f.settings.timeout} s${why}; the next run follows the same job` };
    }
    await ctx.clock.sleep(Math.min(delay, left), ctx.stopSignal);
    // Back off faster while the router has not picked the job up (it may be offline).
    delay = Math.min(ctx.poll.maxMs, delay * (st === 'queued' ? 2 : 1.5));
    if (ctx.stopped()) continue;
    try {
      job = await ctx.sdx.getJob(c.site_id, job.id);
      unreachable = null;
    } catch (e) {
      const by = ctx.supersededBy(job.id);
      if (by) return supersededByNewer(c, job.id, url, f.reused, by, f.part ?? null);
      if (e instanceof SdxApiError && e.status === 404) return lostJob(ctx, c, job.id, url, f.reused, seenRunning, f.part ?? null);
      // Issue 14: the server is gone (the client's retries are spent): the report names the server,
      // never the router ("is it online?"); the job is followed by the next run.
      if (isNetworkFailure(e)) {
        ctx.recordSend(c, { phase: st, job_id: job.id, log_url: url, part });
        return { ...base, outcome: 'timed_out', reason: lostContactReason(e, job.id, st) };
      }
      unreachable = (e as Error).message;
      ctx.logger.warn({ site: c.site, job_id: job.id, err: unreachable }, 'could not read the job; retrying');
    }
  }
}

/** Why following a job stopped when SDX could no longer be reached. */
function lostContactReason(e: SdxApiError, jobId: string, st: string): string {
  return `lost contact with SDX at ${e.apiUrl ?? 'the API URL'} (${networkCause(e.code)}) while following job ${jobId}, ${st} when last seen: it may still run on the router, and the next run follows it`;
}

/**
 * A job a newer run of this process cancelled to send newer content: it never ran, and the newer
 * content replaces it (its record is the newer run's). Not a failure of this run.
 */
function supersededByNewer(
  c: PlannedChange,
  jobId: string,
  url: string | null,
  reused: boolean,
  by: string,
  part: { index: number; count: number } | null,
): PartialResult {
  return {
    change: c,
    job_id: jobId,
    log_url: url,
    reused,
    outcome: 'skipped',
    reason: `superseded by the run at ${by}, which sends newer content; this job never ran`,
    part,
  };
}

/**
 * A job SDX no longer knows (cancelled outside this tool, or forgotten). When it was never seen
 * running, it never ran: the next run sends the script again, with a new key. When it had been seen
 * running, it may have run: it is not sent again by itself (--retry-failed sends it).
 */
export function lostJob(
  ctx: RunContext,
  c: PlannedChange,
  jobId: string,
  url: string | null,
  reused: boolean,
  started: boolean,
  part: { index: number; count: number } | null,
): PartialResult {
  if (!started) {
    const reason = `SDX no longer knows job ${jobId} (cancelled outside routeros-gitops, or forgotten); it never ran, and the next run sends the script again`;
    return neverRan(ctx, c, jobId, url, reused, 'lost', reason, part);
  }
  const reason = `SDX no longer knows job ${jobId}, which had started on the router: its outcome is unknown, and it is not sent again by itself; check the router, then rerun with --retry-failed to send it again`;
  ctx.recordSend(c, { phase: 'lost', job_id: jobId, log_url: url, part, started: true });
  ctx.logger.warn({ site: c.site, path: c.path, job_id: jobId }, reason);
  return { change: c, job_id: jobId, log_url: url, reused, outcome: 'lost', reason, part };
}

/** A job that never ran (lost, cancelled outside this tool): recorded so that the next run sends the script again, with a new key. */
export function neverRan(
  ctx: RunContext,
  c: PlannedChange,
  jobId: string,
  url: string | null,
  reused: boolean,
  outcome: 'lost' | 'cancelled',
  reason: string,
  part: { index: number; count: number } | null = null,
): PartialResult {
  ctx.recordSend(c, { phase: outcome, job_id: jobId, log_url: url, part });
  ctx.logger.warn({ site: c.site, path: c.path, job_id: jobId }, reason);
  return { change: c, job_id: jobId, log_url: url, reused, outcome, reason, part };
}
