// Creating (or finding again) the job of one send, whole or one part: supersede the older content's
// pending job first, look an old intent's job up when SDX may have forgotten its key, then POST
// with the send's key (a replay finds the job a crashed run created).
import { SdxApiError } from '../core/errors.js';
import type { Job } from '../core/jobs.js';
import type { PlannedChange, SitePlan } from '../core/plan.js';
import { lostJob } from './follow.js';
import type { PartialResult, RunContext } from './run-context.js';
import { supersede } from './supersede.js';

/** What one job sends: its key, its X-Description and its body. */
export interface JobBody {
  key: string;
  description: string;
  script: string;
  /** The first job of this run for the change: the one that supersedes and looks up. */
  first: boolean;
}

/** The whole script as one job. */
export function wholeScript(ctx: RunContext, c: PlannedChange): JobBody {
  const sc = ctx.scriptOf(c);
  if (sc?.body === undefined) throw new Error(`${c.path} was not rendered for ${c.site}; this is a bug in routeros-gitops, nothing was sent`);
  return { key: c.idempotency_key!, description: c.description!, script: sc.body, first: true };
}

export async function createJobFor(ctx: RunContext, site: SitePlan, c: PlannedChange, body: JobBody): Promise<{ job: Job; reused: boolean }> {
  if (body.first && c.supersedes) await supersede(ctx, c, c.supersedes, site.settings.timeout * 1000);
  if (body.first && c.lookup) {
    // SDX may have forgotten this key (an intent older than idempotency_retention): find its job first.
    const key = body.key.toLowerCase();
    const found = (await ctx.sdx.listJobs(c.site_id)).find((j) => j.idempotency_key.toLowerCase() === key);
    if (found) return { job: found, reused: true };
  }
  const refused = ctx.cannotSend(c.site_id);
  if (refused) throw new Error(`${refused} before this change was sent; the next run sends it`);
  // One write to the site: a newer run of this process takes the site over only once it has ended.
  const res = await ctx.writing(c.site_id, () =>
    ctx.sdx.createJob({
      siteId: c.site_id,
      idempotencyKey: body.key,
      description: body.description,
      script: body.script,
      needsAck: site.settings.needs_ack,
      backup: site.settings.backup,
      express: site.settings.express,
      // Asked again right before the POST goes out, after any wait for the rate limit or a retry.
      guard: () => ctx.cannotSend(c.site_id),
    }),
  );
  return { job: res.job, reused: res.replayed };
}

/** The job a previous run created for change `c` (action follow), or `lost` when SDX no longer knows it. */
export async function followedJob(
  ctx: RunContext,
  c: PlannedChange,
  part: { index: number; count: number } | null,
): Promise<{ job: Job; reused: boolean } | PartialResult> {
  try {
    return { job: await ctx.sdx.getJob(c.site_id, c.job_id!), reused: true };
  } catch (e) {
    if (!(e instanceof SdxApiError && e.status === 404)) throw e;
    return lostJob(ctx, c, c.job_id!, null, true, c.previous?.phase === 'running', part);
  }
}
