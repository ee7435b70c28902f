// One core for the three entry points: read the desired fleet at a ref, the applied state, and
// make the plan. Entry points build the adapters (git reader, state store, secrets) and pass them in.
import { InputError, type Problem } from './errors.js';
import type { CommitRelation, RepoReader, StateStore } from './ports.js';
import type { AppliedState } from './state.js';
import { readFleet, renderFleet, type DesiredFleet, type LintFn, type ParseCache, type SecretSource } from './model.js';
import { plan, type Plan } from './plan.js';

export interface PlanRequest {
  reader: RepoReader;
  state: StateStore | AppliedState;
  ref: string;
  sitesDir: string;
  secrets?: SecretSource;
  lint?: LintFn;
  retryFailed?: boolean;
  /** Read and check every script, not only the changed ones. */
  readAll?: boolean;
  /** Renderings to keep (see RenderOptions.keep). */
  keep?: { display?: boolean; body?: boolean };
  /** Parsed settings files kept between runs; saved once the fleet is read. */
  cache?: ParseCache & { save(): Promise<void> };
}

export interface PlanResult {
  plan: Plan;
  desired: DesiredFleet;
  state: AppliedState;
  warnings: Problem[];
}

/** Build the plan, or throw InputError listing every problem of the input at once. */
export async function makePlan(req: PlanRequest): Promise<PlanResult> {
  const commit = await req.reader.resolveCommit(req.ref);
  const state = 'load' in req.state ? await req.state.load() : req.state;
  const model = await readFleet(req.reader, commit, req.sitesDir, req.cache);
  await req.cache?.save();
  const desired = await renderFleet(req.reader, model, state, { secrets: req.secrets, lint: req.lint, readAll: req.readAll, retryFailed: req.retryFailed, keep: req.keep });
  if (desired.problems.length) throw new InputError(desired.problems);
  const relations: Record<string, CommitRelation> = {};
  const lasts = new Set(Object.values(state.sites).map((s) => s.last_commit).filter((c): c is string => !!c));
  await Promise.all(
    [...lasts].map(async (last) => {
      relations[last] = await req.reader.relation(commit.sha, last);
    }),
  );
  const p = plan(desired, state, { ref: req.ref, relations, retryFailed: req.retryFailed });
  return { plan: p, desired, state, warnings: desired.warnings };
}
