// One site's lane: its changes go out one at a time in file order, each waiting for the previous
// one's outcome when acknowledgement is on; a change that does not succeed blocks the site's later
// changes for this run. Whatever goes wrong in a lane stays in it: a lane never throws, so one site
// (an SDX 404 for a site deleted there, a cleanup that fails) never stops the others.
import { jobState, type Job } from '../core/jobs.js';
import type { ChangeResult } from '../core/outcome.js';
import type { PlannedChange, SitePlan } from '../core/plan.js';
import { SdxApiError } from '../core/errors.js';
import { followJob } from './follow.js';
import { createJobFor, followedJob, wholeScript } from './create-job.js';
import { sendParts } from './parts.js';
import { tombstone } from './records.js';
import { errorReason, handOverReason, type PartialResult, type RunContext } from './run-context.js';
import { supersede } from './supersede.js';

const NOT_SENT = { job_id: null, log_url: null, reused: false } as const;

/** Run one site's changes; `finish` stamps and collects each result. */
export async function runSiteLane(ctx: RunContext, site: SitePlan, finish: (r: PartialResult) => ChangeResult): Promise<ChangeResult[]> {
  ctx.emit({ type: 'site-start', site });
  const results: ChangeResult[] = [];
  const push = (r: PartialResult) => results.push(finish(r));
  const refusal = siteRefusal(site);
  if (refusal) {
    for (const c of site.changes) push({ ...NOT_SENT, change: c, outcome: refusal.outcome, reason: refusal.reason });
    ctx.emit({ type: 'site-done', site, results });
    return results;
  }
  let blockedBy: string | null = null;
  const toFollow: Array<{ change: PlannedChange; job: Job; reused: boolean }> = [];
  // A run of this process that began earlier stops writing to this site first (site-turns.ts).
  await ctx.takeSite(site.site_id);
  for (const c of site.changes) {
    const to = ctx.handedTo(site.site_id);
    if (to) {
      push(handedOver(c, to));
      continue;
    }
    if (blockedBy) {
      push({ ...NOT_SENT, change: c, outcome: 'blocked', reason: blockedBy });
      continue;
    }
    try {
      const r = await runChange(ctx, site, c, toFollow);
      if (r) {
        push(r);
        blockedBy = blockReason(site, c, r);
      }
    } catch (e) {
      const reason = errorReason(e);
      const to = ctx.handedTo(site.site_id);
      if (to) {
        // Refused right before the wire: a newer run took the site over; it sends this change.
        push(handedOver(c, to));
        continue;
      }
      if (e instanceof SdxApiError && e.code === 'aborted') {
        // Not sent: the run was stopped, or its lease may be lost. The next run sends it.
        push({ ...NOT_SENT, change: c, outcome: 'blocked', reason });
        blockedBy = reason;
        continue;
      }
      ctx.logger.error(
        { site: c.site, path: c.path, key: c.idempotency_key, err: reason },
        c.kind === 'removed' ? 'could not clean up a removed script' : 'could not send the change',
      );
      // The job may exist (the answer was lost): the intent stays, so the next run finds it by key.
      push({ ...NOT_SENT, change: c, outcome: 'failed', reason });
      blockedBy = `an earlier change of ${site.site} (${c.path}) could not be ${c.kind === 'removed' ? 'cleaned up' : 'sent'}`;
    }
  }
  ctx.siteDone(site.site_id);
  for (const f of toFollow) {
    try {
      push(await followJob(ctx, { change: f.change, job: f.job, reused: f.reused, settings: site.settings }));
    } catch (e) {
      push({ change: f.change, job_id: f.job.id, log_url: ctx.logUrl(f.job), reused: f.reused, outcome: 'timed_out', reason: errorReason(e) });
    }
  }
  if (site.removed && results.every((r) => r.outcome === 'skipped')) ctx.write([{ site_id: site.site_id, site: site.site, removed_at: ctx.iso() }]);
  ctx.emit({ type: 'site-done', site, results });
  return results;
}

/**
 * A change left to a newer run of this process (the daemon at a newer commit): not sent by this run.
 * Queued, not failed: its intent is in the state the newer run planned from, which sends it (or
 * newer content) and reports it.
 */
function handedOver(c: PlannedChange, to: string): PartialResult {
  return { ...NOT_SENT, change: c, outcome: 'queued', reason: handOverReason(to) };
}

