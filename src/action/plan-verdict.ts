// The Action's plan step and apply (issue 14): what apply would do with the plan, judged with the
// step's own inputs (allow-check-errors, allow-lockout), and whether the plan step fails for it.
// Secrets are not judged here: a pull request's plan runs without the apply job's secrets.
import type { Plan } from '../core/plan.js';
import { judgePlan, type PlanVerdict } from '../core/verdict.js';
import type { ActionInputs } from './inputs.js';

/** The verdict a plan step reports (and the Markdown shows). */
export function planStepVerdict(plan: Plan, inputs: Pick<ActionInputs, 'allowCheckErrors' | 'allowLockout'>): PlanVerdict {
  return judgePlan(plan, { allowCheckErrors: inputs.allowCheckErrors, allowLockout: inputs.allowLockout, secrets: false });
}

/**
 * The sites with a script check error, or a lockout risk apply would refuse (the `failed-sites`
 * output), and the step's failure message when apply would refuse the commit, else null.
 */
export function planStepFailure(v: PlanVerdict): { sites: string[]; failure: string | null } {
  const sites = [...new Set([...v.errors, ...(v.gate.allowLockout ? [] : v.lockouts)].map((x) => x.site))].sort();
  if (!v.refused) return { sites, failure: null };
  const what = [
    v.errors.length && !v.gate.allowCheckErrors ? 'script check errors' : '',
    v.lockouts.length && !v.gate.allowLockout ? 'lockout risks not acknowledged' : '',
  ]
    .filter(Boolean)
    .join(' and ');
  const how = [
    v.errors.length && !v.gate.allowCheckErrors ? 'fix the scripts (or set allow-check-errors)' : '',
    v.lockouts.length && !v.gate.allowLockout
      ? 'acknowledge each lockout risk with "# routeros-gitops: allow <rule>" in its script (or set allow-lockout on the apply step)'
      : '',
  ]
    .filter(Boolean)
    .join('; ');
  return {
    sites,
    failure: `${what} on ${sites.length} site${sites.length === 1 ? '' : 's'} (${sites.join(', ')}): apply would refuse this commit and send nothing; ${how}`,
  };
}
