// `plan` (pull requests, merge queues, or any event): plan the commit against the applied state,
// write the full report to the step summary and a file, annotate script findings at file and line,
// and keep one plan comment on the pull request. Sends nothing to SDX and writes no state.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { planDiffs } from '../core/diff.js';
import { planToJson, planToMarkdown } from '../report/plan-report.js';
import { fitComment, planMarker, upsertComment } from '../github/pr-comment.js';
import { describeGitHubError } from '../github/octokit.js';
import { annotate, planWithHistory, type StepContext } from './context.js';
import type { StepOutcome } from './outcome.js';
import { fitSummary, withoutMarker } from './summary.js';
import { checkFleetApiUrl, displayApiUrl } from '../core/api-url.js';
import type { Problem } from '../core/errors.js';
import type { Plan } from '../core/plan.js';
import type { PlanVerdict } from '../core/verdict.js';
import { planStepFailure, planStepVerdict } from './plan-verdict.js';

export async function planStep(ctx: StepContext): Promise<StepOutcome> {
  const store = await ctx.openStore();
  try {
    const { plan, desired, warnings } = await planWithHistory(ctx, store);
    // apply would refuse a fleet file that names another SDX URL: so does the plan (issue 13).
    await checkFleetApiUrl(ctx.repo, desired, ctx.apiUrl);
    const target = { url: displayApiUrl(ctx.apiUrl.url), source: ctx.apiUrl.source };
    const marker = planMarker(ctx.inputs.sites);
    const verdict = planStepVerdict(plan, ctx.inputs);
    const full = planToMarkdown(plan, {
      diffs: await planDiffs(ctx.repo, plan, desired),
      warnings,
      marker,
      target,
      verdict,
      allowLockoutFlag: 'allow-lockout: true',
    });
    const { report, reportJson } = await writePlanReports(ctx, plan, warnings, target, verdict, withoutMarker(full, marker));

    const dropped = annotate(ctx, plan, warnings);
    const notes: string[] = [];
    if (dropped)
      notes.push(`> ${dropped} more script findings are not shown as annotations (GitHub shows 10 of each kind per step); they are all listed above.`);
    const comment = await commentPlan(ctx, full, marker, notes);
    await ctx.io.appendSummary(fitSummary(withoutMarker(full, marker), report) + (notes.length ? `\n${notes.join('\n\n')}\n` : ''));
    // apply would refuse these (check errors, lockout risks): say so on the pull request's checks, not only in annotations.
    const refused = planStepFailure(verdict);
    const failure = comment.failure ?? refused.failure;
    return {
      changes: plan.changes.length,
      toSend: verdict.toSend,
      failedSites: refused.sites,
      pendingSites: [],
      report,
      reportJson,
      commentUrl: comment.url,
      failure,
    };
  } finally {
    await store.close();
  }
}

/** The full plan as Markdown (without the comment's marker) and JSON files in the report folder, redacted. */
async function writePlanReports(
  ctx: StepContext,
  plan: Plan,
  warnings: Problem[],
  target: { url: string; source: string },
  verdict: PlanVerdict,
  markdown: string,
): Promise<{ report: string; reportJson: string }> {
  const name = `plan-${plan.commit.sha.slice(0, 12)}`;
  const report = join(ctx.reportDir, `${name}.md`);
  const reportJson = join(ctx.reportDir, `${name}.json`);
  const redact = ctx.secretsRedact();
  await writeFile(report, redact(markdown));
  await writeFile(reportJson, redact(`${JSON.stringify(planToJson(plan, warnings, target, { verdict }), null, 2)}\n`));
  ctx.logger.info({ changes: plan.changes.length, to_send: plan.summary.to_send, commit: plan.commit.sha.slice(0, 12) }, 'planned');
  return { report, reportJson };
}

/**
 * Keep one plan comment on the pull request (none for a fork's, nor for other events). What the
 * step summary should add is pushed on `notes`; a comment that could not be written is the failure.
 */
async function commentPlan(ctx: StepContext, full: string, marker: string, notes: string[]): Promise<{ url: string | null; failure: string | null }> {
  const pr = ctx.event.kind === 'pull_request' ? ctx.event : null;
  if (pr && ctx.untrusted) {
    notes.push(
      `> Pull request #${pr.number} comes from a fork: it was planned without secrets (a rotated secret does not show as a change), and nothing was written to GitHub (a fork's token is read-only). The plan is shown here.`,
    );
    return { url: null, failure: null };
  }
  if (!pr || !ctx.inputs.comment || !ctx.github) return { url: null, failure: null };
  const where = ctx.runUrl ? `the [step summary](${ctx.runUrl}) of this run` : 'the step summary of this run';
  const { body, cut } = fitComment(
    ctx.secretsRedact()(full),
    (shown, total) =>
      `---\n**This plan is cut here: ${shown} of ${total} characters are shown.** The full plan is in ${where} (and in the file named by the \`report\` output).`,
  );
  try {
    const gh = ctx.github;
    const res = await upsertComment({ octokit: gh.client, owner: gh.owner, repo: gh.repo, issueNumber: pr.number, marker, body, logger: ctx.logger });
    if (res.result === 'forbidden') {
      const why = 'give the workflow "permissions: pull-requests: write"';
      ctx.logger.warn({ err: res.error }, `cannot comment on pull request #${pr.number} (${why}); the plan is in the step summary`);
      notes.push(`> The plan could not be posted on pull request #${pr.number}: ${res.error} (${why}). It is shown here instead.`);
      return { url: null, failure: null };
    }
    ctx.logger.info({ pull_request: pr.number, comment: res.result, cut }, `plan comment ${res.result}`);
    return { url: res.url, failure: null };
  } catch (e) {
    const failure = `could not write the plan comment on pull request #${pr.number}: ${describeGitHubError(e)}`;
    notes.push(`> ${failure}`);
    return { url: null, failure };
  }
}
