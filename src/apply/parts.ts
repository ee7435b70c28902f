// A script over max_script_size goes out as consecutive jobs, one per part: each part has its own
// key (core/keys.ts partKey) and description ("... part 2/4"), waits for the previous part's
// outcome, and a part that does not succeed stops the script (and so its site's later scripts).
// The state moves to the next part's intent as each part succeeds, so a run killed between parts
// resumes at the next part: never a part sent twice, never one skipped.
import { jobState } from '../core/jobs.js';
import type { PlannedChange, SitePlan } from '../core/plan.js';
import { createJobFor, followedJob } from './create-job.js';
import { followJob } from './follow.js';
import { handOverReason, type PartialResult, type RunContext } from './run-context.js';

const DESCRIPTION_MAX = 100;

/** "gitops hq: sites/hq/10-fw.rsc @abc1234 part 2/4", cut to the 100 characters X-Description takes. */
export function partDescription(description: string, index: number, count: number): string {
  const suffix = ` part ${index + 1}/${count}`;
  return `${description.slice(0, DESCRIPTION_MAX - suffix.length)}${suffix}`;
}

export async function sendParts(ctx: RunContext, site: SitePlan, c: PlannedChange): Promise<PartialResult> {
  const parts = c.parts!;
  const count = parts.length;
  const texts = ctx.scriptOf(c)?.parts?.texts;
  let index = c.from_part;
  let last: PartialResult | null = null;
  if (c.action === 'follow') {
    // A previous run sent this part: follow it, then go on with the next.
    const found = await followedJob(ctx, c, { index, count });
    if ('outcome' in found) return found;
    last = await followJob(ctx, { change: c, job: found.job, reused: true, settings: site.settings, part: { index, count } });
    if (last.outcome !== 'succeeded') return last;
    index++;
  }
  for (; index < count; index++) {
    const refused = ctx.cannotSend(c.site_id);
    const to = ctx.handedTo(c.site_id);
    if (to) return { change: c, job_id: null, log_url: null, reused: false, outcome: 'queued', reason: handOverReason(to), part: { index, count } };
    if (refused)
      return {
        change: c,
        job_id: null,
        log_url: null,
        reused: false,
        outcome: 'blocked',
        reason: `${refused} before part ${index + 1}/${count} was sent; the next run sends it`,
        part: { index, count },
      };
    const text = texts?.[index];
    if (text === undefined) throw new Error(`${c.path} was not rendered for ${c.site}; this is a bug in routeros-gitops, nothing was sent`);
    const part = { index, count };
    const { job, reused } = await createJobFor(ctx, site, c, {
      key: parts[index]!.key,
      description: partDescription(c.description!, index, count),
      script: text,
      first: index === c.from_part && c.action === 'create',
    });
    ctx.emit({ type: 'job-created', change: c, job, reused });
    ctx.logger.info(
      { site: c.site, path: c.path, part: `${index + 1}/${count}`, job_id: job.id, key: parts[index]!.key, reused },
      reused ? 'following an existing job' : 'job created',
    );
    const st = jobState(job);
    if (st === 'queued' || st === 'running') {
      ctx.recordSend(c, { phase: st, job_id: job.id, log_url: ctx.logUrl(job), part });
      if (ctx.noWait)
        return {
          change: c,
          job_id: job.id,
          log_url: ctx.logUrl(job),
          reused,
          outcome: 'queued',
          reason: `part ${index + 1}/${count} not followed (--no-wait); the next run records its outcome and sends the rest`,
          part,
        };
    }
    last = await followJob(ctx, { change: c, job, reused, settings: site.settings, part });
    if (last.outcome !== 'succeeded') return { ...last, reason: last.reason && `part ${index + 1}/${count}: ${last.reason}` };
  }
  return last!;
}
