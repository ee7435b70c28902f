// Records and updates of the applied state for the state store suites: one script's record, and the
// update that stores it for a site.
import type { JobPhase, ScriptRecord, StateUpdate } from '../../src/core/state.js';

export const COMMIT = `${'c0ffee'.repeat(6)}c0ff`;

/** A script's record under `key`: its job `job-<key>`, in `phase` since `at`. */
export function scriptRecord(key: string, phase: JobPhase = 'succeeded', at = '2026-03-01T10:00:00.000Z'): ScriptRecord {
  return {
    path: `sites/x/${key}`,
    generation: 1,
    fingerprint: `fp-${key}`,
    commit: COMMIT,
    key,
    job_id: `job-${key}`,
    phase,
    at,
    intended_at: at,
    source: { blob: 'b'.repeat(40), inputs: 'i' },
  };
}

/** The update that records `r` (default: a succeeded record keyed `<siteId>/<file>`) for a site's file. */
export function stateUpdate(siteId: string, file: string, r: ScriptRecord = scriptRecord(`${siteId}/${file}`)): StateUpdate {
  return { site_id: siteId, site: `name-${siteId}`, file, record: r };
}

/** The files of the repository the state store suites write their state ref into. */
export const STATE_REPO_FILES = { 'sites/hq/10-firewall.rsc': '/ip firewall filter print\n' };
