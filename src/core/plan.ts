// The plan: a pure function of the desired fleet (rendered at a commit) and the applied state.
// It decides, per site and script in order, what changed, which idempotency key each change
// uses and whether a job is created, followed, skipped or refused. Applying is a separate step.
import type { CommitInfo, CommitRelation } from './ports.js';
import { FLEET_STATE_ID, PENDING_PHASES, type AppliedState, type ScriptRecord } from './state.js';
import type { DesiredFleet, ScriptFinding } from './model.js';
import type { JobSettings } from './settings.js';
import { idempotencyKey } from './keys.js';
import { renderDescription } from './description.js';

export type ChangeKind = 'added' | 'modified' | 'removed';

/**
 * What apply does with a change: `create` a job; `follow` the job a previous run created;
 * `skip-failed` (the same content failed before; --retry-failed sends it again with a new key);
 * `stale` (the site was applied from a newer commit: nothing is sent); `none` (removed scripts).
 */
export type ChangeAction = 'create' | 'follow' | 'skip-failed' | 'stale' | 'none';

export interface PlannedChange {
  site: string;
  site_id: string;
  /** Repository-relative path of the script. */
  path: string;
  kind: ChangeKind;
  action: ChangeAction;
  /** null for removed scripts (no job is sent). */
  idempotency_key: string | null;
  /** The X-Description sent with the job; null for removed scripts. */
  description: string | null;
  fingerprint: string | null;
  previous_fingerprint: string | null;
  /** The commit the content comes from: the planned commit, or for a change a previous run already started, the commit it was first sent from. */
  commit: string;
  attempt: number;
  /** The job a previous run created for this same change (action follow). */
  job_id: string | null;
  /** A job of older content still pending for this script: cancelled before the new one is created. */
  supersedes: { job_id: string | null; key: string; commit: string } | null;
  /** The group, for a shared script. */
  group: string | null;
  /** Names of the secrets the script needs, and those not supplied to this run. */
  secrets: string[];
  secrets_missing: string[];
  findings: ScriptFinding[];
  /** The script's last record, for reports. */
  previous: { commit: string; phase: string; at: string; job_id: string | null } | null;
}

export type SiteStatus = 'ok' | 'stale' | 'unknown-history';

export interface SitePlan {
  site: string;
  site_id: string;
  status: SiteStatus;
  /** Why nothing is sent, for stale sites. */
  reason: string | null;
  last_commit: string | null;
  settings: JobSettings;
  changes: PlannedChange[];
  /** How many scripts the site has, changed or not. */
  scripts: number;
}

export interface Plan {
  ref: string;
  commit: CommitInfo;
  /** The newest commit an apply reconciled the fleet at (null before the first apply). */
  fleet_last_commit: string | null;
  sites_dir: string;
  sites: SitePlan[];
  /** Every change of every site, in order (site name, then script order). */
  changes: PlannedChange[];
  summary: { sites: number; sites_changed: number; added: number; modified: number; removed: number; stale_sites: number; to_send: number };
}

export interface PlanOptions {
  ref: string;
  /** How the planned commit relates to each site's last applied commit (keyed by that commit). */
  relations: Readonly<Record<string, CommitRelation>>;
  /** Send again, with a new key, changes whose content failed before. */
  retryFailed?: boolean;
  /**
   * Sites known to have nothing to send (an incremental plan: neither their folder nor their state
   * changed since a plan that found them so). They are neither in `desired` nor in `state`.
   */
  clean?: readonly CleanSite[];
}

/** A site with nothing to send, as an earlier plan left it (see PlanOptions.clean). */
export interface CleanSite {
  site: string;
  site_id: string;
  /** The site's own last applied commit, from its state. */
  last_commit: string | null;
  settings: JobSettings;
  scripts: number;
}

