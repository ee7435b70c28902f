// The state is an output too: it is pushed to the remote and kept in its history. The only free
// text a record holds is what SDX said (the job's log_url); everything else is ids, hashes, times
// and names from the repository. This wrapper passes that text through the redactor before it is
// stored, and leaves the rest alone (a short secret that happens to occur inside a commit id must
// not corrupt the state).
import type { Redact } from '../core/redact.js';
import type { StateStore } from '../core/ports.js';
import type { StateUpdate } from '../core/state.js';

export function redactingStateStore(store: StateStore, redact: () => Redact): StateStore {
  const scrub = (u: StateUpdate): StateUpdate => {
    const url = u.record?.log_url;
    if (!u.record || !url) return u;
    const clean = redact()(url);
    return clean === url ? u : { ...u, record: { ...u.record, log_url: clean } };
  };
  return {
    load: () => store.load(),
    record: (updates) => store.record(updates.map(scrub)),
    changeLease: (change) => store.changeLease(change),
    readLease: () => store.readLease(),
    close: () => store.close(),
    describe: () => store.describe(),
    index: store.index && (() => store.index!()),
    indexSince: store.indexSince && ((base) => store.indexSince!(base)),
    loadFiles: store.loadFiles && ((index, paths) => store.loadFiles!(index, paths)),
    // The plan index holds ids, hashes, names and job settings from the repository: nothing to scrub.
    readPlanIndex: store.readPlanIndex && ((head) => store.readPlanIndex!(head)),
    writePlanIndex: store.writePlanIndex && ((index) => store.writePlanIndex!(index)),
  };
}
