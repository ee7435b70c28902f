// Plan then apply: the one function behind `apply`, the Action's apply and each daemon run.
import { InputError, type Problem } from '../core/errors.js';
import { makePlan, type PlanRequest } from '../core/engine.js';
import type { StateStore } from '../core/ports.js';
import type { FleetDefaults } from '../core/settings.js';
import type { Plan } from '../core/plan.js';
import type { DesiredFleet } from '../core/model.js';
import type { SdxClient } from '../core/jobs.js';
import { applyPlan, type ApplyOptions, type ApplyResult } from './apply.js';
import { checkFleetApiUrl, type OperatorApiUrl } from '../core/api-url.js';

export interface ReconcileRequest extends Omit<PlanRequest, 'state'>, Omit<ApplyOptions, 'sdx' | 'store' | 'concurrency' | 'webUrl'> {
  store: StateStore;
  /** Builds the SDX client once the fleet settings (rate limit) are known; it sends to `apiUrl`. */
  sdxFor: (fleet: FleetDefaults) => SdxClient;
  /** The operator's SDX API URL: a fleet file naming another one sends nothing (issue 13, core/api-url.ts). */
  apiUrl: OperatorApiUrl;
  /** Overrides the fleet's concurrency setting. */
  concurrency?: number;
  /** Overrides every site's timeout (seconds). */
  timeout?: number;
  /** Overrides the fleet's web_url. */
  webUrl?: string;
  /** Apply even when a script check reports an error. */
  allowCheckErrors?: boolean;
  /** Called with the plan once it is known to be valid, before the first job is created. */
  onPlan?: (plan: Plan, desired: DesiredFleet) => void | Promise<void>;
}

export interface ReconcileResult extends ApplyResult {
  warnings: Problem[];
}

export async function reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
  const { plan, desired, state, warnings, incremental } = await makePlan({ ...req, state: req.store, keep: { display: false, body: true } });
  if (incremental)
    req.logger.debug(incremental, `incremental plan: ${incremental.from_snapshot} sites unchanged since the last plan, ${incremental.read} read`);
  // Issue 13: the repository cannot redirect the token; refused before anything is sent or shown as pending.
  await checkFleetApiUrl(req.reader, desired, req.apiUrl);
  if (!req.allowCheckErrors) {
    const problems: Problem[] = [];
    const seen = new Set<string>();
    for (const c of plan.changes) {
      if (c.action !== 'create') continue;
      for (const f of c.findings) {
        if (f.severity !== 'error') continue;
        const k = `${c.path}:${f.line}:${f.column}:${f.rule}`;
        if (seen.has(k)) continue;
        seen.add(k);
        problems.push({
          file: c.path,
          line: f.line,
          column: f.column,
          site: c.group ? undefined : c.site,
          message: `${f.message} [${f.rule}]`,
          hint: `fix the script, acknowledge it with "# routeros-gitops: allow ${f.rule}" where the rule allows it, or pass --allow-check-errors`,
        });
      }
    }
    if (problems.length) throw new InputError(problems);
  }
  if (req.timeout) for (const s of plan.sites) s.settings = { ...s.settings, timeout: req.timeout };
  await req.onPlan?.(plan, desired);
  const sdx = req.sdxFor(desired.fleet);
  try {
    const result = await applyPlan(plan, desired, state, {
      ...req,
      sdx,
      store: req.store,
      concurrency: req.concurrency ?? desired.fleet.concurrency,
      webUrl: req.webUrl ?? desired.fleet.web_url,
    });
    return { ...result, warnings };
  } finally {
    await sdx.close();
  }
}
