// `apply` on a terminal (issue 14): the plan it is about to send, with its findings and diffs, then
// "Send N jobs to M sites? (yes/no)". Asked once the lease is held and the plan is final, so what
// is shown is what is sent; anything but "yes" sends nothing. Never asked without a terminal (CI,
// the Action, the daemon), nor with --yes.
import { planDiffs } from '../core/diff.js';
import type { DesiredFleet } from '../core/model.js';
import type { Plan } from '../core/plan.js';
import { judgePlan, type ApplyGate } from '../core/verdict.js';
import type { GitRepo } from '../git/repo.js';
import { planToText } from '../report/plan-report.js';
import { displayApiUrl } from '../core/api-url.js';
import type { Context } from './context.js';
import { confirm } from './prompt.js';

/** The person at the terminal said no (or nothing): nothing was sent. */
export class ApplyDeclined extends Error {
  constructor() {
    super('apply cancelled at the confirmation: nothing was sent');
    this.name = 'ApplyDeclined';
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Show the plan and ask; throws ApplyDeclined unless the answer is yes. Nothing to send: nothing is asked. */
export async function confirmApply(ctx: Context, repo: GitRepo, plan: Plan, desired: DesiredFleet, opts: ApplyGate & { json: boolean }): Promise<void> {
  const verdict = judgePlan(plan, { allowCheckErrors: opts.allowCheckErrors, allowLockout: opts.allowLockout });
  if (verdict.toSend === 0) return;
  const apiUrl = ctx.runtime.apiUrl;
  const uncommitted = await repo.workingTreeChanges(plan.sites_dir).catch(() => []);
  const text = planToText(
    plan,
    desired.warnings,
    ctx.style,
    { url: displayApiUrl(apiUrl.url), source: apiUrl.source },
    {
      verdict,
      uncommitted,
      diffs: await planDiffs(repo, plan, desired, 50),
    },
  );
  // The plan goes where people read: stdout, unless stdout carries JSON for a tool.
  if (opts.json) ctx.err(text);
  else ctx.out(text);
  const sites = new Set(plan.changes.filter((c) => (c.action === 'create' || c.action === 'follow') && !verdict.blocked.has(c)).map((c) => c.site_id)).size;
  if (!(await confirm(ctx.io, `\nSend ${plural(verdict.toSend, 'job')} to ${plural(sites, 'site')}? (yes/no) `))) throw new ApplyDeclined();
}