/** Whether a site may be sent to from the planned commit (never backwards), and which last commit decides. */
function siteStatus(
  commit: CommitInfo,
  siteLast: string | null | undefined,
  fleetLast: string | null,
  relations: Readonly<Record<string, CommitRelation>>,
): { status: SiteStatus; reason: string | null; last: string | null } {
  // The site's own last commit, and the fleet's: the newer run wins (never backwards, for any site).
  const candidates = [siteLast, fleetLast].filter((c): c is string => !!c);
  const rel = (c: string): CommitRelation => relations[c] ?? 'unknown';
  const last = candidates.find((c) => rel(c) === 'ancestor') ?? candidates.find((c) => rel(c) === 'unknown') ?? siteLast ?? null;
  const relation: CommitRelation = last ? rel(last) : 'descendant';
  if (relation === 'ancestor') {
    const whose = last === siteLast ? 'this site was last applied from' : 'the fleet was last applied at';
    return {
      status: 'stale',
      last,
      reason: `commit ${commit.sha.slice(0, 7)} is older than ${last!.slice(0, 7)}, which ${whose}; nothing is sent (never backwards)`,
    };
  }
  if (relation === 'unknown') {
    return {
      status: 'unknown-history',
      last,
      reason: `the site was last applied from ${last!.slice(0, 7)}, which is not in this clone, so it cannot be shown that ${commit.sha.slice(0, 7)} is newer; fetch more history (git fetch --unshallow)`,
    };
  }
  return { status: 'ok', reason: null, last };
}

export function plan(desired: DesiredFleet, state: AppliedState, options: PlanOptions): Plan {
  const commit = desired.commit;
  const sites: SitePlan[] = [];
  const seen = new Set<string>([FLEET_STATE_ID]);
  const fleetLast = state.sites[FLEET_STATE_ID]?.last_commit ?? null;
  for (const site of desired.sites) {
    seen.add(site.id);
    const siteState = state.sites[site.id];
    const records = siteState?.scripts ?? {};
    const { status, reason, last } = siteStatus(commit, siteState?.last_commit, fleetLast, options.relations);
    const changes: PlannedChange[] = [];
    const present = new Set<string>();
    for (const script of site.scripts) {
      present.add(script.path);
      const record = records[script.path];
      const decision = decide(record, script.fingerprint, options.retryFailed ?? false);
      if (!decision) continue;
      const kind: ChangeKind = record && (record.phase === 'succeeded' || record.applied) ? 'modified' : 'added';
      const key =
        decision.key ??
        idempotencyKey({ siteId: site.id, path: script.path, fingerprint: script.fingerprint, baseCommit: record?.commit ?? null, attempt: decision.attempt });
      changes.push({
        site: site.name,
        site_id: site.id,
        path: script.path,
        kind,
        action: status === 'ok' ? decision.action : 'stale',
        idempotency_key: key,
        // A followed job keeps the description it was created with; it is not sent again.
        description: renderDescription(site.settings.description, {
          site: site.name,
          site_id: site.id,
          path: script.path,
          file: script.file,
          sha: commit.sha.slice(0, 7),
          subject: commit.subject,
        }),
        fingerprint: script.fingerprint,
        previous_fingerprint: record?.fingerprint ?? null,
        // A change already on its way keeps the commit it was first sent from (statuses go there).
        commit: decision.commit ?? commit.sha,
        attempt: decision.attempt,
        job_id: decision.action === 'follow' ? (record?.job_id ?? null) : null,
        supersedes: decision.supersedes,
        group: script.group ?? null,
        secrets: script.uses.secrets,
        secrets_missing: script.secretsMissing,
        findings: script.findings,
        previous: record ? { commit: record.commit, phase: record.phase, at: record.at, job_id: record.job_id } : null,
      });
    }
    for (const [path, record] of Object.entries(records).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (present.has(path)) continue;
      changes.push(removed(site.name, site.id, path, record, commit.sha, status));
    }
    sites.push({ site: site.name, site_id: site.id, status, reason, last_commit: last, settings: site.settings, changes, scripts: site.scripts.length });
  }
  for (const c of options.clean ?? []) {
    seen.add(c.site_id);
    const { status, reason, last } = siteStatus(commit, c.last_commit, fleetLast, options.relations);
    sites.push({ site: c.site, site_id: c.site_id, status, reason, last_commit: last, settings: c.settings, changes: [], scripts: c.scripts });
  }
  // Sites whose folder is gone: their scripts are removed.
  for (const [id, s] of Object.entries(state.sites)) {
    if (seen.has(id) || !Object.keys(s.scripts).length) continue;
    const changes = Object.entries(s.scripts)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([path, record]) => removed(s.site, id, path, record, commit.sha, 'ok'));
    sites.push({ site: s.site, site_id: id, status: 'ok', reason: null, last_commit: s.last_commit, settings: desiredDefaults(desired), changes, scripts: 0 });
  }
  sites.sort((a, b) => (a.site < b.site ? -1 : a.site > b.site ? 1 : 0));
  const changes = sites.flatMap((s) => s.changes);
  const count = (k: ChangeKind) => changes.filter((c) => c.kind === k && c.action !== 'stale').length;
  return {
    ref: options.ref,
    commit,
    fleet_last_commit: fleetLast,
    sites_dir: desired.sitesDir,
    sites,
    changes,
    summary: {
      sites: sites.length,
      sites_changed: sites.filter((s) => s.changes.length).length,
      added: count('added'),
      modified: count('modified'),
      removed: count('removed'),
      stale_sites: sites.filter((s) => s.status !== 'ok').length,
      to_send: changes.filter((c) => c.action === 'create' || c.action === 'follow').length,
    },
  };
}