/** Why nothing at all is sent to a site: stale, history missing, or secrets not supplied. */
function siteRefusal(site: SitePlan): { outcome: 'stale' | 'blocked'; reason: string } | null {
  if (site.status !== 'ok') return { outcome: 'stale', reason: site.reason ?? 'nothing is sent to this site' };
  const missing = [...new Set(site.changes.filter((c) => c.action === 'create' || c.action === 'follow').flatMap((c) => c.secrets_missing))];
  if (missing.length) {
    return {
      outcome: 'blocked',
      reason: `secrets not supplied for ${site.site}: ${missing.join(', ')}; nothing was sent to this site (set RGO_SECRET_<NAME> or use --secrets-file)`,
    };
  }
  return null;
}

function blockReason(site: SitePlan, c: PlannedChange, r: PartialResult): string | null {
  switch (r.outcome) {
    case 'succeeded':
      return null;
    case 'skipped':
      return c.action === 'skip-failed' ? `an earlier script of ${site.site} (${c.path}) failed` : null;
    case 'queued':
      return r.reason?.startsWith('not followed') ? null : `the run was stopped before this change was sent; the next run sends it`;
    case 'blocked':
      return r.reason;
    default:
      return `an earlier change of ${site.site} (${c.path}) ${r.outcome === 'timed_out' ? 'timed out' : r.outcome}`;
  }
}

/** One change; null when it is left to be followed at the end of the lane (no acknowledgement). */
async function runChange(
  ctx: RunContext,
  site: SitePlan,
  c: PlannedChange,
  toFollow: Array<{ change: PlannedChange; job: Job; reused: boolean }>,
): Promise<PartialResult | null> {
  if (c.kind === 'removed') return removeScript(ctx, c);
  if (c.action === 'skip-failed') {
    return {
      ...NOT_SENT,
      job_id: c.previous?.job_id ?? null,
      change: c,
      outcome: 'skipped',
      reason:
        c.previous?.phase === 'lost'
          ? `${c.path}: SDX lost its last job after it had started, so it may have run; check the router, then rerun with --retry-failed to send it again`
          : `${c.path} failed before with this content; fix it, or rerun with --retry-failed`,
    };
  }
  const to = ctx.handedTo(c.site_id);
  if (to) return handedOver(c, to);
  const refused = ctx.cannotSend(c.site_id);
  if (refused) return { ...NOT_SENT, change: c, outcome: 'blocked', reason: `${refused} before this change was sent; the next run sends it` };
  if (c.parts) return sendParts(ctx, site, c);
  const found = c.action === 'follow' ? await followedJob(ctx, c, null) : await createJobFor(ctx, site, c, wholeScript(ctx, c));
  if ('outcome' in found) return found;
  const { job, reused } = found;
  ctx.emit({ type: 'job-created', change: c, job, reused });
  ctx.logger.info({ site: c.site, path: c.path, job_id: job.id, key: c.idempotency_key, reused }, reused ? 'following an existing job' : 'job created');
  const st = jobState(job);
  if (st === 'queued' || st === 'running') {
    const url = ctx.logUrl(job);
    ctx.recordSend(c, { phase: st, job_id: job.id, log_url: url });
    if (ctx.noWait)
      return { change: c, job_id: job.id, log_url: url, reused, outcome: 'queued', reason: 'not followed (--no-wait); the next run records its outcome' };
    if (!site.settings.needs_ack) {
      // Without acknowledgement jobs do not wait for each other: follow them all at the end.
      toFollow.push({ change: c, job, reused });
      return null;
    }
  }
  return followJob(ctx, { change: c, job, reused, settings: site.settings });
}

/** A removed script: its pending job (if any) is cancelled, then its tombstone recorded; no job is sent. */
async function removeScript(ctx: RunContext, c: PlannedChange): Promise<PartialResult> {
  const prev = ctx.previous(c);
  let note = '';
  if (c.supersedes) {
    const r = await supersede(ctx, c, c.supersedes, 0);
    if (r === 'still-running') note = `; its job ${c.supersedes.job_id ?? ''} had already started and runs to its end`;
    if (r === 'cancelled') note = '; its pending job was cancelled';
  }
  if (prev) ctx.write([{ site_id: c.site_id, site: c.site, file: c.file, record: tombstone(prev, ctx.iso()) }]);
  return { ...NOT_SENT, change: c, outcome: 'skipped', reason: `the script was removed from the repository: no job is sent${note}` };
}
