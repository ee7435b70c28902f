// After an apply (issue 18): plan once more at the applied commit, incrementally (only the sites
// whose state this run changed are read), and keep what that plan found clean in the state as its
// plan index, so that the next plan reads only what changed since, in whatever clone it runs (the
// GitHub Action plans in a fresh clone every time). The cost is paid here, once per apply, never by
// a plan. Losing the index costs only time: a failure here is a warning, never the run's failure.
import { makePlan, type PlanRequest } from '../core/engine.js';
import type { Logger } from '../core/logger.js';
import type { StateStore } from '../core/ports.js';
import type { SnapshotStore } from '../core/snapshot.js';

export interface PlanIndexRequest extends Pick<PlanRequest, 'reader' | 'sitesDir' | 'secrets' | 'lint' | 'cache' | 'snapshot'> {
  store: StateStore;
  /** The commit that was applied. */
  commit: string;
  logger: Logger;
}

/** Plan at `commit` and record its clean sites as the state's plan index (when the store keeps one). */
export async function recordPlanIndex(req: PlanIndexRequest): Promise<void> {
  const { store, logger } = req;
  if (!store.writePlanIndex || !store.index) return;
  try {
    // Plans are mostly made without --retry-failed: the index is made for them.
    const after = await makePlan({
      reader: req.reader,
      state: store,
      ref: req.commit,
      sitesDir: req.sitesDir,
      secrets: req.secrets,
      lint: req.lint,
      cache: req.cache,
      keep: { display: false, body: false },
      snapshot: req.snapshot ?? noSnapshot(),
    });
    if (!after.planIndex) return;
    await store.writePlanIndex(after.planIndex);
    logger.debug({ sites: after.planIndex.sites.size, read: after.incremental?.read }, 'plan index kept in the state');
  } catch (e) {
    logger.warn({ err: (e as Error).message }, 'could not keep the plan index in the state; the next plan reads more of the fleet');
  }
}

/** A snapshot store holding nothing: the plan takes what it can from the state's plan index. */
function noSnapshot(): SnapshotStore {
  return { load: async () => undefined, save: async () => {} };
}
