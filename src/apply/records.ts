// The state records a run writes: intents before any job, then each job's phase as it goes, and
// tombstones for removed scripts. Pure functions of the change, the desired script and the record
// the plan saw.
import type { DesiredFleet, DesiredScript } from '../core/model.js';
import type { Plan, PlannedChange } from '../core/plan.js';
import { FLEET_STATE_ID, FLEET_STATE_NAME, type AppliedRecord, type AppliedState, type JobPhase, type ScriptRecord, type StateUpdate } from '../core/state.js';

export interface RecordFields {
  phase: JobPhase;
  job_id: string | null;
  at: string;
  log_url?: string | null;
  supersedes?: ScriptRecord['supersedes'];
  /** For a split send: the part this record is about. */
  part?: ScriptRecord['part'];
  /** A lost job that had been seen running. */
  started?: boolean;
}

/** The last successful send, kept on a record that is not itself one. */
export function lastApplied(prev: ScriptRecord | undefined): AppliedRecord | null {
  if (!prev) return null;
  if (prev.phase === 'succeeded') return { fingerprint: prev.fingerprint, commit: prev.commit, job_id: prev.job_id, key: prev.key, at: prev.at };
  return prev.applied ?? null;
}

/** The record of change `c` (a send) in `fields.phase`. */
export function makeRecord(c: PlannedChange, sc: DesiredScript | undefined, prev: ScriptRecord | undefined, fields: RecordFields): ScriptRecord {
  const sameSend = prev !== undefined && prev.key === c.idempotency_key;
  return {
    path: c.path,
    generation: c.generation,
    fingerprint: c.fingerprint!,
    commit: c.commit,
    key: c.idempotency_key!,
    job_id: fields.job_id,
    phase: fields.phase,
    at: fields.at,
    intended_at: sameSend ? prev.intended_at : fields.at,
    source: sc ? { blob: sc.blob, inputs: sc.inputs } : (prev?.source ?? { blob: '', inputs: '' }),
    uses: sc?.uses ?? prev?.uses ?? { vars: [], secrets: [] },
    secret_digests: sc?.secretDigests ?? prev?.secret_digests ?? {},
    log_url: fields.log_url ?? (sameSend ? (prev?.log_url ?? null) : null),
    supersedes: fields.supersedes ?? null,
    applied: fields.phase === 'succeeded' ? null : lastApplied(prev),
    part: fields.part ? withSplitMax(fields.part, sc?.parts?.max ?? (sameSend ? prev?.part?.max : undefined)) : null,
    ...(fields.started && { started: true }),
  };
}

/** A part record, with the max_script_size its send was split with (when known). */
function withSplitMax(part: { index: number; count: number }, max: number | undefined): NonNullable<ScriptRecord['part']> {
  return max === undefined ? { index: part.index, count: part.count } : { index: part.index, count: part.count, max };
}

/** A removed script's tombstone: it keeps the send counter (so no old key comes back) and the last success. */
export function tombstone(prev: ScriptRecord, at: string): ScriptRecord {
  return { ...prev, phase: 'removed', at, supersedes: null, applied: lastApplied(prev) };
}

/** The record a moved script gets: the same send, at its new path. */
export function moved(prev: ScriptRecord, path: string, at: string): ScriptRecord {
  return { ...prev, path, at };
}

/** Look up a change's desired script. */
export function scriptIndex(desired: DesiredFleet): (c: PlannedChange) => DesiredScript | undefined {
  const scripts = new Map<string, DesiredScript>();
  for (const s of desired.sites) for (const sc of s.scripts) scripts.set(`${s.id}\0${sc.file}`, sc);
  return (c) => scripts.get(`${c.site_id}\0${c.file}`);
}

/**
 * What is written before any job is created: the intent (key and content) of every send, each
 * site's new last commit, the fleet's (so that no older run sends anything afterwards), moves and
 * renames (no job), and the secrets key's check value the first time.
 */
export function intentUpdates(
  plan: Plan,
  state: AppliedState,
  scriptOf: (c: PlannedChange) => DesiredScript | undefined,
  at: string,
  keyCheck: string | null,
): StateUpdate[] {
  const updates: StateUpdate[] = [];
  for (const site of plan.sites) {
    if (site.status !== 'ok') continue;
    const records = state.sites[site.site_id]?.scripts ?? {};
    let anchored = false;
    const sends = site.changes.some((c) => c.action === 'create' || c.action === 'follow');
    for (const c of site.changes) {
      if (c.action !== 'create') continue;
      const u: StateUpdate = {
        site_id: c.site_id,
        site: c.site,
        file: c.file,
        record: makeRecord(c, scriptOf(c), records[c.file], {
          phase: 'intent',
          job_id: null,
          at,
          supersedes: c.supersedes,
          part: c.parts ? { index: c.from_part, count: c.parts.length } : null,
        }),
      };
      if (!anchored && state.sites[site.site_id]?.last_commit !== plan.commit.sha) {
        u.last_commit = plan.commit.sha;
        anchored = true;
      }
      updates.push(u);
    }
    if (!anchored && sends && state.sites[site.site_id]?.last_commit !== plan.commit.sha) {
      updates.push({ site_id: site.site_id, site: site.site, last_commit: plan.commit.sha });
    }
    if (site.renamed_from || (!site.removed && state.sites[site.site_id]?.removed_at)) {
      updates.push({ site_id: site.site_id, site: site.site, removed_at: null });
    }
  }
  for (const m of plan.moves) {
    const site = plan.sites.find((s) => s.site_id === m.site_id);
    const prev = state.sites[m.site_id]?.scripts[m.file];
    if (site?.status === 'ok' && prev) updates.push({ site_id: m.site_id, site: m.site, file: m.file, record: moved(prev, m.to, at) });
  }
  const fleet = state.sites[FLEET_STATE_ID];
  // The fleet was reconciled at this commit: an older run must send nothing, anywhere. Written with
  // the intents, before any job, unless this run is itself behind (then no site is ok).
  const fleetUpdate: StateUpdate = { site_id: FLEET_STATE_ID, site: FLEET_STATE_NAME };
  if (plan.sites.some((s) => s.status === 'ok') && plan.fleet_last_commit !== plan.commit.sha) {
    fleetUpdate.last_commit = plan.commit.sha;
    fleetUpdate.heads = plan.fleet_heads;
  }
  if (keyCheck && !fleet?.secrets_key_check) fleetUpdate.secrets_key_check = keyCheck;
  if (fleetUpdate.last_commit || fleetUpdate.secrets_key_check) updates.push(fleetUpdate);
  return updates;
}