function decide(
  record: ScriptRecord | undefined,
  fp: string,
  retryFailed: boolean,
): { action: ChangeAction; key?: string; attempt: number; supersedes: PlannedChange['supersedes']; commit?: string } | null {
  if (!record) return { action: 'create', attempt: 0, supersedes: null };
  if (record.fingerprint === fp) {
    switch (record.phase) {
      case 'succeeded':
        return null;
      case 'intent':
        // The job may or may not have been created: the same key finds it either way.
        return { action: 'create', key: record.key, attempt: record.attempt, supersedes: record.supersedes ?? null, commit: record.commit };
      case 'queued':
      case 'running':
      case 'timed_out':
        return record.job_id
          ? { action: 'follow', key: record.key, attempt: record.attempt, supersedes: null, commit: record.commit }
          : { action: 'create', key: record.key, attempt: record.attempt, supersedes: null, commit: record.commit };
      case 'failed':
      case 'cancelled':
        return retryFailed || record.phase === 'cancelled'
          ? { action: 'create', attempt: record.attempt + 1, supersedes: null }
          : { action: 'skip-failed', key: record.key, attempt: record.attempt, supersedes: null };
    }
  }
  const supersedes =
    PENDING_PHASES.has(record.phase) || record.phase === 'timed_out' ? { job_id: record.job_id, key: record.key, commit: record.commit } : null;
  return { action: 'create', attempt: 0, supersedes };
}

function removed(site: string, siteId: string, path: string, record: ScriptRecord, sha: string, status: SiteStatus): PlannedChange {
  return {
    site,
    site_id: siteId,
    path,
    kind: 'removed',
    action: status === 'ok' ? 'none' : 'stale',
    idempotency_key: null,
    description: null,
    fingerprint: null,
    previous_fingerprint: record.fingerprint,
    commit: sha,
    attempt: 0,
    job_id: null,
    supersedes: PENDING_PHASES.has(record.phase) ? { job_id: record.job_id, key: record.key, commit: record.commit } : null,
    group: null,
    secrets: [],
    secrets_missing: [],
    findings: [],
    previous: { commit: record.commit, phase: record.phase, at: record.at, job_id: record.job_id },
  };
}

function desiredDefaults(desired: DesiredFleet): JobSettings {
  return desired.sites[0]?.settings ?? { needs_ack: true, backup: false, express: false, description: '', timeout: 600 };
}
