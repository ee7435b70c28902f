// `apply` (pushes to the default branch): plan, send one SDX job per change and follow each to its
// outcome, with a commit status per site and one for the fleet on the commit each change came from.
// Jobs still pending when the run ends keep a pending status; the next apply (or the daemon)
// follows them and writes their outcome on that same commit.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lintHook } from '../core/checks.js';
import { reconcile } from '../apply/reconcile.js';
import { createSdxClient } from '../sdx/client.js';
import { applyToJson, applyToMarkdown } from '../report/apply-report.js';
import { createStatusWriter, siteOutcomes, type StatusWriter, type StatusWriterReport } from '../github/status-writer.js';
import { annotate, planWithHistory, type StepContext } from './context.js';
import type { Plan } from '../core/plan.js';
import type { DesiredFleet } from '../core/model.js';
import type { StepOutcome } from './outcome.js';
import { fitSummary } from './summary.js';

export async function applyStep(ctx: StepContext): Promise<StepOutcome> {
  const { inputs, env, event, logger } = ctx;
  // main.ts refused every other event and branch before the context was built (apply-gate.ts).
  if (event.kind === 'push' && event.deleted) {
    logger.info({ ref: event.ref }, 'the branch was deleted: nothing to apply');
    return { changes: 0, toSend: 0, failedSites: [], pendingSites: [], report: '', reportJson: '', commentUrl: null, failure: null };
  }
  if (event.kind === 'push' && !event.onDefaultBranch) logger.info({ ref: event.ref }, 'applying a push to a branch named in apply-branches');
  const token = inputs.sdxApiToken!;
  const store = await ctx.openStore();
  let writer: StatusWriter | null = null;
  try {
    // Plan first, only to fetch what a shallow checkout lacks (history to order commits);
    // reconcile() then plans from the same state and hands its plan to onPlan, where the status
    // writer is sized (site limit) and the roll-up turns pending, once the input is known valid.
    const pre = await planWithHistory(ctx, store);
    annotate(ctx, pre.plan, pre.warnings);
    const webUrlOf = (fleetWebUrl: string) => inputs.sdxWebUrl ?? env.SDX_WEB_URL ?? fleetWebUrl;
    const onPlan = (plan: Plan, desired: DesiredFleet) => {
      if (!ctx.github || !inputs.statuses) return;
      writer = createStatusWriter({
        octokit: ctx.github.client,
        owner: ctx.github.owner,
        repo: ctx.github.repo,
        logger,
        siteLimit: inputs.statusLimit ?? desired.fleet.status_limit,
        rollupUrl: ctx.runUrl ?? undefined,
        webUrl: webUrlOf(desired.fleet.web_url),
        redact: (s) => ctx.secretsRedact()(s),
      });
      writer.begin(plan);
    };
    let result: Awaited<ReturnType<typeof reconcile>>;
    try {
      const poll = (v: string | undefined) => (v && Number(v) > 0 ? Number(v) : undefined);
      result = await reconcile({
        reader: ctx.repo,
        store,
        ref: pre.plan.commit.sha,
        sitesDir: inputs.sites,
        secrets: ctx.secrets,
        lint: lintHook,
        retryFailed: inputs.retryFailed,
        allowCheckErrors: inputs.allowCheckErrors,
        apiUrl: ctx.apiUrl,
        sdxFor: (f) =>
          createSdxClient({
            baseUrl: ctx.apiUrl.url,
            token,
            requestsPerMinute: env.RGO_RATE_LIMIT !== undefined && env.RGO_RATE_LIMIT !== '' ? Number(env.RGO_RATE_LIMIT) : f.rate_limit,
            logger,
            signal: ctx.signal,
          }),
        logger,
        concurrency: inputs.concurrency,
        timeout: inputs.timeout,
        webUrl: webUrlOf(pre.desired.fleet.web_url),
        signal: ctx.signal,
        onPlan,
        onEvent: (e) => writer?.onEvent(e),
        pollInitialMs: poll(env.RGO_POLL_INITIAL_MS),
        pollMaxMs: poll(env.RGO_POLL_MAX_MS),
      });
    } catch (e) {
      // Only once jobs may have gone out (after onPlan): an invalid input sends nothing and leaves no status.
      await (writer as StatusWriter | null)?.abort(((e as Error)?.message ?? String(e)).split('\n')[0]!);
      throw e;
    }
    const statuses = writer ? await (writer as StatusWriter).flush() : null;

    const sha = result.plan.commit.sha;
    const report = join(ctx.reportDir, `apply-${sha.slice(0, 12)}.md`);
    const reportJson = join(ctx.reportDir, `apply-${sha.slice(0, 12)}.json`);
    const redact = ctx.secretsRedact();
    const md = applyToMarkdown(result) + statusNote(statuses, inputs.statuses, !!ctx.github);
    await writeFile(report, redact(md));
    await writeFile(reportJson, redact(`${JSON.stringify(applyToJson(result, result.warnings), null, 2)}\n`));
    await ctx.io.appendSummary(fitSummary(md, report));

    const verdicts = siteOutcomes(result.results);
    const failedSites = [...verdicts]
      .filter(([, o]) => o === 'failed')
      .map(([s]) => s)
      .sort();
    const pendingSites = [...verdicts]
      .filter(([, o]) => o === 'pending')
      .map(([s]) => s)
      .sort();
    if (pendingSites.length)
      logger.warn(
        { sites: pendingSites.join(',') },
        'jobs still pending when the run ended; their statuses stay pending until the next run (or the daemon) records the outcome',
      );
    let failure: string | null = null;
    if (failedSites.length)
      failure = `${failedSites.length} site${failedSites.length === 1 ? '' : 's'} failed: ${failedSites.join(', ')}; see the step summary and the commit statuses`;
    else if (result.interrupted) failure = 'the run was stopped before every change was sent; the next run sends the rest';
    return {
      changes: result.plan.changes.length,
      toSend: result.plan.summary.to_send,
      failedSites,
      pendingSites,
      report,
      reportJson,
      commentUrl: null,
      failure,
    };
  } finally {
    await store.close();
  }
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
