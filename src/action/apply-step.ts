// `apply` (pushes to the default branch): plan, send one SDX job per change and follow each to its
// outcome, with a commit status per site and one for the fleet on the commit each change came from.
// Jobs still pending when the run ends keep a pending status; the next apply (or the daemon)
// follows them and writes their outcome on that same commit.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { reconcile, type ReconcileResult } from '../apply/reconcile.js';
import { applyToJson, applyToMarkdown } from '../report/apply-report.js';
import { siteOutcomes, type StatusWriterReport } from '../github/status-writer.js';
import { statusSink } from '../wiring/github.js';
import type { StateStore } from '../core/ports.js';
import { annotate, planWithHistory, type StepContext } from './context.js';
import type { StepOutcome } from './outcome.js';
import { fitSummary } from './summary.js';

export async function applyStep(ctx: StepContext): Promise<StepOutcome> {
  const { event, logger } = ctx;
  // main.ts refused every other event and branch before the context was built (apply-gate.ts).
  if (event.kind === 'push' && event.deleted) {
    logger.info({ ref: event.ref }, 'the branch was deleted: nothing to apply');
    return { changes: 0, toSend: 0, failedSites: [], pendingSites: [], report: '', reportJson: '', commentUrl: null, failure: null };
  }
  if (event.kind === 'push' && !event.onDefaultBranch) logger.info({ ref: event.ref }, 'applying a push to a branch named in apply-branches');
  await refuseUnreviewedRef(ctx);
  const sdxFor = await ctx.runtime.sdxFactory();
  const store = await ctx.openStore();
  try {
    const { result, statuses } = await applyWithStatuses(ctx, store, sdxFor);
    return await reportApply(ctx, result, statuses);
  } finally {
    await store.close();
  }
}

/**
 * The `ref` input may name any commit; the branch check (apply-gate.ts) vouches only for the branch's
 * own commits. So a `ref` must be the branch head or one of its ancestors, i.e. reviewed into it.
 */
async function refuseUnreviewedRef(ctx: StepContext): Promise<void> {
  const head = ctx.event.sha;
  if (!ctx.inputs.ref || !head) return;
  const wanted = (await ctx.repo.resolveCommit(ctx.inputs.ref)).sha;
  if (wanted === head) return;
  const rel = await ctx.repo.relation(wanted, head);
  if (rel === 'ancestor') return;
  const why =
    rel === 'unknown'
      ? 'their history is not in the clone (checkout with fetch-depth: 0)'
      : `it is not in the history of the branch this run is for (${head.slice(0, 7)})`;
  throw new Error(`the ref input names commit ${wanted.slice(0, 12)}, but ${why}: only commits reviewed into the branch are applied; nothing was sent`);
}

/**
 * Plan first, only to fetch what a shallow checkout lacks (history to order commits); reconcile()
 * then plans again under the lease and hands its plan to the status sink before the first job.
 */
async function applyWithStatuses(
  ctx: StepContext,
  store: StateStore,
  sdxFor: Awaited<ReturnType<StepContext['runtime']['sdxFactory']>>,
): Promise<{ result: ReconcileResult; statuses: StatusWriterReport | null }> {
  const { inputs, env } = ctx;
  const pre = await planWithHistory(ctx, store);
  annotate(ctx, pre.plan, pre.warnings);
  const webUrl = inputs.sdxWebUrl ?? env.SDX_WEB_URL;
  let statuses: StatusWriterReport | null = null;
  const sink =
    ctx.github && inputs.statuses
      ? statusSink(ctx.runtime, ctx.github, { webUrl, siteLimit: inputs.statusLimit, rollupUrl: ctx.runUrl ?? undefined, onReport: (r) => (statuses = r) })
      : null;
  try {
    const result = await reconcile({
      reader: ctx.repo,
      store,
      ref: pre.plan.commit.sha,
      sitesDir: inputs.sites,
      secrets: ctx.secrets,
      ...ctx.runtime.planChecks(ctx.repo),
      retryFailed: inputs.retryFailed,
      snapshot: ctx.runtime.planSnapshot(ctx.repo),
      allowCheckErrors: inputs.allowCheckErrors,
      allowLockout: inputs.allowLockout,
      apiUrl: ctx.apiUrl,
      sdxFor,
      logger: ctx.logger,
      concurrency: inputs.concurrency,
      timeout: inputs.timeout,
      webUrl: webUrl ?? pre.desired.fleet.web_url,
      signal: ctx.signal,
      onPlan: sink?.onPlan,
      onEvent: (e) => sink?.onEvent(e),
      ...ctx.runtime.poll(),
    });
    await sink?.flush?.();
    return { result, statuses };
  } catch (e) {
    // Only once jobs may have gone out (after onPlan): an invalid input sends nothing and leaves no status.
    await sink?.abort?.(((e as Error)?.message ?? String(e)).split('\n')[0]!);
    throw e;
  }
}

/** The step's reports (Markdown and JSON files, the step summary) and outputs. */
async function reportApply(ctx: StepContext, result: ReconcileResult, statuses: StatusWriterReport | null): Promise<StepOutcome> {
  const { inputs, logger } = ctx;
  const sha = result.plan.commit.sha;
  const report = join(ctx.reportDir, `apply-${sha.slice(0, 12)}.md`);
  const reportJson = join(ctx.reportDir, `apply-${sha.slice(0, 12)}.json`);
  const redact = ctx.runtime.redact();
  const md = applyToMarkdown(result) + statusNote(statuses, inputs.statuses, !!ctx.github);
  await writeFile(report, redact(md));
  await writeFile(reportJson, redact(`${JSON.stringify(applyToJson(result, result.warnings), null, 2)}\n`));
  await ctx.io.appendSummary(fitSummary(md, report));
  const verdicts = siteOutcomes(result.results);
  const sitesWith = (o: string) =>
    [...verdicts]
      .filter(([, v]) => v === o)
      .map(([s]) => s)
      .sort();
  const failedSites = sitesWith('failed');
  const pendingSites = sitesWith('pending');
  if (pendingSites.length)
    logger.warn(
      { sites: pendingSites.join(',') },
      'jobs still pending when the run ended; their statuses stay pending until the next run (or the daemon) records the outcome',
    );
  let failure: string | null = null;
  if (failedSites.length)
    failure = `${failedSites.length} site${failedSites.length === 1 ? '' : 's'} failed: ${failedSites.join(', ')}; see the step summary and the commit statuses`;
  else if (result.plan.missing_history.length) failure = result.plan.sites.find((s) => s.status === 'unknown-history')?.reason ?? 'history is missing';
  else if (result.interrupted) failure = `${result.stop_reason ?? 'the run was stopped'} before every change was sent; the next run sends the rest`;
  return { changes: result.plan.changes.length, toSend: result.plan.summary.to_send, failedSites, pendingSites, report, reportJson, commentUrl: null, failure };
}

function statusNote(report: StatusWriterReport | null, wanted: boolean, hasGitHub: boolean): string {
  if (!wanted) return '';
  if (!hasGitHub) return '\n> No commit statuses: the Action has no github-token or GITHUB_REPOSITORY.\n';
  if (!report) return '';
  const parts = [
    `${report.posted.length} commit statuses written`,
    report.unchanged ? `${report.unchanged} already shown` : '',
    report.failed ? `${report.failed} could not be written` : '',
  ].filter(Boolean);
  return `\n${parts.join(', ')}.${report.disabled ? ` ${report.disabled}.` : ''}\n`;
}
