// Superseding: a pending job of older content is cancelled before the new one is created, so that
// the router never runs the older script after the newer one. A job that already started is let
// finish first (within the site's timeout).
import { SdxApiError } from '../core/errors.js';
import { jobState } from '../core/jobs.js';
import type { PlannedChange } from '../core/plan.js';
import type { Superseded } from '../core/state.js';
import type { RunContext } from './run-context.js';

export type SupersedeResult = 'cancelled' | 'gone' | 'finished' | 'still-running' | 'none';

/**
 * Cancel (or wait out) the pending job `old` of change `c`'s script. `waitMs` bounds the wait for a
 * job that already started (0: do not wait, as for a removed script).
 */
export async function supersede(ctx: RunContext, c: PlannedChange, old: Superseded, waitMs: number): Promise<SupersedeResult> {
  let jobId = old.job_id;
  if (!jobId) {
    // Only the intent was recorded: the job may or may not exist; find it by its key.
    let jobs: Awaited<ReturnType<typeof ctx.sdx.listJobs>>;
    try {
      jobs = await ctx.sdx.listJobs(c.site_id);
    } catch (e) {
      // SDX does not know the site (deleted there): no job of it can run.
      if (e instanceof SdxApiError && e.status === 404) return 'gone';
      throw e;
    }
    jobId = jobs.find((j) => j.idempotency_key.toLowerCase() === old.key.toLowerCase())?.id ?? null;
    if (!jobId) return 'none';
  }
  const id = jobId;
  const res = await ctx.writing(c.site_id, () => ctx.sdx.cancelJob(c.site_id, id));
  if (res === 'cancelled') {
    // An older run of this process may be following it: it then knows why it was cancelled.
    ctx.noteSuperseded(jobId);
    ctx.logger.info({ site: c.site, path: c.path, job_id: jobId }, 'cancelled the queued job of older content (superseded)');
    ctx.emit({ type: 'job-cancelled', change: c, job_id: jobId });
    return 'cancelled';
  }
  if (res === 'not_found') return 'gone';
  // Too late to cancel: let it finish first so the newer script runs after it.
  if (waitMs <= 0) return 'still-running';
  const deadline = ctx.clock.now() + waitMs;
  // A job already running ends soon (a router runs a script in seconds): look again sooner than a
  // new job's first poll, so that the newer script follows it closely (issue 18).
  let delay = Math.min(ctx.poll.initialMs, RUNNING_FIRST_POLL_MS);
  for (;;) {
    let state: string;
    try {
      state = jobState(await ctx.sdx.getJob(c.site_id, jobId));
    } catch (e) {
      if (e instanceof SdxApiError && e.status === 404) return 'gone';
      throw e;
    }
    if (state !== 'running' && state !== 'queued') return 'finished';
    // Handed over to a newer run of this process: that run waits for the job itself.
    if (ctx.clock.now() >= deadline || ctx.stopped() || ctx.handedTo(c.site_id)) return 'still-running';
    await ctx.clock.sleep(Math.min(delay, Math.max(1, deadline - ctx.clock.now())), ctx.stopSignal);
    delay = Math.min(ctx.poll.maxMs, delay * 1.5);
  }
}

/** The first look at a job that was too late to cancel (it runs). */
const RUNNING_FIRST_POLL_MS = 500;
