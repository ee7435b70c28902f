// The plan: a pure function of the desired fleet (rendered at a commit) and the applied state.
// It decides, per site and script in order, what changed, which idempotency key each change
// uses and whether a job is created, followed, skipped or refused. Applying is a separate step.
import type { CommitInfo, CommitRelation } from './ports.js';
import {
  FLEET_STATE_ID,
  isLive,
  MAX_FLEET_HEADS,
  NEVER_RAN_PHASES,
  PENDING_PHASES,
  type AppliedState,
  type FleetHead,
  type ScriptRecord,
  type SiteState,
  type Superseded,
} from './state.js';
import type { DesiredFleet, DesiredScript, DesiredSite, ScriptFinding } from './model.js';
import type { JobSettings } from './settings.js';
import { idempotencyKey, partKey } from './keys.js';
import { renderDescription } from './description.js';
import { siteRouterOs, type SiteRouterOs } from './routeros-target.js';

export type ChangeKind = 'added' | 'modified' | 'removed';

/**
 * What apply does with a change: `create` a job; `follow` the job a previous run created;
 * `skip-failed` (the same content failed before; --retry-failed sends it again with a new key);
 * `stale` (the site was applied from a newer commit, or its history is missing: nothing is sent);
 * `none` (removed scripts: no job).
 */
export type ChangeAction = 'create' | 'follow' | 'skip-failed' | 'stale' | 'none';

export interface PlannedChange {
  site: string;
  site_id: string;
  /** Repository-relative path of the script. */
  path: string;
  /** The script's file name: its identity within the site. */
  file: string;
  /** Where the script was when it was last planned, when that is another path (a renamed folder, a group script now overridden). */
  previous_path: string | null;
  kind: ChangeKind;
  action: ChangeAction;
  /** null for removed scripts (no job is sent). */
  idempotency_key: string | null;
  /** The X-Description sent with the job; null for removed scripts. */
  description: string | null;
  fingerprint: string | null;
  previous_fingerprint: string | null;
  /** The commit the content comes from: the planned commit, or for a change a previous run already started, the commit it was first intended at. */
  commit: string;
  /** The send counter of the script identity this change is (see keys.ts); for removed scripts, its last send's. */
  generation: number;
  /** The job a previous run created for this same change (action follow). */
  job_id: string | null;
  /** A job of older content still pending for this script: cancelled before the new one is created. */
  supersedes: Superseded | null;
  /**
   * A send intended so long ago (idempotency_retention) that SDX may have forgotten its key: apply
   * looks for its job in the site's job list before it POSTs again.
   */
  lookup: boolean;
  /** The group, for a shared script. */
  group: string | null;
  /** Names of the secrets the script needs, and those not supplied to this run. */
  secrets: string[];
  secrets_missing: string[];
  findings: ScriptFinding[];
  /** The script's last record, for reports. */
  /** The record before this plan; `applied_commit`: the commit of the last send that succeeded (what the router runs), or null. */
  previous: { commit: string; phase: string; at: string; job_id: string | null; applied_commit: string | null } | null;
  /**
   * A script over max_script_size, sent as consecutive jobs: each part's size, its own idempotency
   * key and the lines it holds; null when the script is one job.
   */
  parts: PlannedPart[] | null;
  /** The part apply starts (or resumes) at: 0, or the part a previous run had reached. */
  from_part: number;
}

export interface PlannedPart {
  /** 0-based. */
  index: number;
  size: number;
  key: string;
  /** The script's lines the part holds (first, last; 1-based). */
  lines: [number, number];
}

/** A script whose repository path changed with nothing to send (same site id and file name, same rendering). */
export interface PlannedMove {
  site: string;
  site_id: string;
  file: string;
  from: string;
  to: string;
}

export type SiteStatus = 'ok' | 'stale' | 'unknown-history';

export interface SitePlan {
  site: string;
  site_id: string;
  status: SiteStatus;
  /** Why nothing is sent, for stale and unknown-history sites. */
  reason: string | null;
  last_commit: string | null;
  /** The folder name the state knew this site by, when it was renamed. */
  renamed_from: string | null;
  /** The site's folder (or its id) left the repository: its scripts are removed. */
  removed: boolean;
  settings: JobSettings;
  changes: PlannedChange[];
  /** How many scripts the site has, changed or not. */
  scripts: number;
  /** The RouterOS its changed scripts were checked against; null for a site without changes. */
  routeros: SiteRouterOs | null;
}

export interface Plan {
  ref: string;
  commit: CommitInfo;
  /** The newest commit an apply reconciled the fleet at (null before the first apply). */
  fleet_last_commit: string | null;
  /** The fleet's frontier once this plan is applied (see SiteState.heads). */
  fleet_heads: FleetHead[];
  sites_dir: string;
  sites: SitePlan[];
  /** Every change of every site, in order (site name, then script order). */
  changes: PlannedChange[];
  /** Scripts that moved with nothing to send. */
  moves: PlannedMove[];
  /** Commits the state was applied from that are not in this repository (see SiteStatus unknown-history). */
  missing_history: string[];
  summary: { sites: number; sites_changed: number; added: number; modified: number; removed: number; stale_sites: number; to_send: number };
  /** Issue 14: the plan narrowed to the sites matching `--site` patterns, of how many sites in all (core/site-filter.ts). */
  only?: { patterns: string[]; of: number };
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
  /** Now, for idempotency retention (default: the real clock). */
  now?: Date;
  /** Hides secret values in a job description (a commit subject may hold one) before it is cut to size. Default: none. */
  redact?: (text: string) => string;
  /** How long SDX is trusted to remember an idempotency key (ms). Default: the fleet's idempotency_retention. */
  retentionMs?: number;
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

interface Decision {
  action: ChangeAction;
  generation: number;
  /** The key of a send already intended (reused); absent: a new send, whose key is derived. */
  key?: string;
  supersedes: Superseded | null;
  /** The commit a send already intended was first intended at. */
  commit?: string;
  lookup?: boolean;
  /** The part to start at (a resumed split send). */
  fromPart?: number;
}

const DEFAULT_RETENTION_MS = 24 * 3600 * 1000;

/**
 * Whether a site may be sent to from the planned commit. Never backwards: nothing is sent from a
 * commit older than any commit applies reached (the fleet's frontier), nor than the site's own last
 * applied commit. "Older" is ancestry; between commits on diverged lines (a rewritten history, a
 * branch applied beside main), the committer time decides. When one of those commits is not in the
 * repository at all, the order cannot be shown, and nothing is sent either, loudly (unknown-history),
 * unless the frontier already shows this commit is newer.
 */
export function siteStatus(
  commit: CommitInfo,
  siteLast: string | null | undefined,
  heads: readonly FleetHead[],
  relations: Readonly<Record<string, CommitRelation>>,
): { status: SiteStatus; reason: string | null; last: string | null } {
  const rel = (c: string): CommitRelation => relations[c] ?? 'unknown';
  const short = commit.sha.slice(0, 7);
  const stale = (last: string, why: string) => ({ status: 'stale' as const, last, reason: `commit ${short} ${why}; nothing is sent (never backwards)` });
  for (const h of heads) if (rel(h.sha) === 'ancestor') return stale(h.sha, `is older than ${h.sha.slice(0, 7)}, which the fleet was last applied at`);
  const newest = newestHead(heads);
  if (newest?.time && rel(newest.sha) === 'diverged' && Date.parse(commit.time) < Date.parse(newest.time)) {
    return stale(
      newest.sha,
      `is on another line of history than ${newest.sha.slice(0, 7)}, which the fleet was last applied at, and was committed before it (${commit.time} < ${newest.time}); apply a commit that descends from it (merge), or, if history was rewritten on purpose, run \`routeros-gitops state accept-history --at ${short}\``,
    );
  }
  if (siteLast && rel(siteLast) === 'ancestor') return stale(siteLast, `is older than ${siteLast.slice(0, 7)}, which this site was last applied from`);
  const provenNewer = newest !== undefined && (rel(newest.sha) === 'same' || rel(newest.sha) === 'descendant');
  const missingHead = heads.find((h) => rel(h.sha) === 'unknown');
  if (missingHead && !provenNewer)
    return { status: 'unknown-history', last: missingHead.sha, reason: missingReason(missingHead.sha, 'the fleet was last applied at') };
  if (siteLast && rel(siteLast) === 'unknown' && !provenNewer) {
    return { status: 'unknown-history', last: siteLast, reason: missingReason(siteLast, 'this site was last applied from') };
  }
  return { status: 'ok', reason: null, last: siteLast ?? null };
}

/** The newest head by committer time (a head without a time, from an older state, counts as newest). */
function newestHead(heads: readonly FleetHead[]): FleetHead | undefined {
  let best: FleetHead | undefined;
  for (const h of heads) if (!best || !h.time || (best.time && h.time > best.time)) best = h;
  return best;
}

/** The fleet's frontier as the state holds it (an older state has only its last commit). */
export function fleetHeads(state: AppliedState): FleetHead[] {
  const fleet = state.sites[FLEET_STATE_ID];
  if (fleet?.heads?.length) return fleet.heads;
  return fleet?.last_commit ? [{ sha: fleet.last_commit, time: '' }] : [];
}

/**
 * The frontier once `commit` is applied: it, and the heads it does not descend from (diverged
 * lines), newest first, at most MAX_FLEET_HEADS.
 */
export function nextHeads(commit: CommitInfo, heads: readonly FleetHead[], relations: Readonly<Record<string, CommitRelation>>): FleetHead[] {
  const kept = heads.filter((h) => h.sha !== commit.sha && relations[h.sha] !== 'descendant');
  return [{ sha: commit.sha, time: commit.time }, ...kept].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, MAX_FLEET_HEADS);
}

function missingReason(missing: string, whose: string): string {
  return (
    `commit ${missing.slice(0, 12)}, which ${whose}, is not in this repository, so it cannot be shown that this commit is newer; nothing is sent. ` +
    'If the clone is shallow, fetch the history (git fetch --unshallow); if history was rewritten (a force-push), check the fleet, then ' +
    `re-anchor the state with \`routeros-gitops state accept-history --at <commit>\``
  );
}

interface PlanContext {
  commit: CommitInfo;
  heads: FleetHead[];
  relations: Readonly<Record<string, CommitRelation>>;
  decide: DecideContext;
  moves: PlannedMove[];
  redact?: (text: string) => string;
}

export function plan(desired: DesiredFleet, state: AppliedState, options: PlanOptions): Plan {
  const commit = desired.commit;
  const heads = fleetHeads(state);
  const nowMs = (options.now ?? new Date()).getTime();
  const retentionMs = options.retentionMs ?? (desired.fleet.idempotency_retention ? desired.fleet.idempotency_retention * 1000 : DEFAULT_RETENTION_MS);
  const ctx: PlanContext = {
    commit,
    heads,
    relations: options.relations,
    decide: { retryFailed: options.retryFailed ?? false, nowMs, retentionMs },
    moves: [],
    redact: options.redact,
  };
  const seen = new Set<string>([FLEET_STATE_ID]);
  const sites: SitePlan[] = [];
  for (const site of desired.sites) {
    seen.add(site.id);
    sites.push(planSite(site, state.sites[site.id], ctx));
  }
  for (const c of options.clean ?? []) {
    seen.add(c.site_id);
    sites.push(cleanSitePlan(c, ctx));
  }
  // Sites whose folder is gone (or whose id changed): their live scripts are removed.
  for (const [id, s] of Object.entries(state.sites)) if (!seen.has(id)) sites.push(...removedSitePlan(id, s, desiredDefaults(desired), ctx));
  sites.sort((a, b) => (a.site < b.site ? -1 : a.site > b.site ? 1 : a.site_id < b.site_id ? -1 : 1));
  const changes = sites.flatMap((s) => s.changes);
  const missing = [...new Set(sites.filter((s) => s.status === 'unknown-history' && s.last_commit).map((s) => s.last_commit!))];
  return {
    ref: options.ref,
    commit,
    fleet_last_commit: state.sites[FLEET_STATE_ID]?.last_commit ?? null,
    fleet_heads: nextHeads(commit, heads, options.relations),
    sites_dir: desired.sitesDir,
    sites,
    changes,
    moves: ctx.moves,
    missing_history: missing,
    summary: summarize(sites, changes),
  };
}

/** The summary of these sites and their changes (exported for a plan narrowed to some sites, core/site-filter.ts). */
export function summarize(sites: SitePlan[], changes: PlannedChange[]): Plan['summary'] {
  const count = (k: ChangeKind) => changes.filter((c) => c.kind === k && c.action !== 'stale').length;
  return {
    sites: sites.filter((s) => !s.removed).length,
    sites_changed: sites.filter((s) => s.changes.length).length,
    added: count('added'),
    modified: count('modified'),
    removed: count('removed'),
    stale_sites: sites.filter((s) => s.status !== 'ok').length,
    to_send: changes.filter((c) => c.action === 'create' || c.action === 'follow').length,
  };
}

/** One site of the desired fleet: a change for each script whose record says it must be sent, and each live record without a script. */
function planSite(site: DesiredSite, siteState: SiteState | undefined, ctx: PlanContext): SitePlan {
  const records = siteState?.scripts ?? {};
  const { status, reason, last } = siteStatus(ctx.commit, siteState?.last_commit, ctx.heads, ctx.relations);
  const changes: PlannedChange[] = [];
  const present = new Set<string>();
  for (const script of site.scripts) {
    present.add(script.file);
    const change = plannedChange(site, script, records[script.file], status, ctx);
    if (change) changes.push(change);
  }
  for (const [file, record] of sortedEntries(records)) {
    if (present.has(file) || !isLive(record)) continue;
    changes.push(removed(site.name, site.id, file, record, ctx.commit.sha, status));
  }
  const renamedFrom = siteState && siteState.site !== site.name ? siteState.site : null;
  return {
    site: site.name,
    site_id: site.id,
    status,
    reason,
    last_commit: last,
    renamed_from: renamedFrom,
    removed: false,
    settings: site.settings,
    changes,
    scripts: site.scripts.length,
    routeros: changes.length ? siteRouterOs(site.lintTarget) : null,
  };
}

/** The change one script needs, or null (a script moved to another folder with nothing to send is noted in ctx.moves). */
function plannedChange(site: DesiredSite, script: DesiredScript, record: ScriptRecord | undefined, status: SiteStatus, ctx: PlanContext): PlannedChange | null {
  const { commit } = ctx;
  const moved = isLive(record) && record.path !== script.path ? record.path : null;
  const decision = decide(record, script.fingerprint, ctx.decide, script.parts?.sizes.length ?? (script.read ? 1 : undefined));
  if (!decision) {
    if (moved) ctx.moves.push({ site: site.name, site_id: site.id, file: script.file, from: moved, to: script.path });
    return null;
  }
  const kind: ChangeKind = isLive(record) && (record.phase === 'succeeded' || record.applied) ? 'modified' : 'added';
  const key =
    decision.key ??
    idempotencyKey({
      siteId: site.id,
      file: script.file,
      generation: decision.generation,
      baseCommit: record?.commit ?? null,
      fingerprint: script.fingerprint,
    });
  return {
    site: site.name,
    site_id: site.id,
    path: script.path,
    file: script.file,
    previous_path: moved,
    kind,
    action: status === 'ok' ? decision.action : 'stale',
    idempotency_key: key,
    // A followed job keeps the description it was created with; it is not sent again.
    description: renderDescription(
      site.settings.description,
      {
        site: site.name,
        site_id: site.id,
        path: script.path,
        file: script.file,
        sha: commit.sha.slice(0, 7),
        subject: commit.subject,
      },
      ctx.redact,
    ),
    fingerprint: script.fingerprint,
    previous_fingerprint: record?.fingerprint ?? null,
    // A send already on its way keeps the commit it was first intended at (statuses go there).
    commit: decision.commit ?? commit.sha,
    generation: decision.generation,
    job_id: decision.action === 'follow' ? (record?.job_id ?? null) : null,
    supersedes: decision.supersedes,
    lookup: decision.lookup ?? false,
    group: script.group ?? null,
    secrets: script.uses.secrets,
    secrets_missing: script.secretsMissing,
    findings: script.findings,
    previous: previousOf(record),
    parts: script.parts
      ? script.parts.sizes.map((size, index, all) => ({ index, size, key: partKey(key, index, all.length), lines: script.parts!.lines[index]! }))
      : null,
    from_part: decision.fromPart ?? 0,
  };
}

/** A site an earlier plan found with nothing to send (an incremental plan). */
function cleanSitePlan(c: CleanSite, ctx: PlanContext): SitePlan {
  const { status, reason, last } = siteStatus(ctx.commit, c.last_commit, ctx.heads, ctx.relations);
  return {
    site: c.site,
    site_id: c.site_id,
    status,
    reason,
    last_commit: last,
    renamed_from: null,
    removed: false,
    settings: c.settings,
    changes: [],
    scripts: c.scripts,
    routeros: null,
  };
}

/** A site in the state whose folder is gone: a removal for each live script (none when it was removed before). */
function removedSitePlan(id: string, s: SiteState, settings: JobSettings, ctx: PlanContext): SitePlan[] {
  const live = sortedEntries(s.scripts).filter(([, r]) => isLive(r));
  if (!live.length && s.removed_at) return [];
  const { status, reason } = siteStatus(ctx.commit, s.last_commit, ctx.heads, ctx.relations);
  const changes = live.map(([file, record]) => removed(s.site, id, file, record, ctx.commit.sha, status));
  return [
    { site: s.site, site_id: id, status, reason, last_commit: s.last_commit, renamed_from: null, removed: true, settings, changes, scripts: 0, routeros: null },
  ];
}

interface DecideContext {
  retryFailed: boolean;
  nowMs: number;
  retentionMs: number;
}

function decide(record: ScriptRecord | undefined, fp: string, ctx: DecideContext, partCount: number | undefined): Decision | null {
  // A new script, or one re-added after its removal: a new send.
  if (record === undefined || record.phase === 'removed') return { action: 'create', generation: (record?.generation ?? 0) + 1, supersedes: null };
  const next = record.generation + 1;
  // The same content split another way (max_script_size changed): its parts are not the same parts.
  const sameSplit = !record.part || partCount === undefined || record.part.count === partCount;
  if (record.fingerprint !== fp || !sameSplit) return { action: 'create', generation: next, supersedes: pendingJobOf(record) };
  const same = { generation: record.generation, key: record.key, commit: record.commit, fromPart: record.part?.index };
  switch (record.phase) {
    case 'succeeded':
      return null;
    case 'intent': {
      // The job may or may not have been created: the same key finds it either way, as long as
      // SDX remembers the key; past the retention, apply looks it up before POSTing.
      const age = ctx.nowMs - Date.parse(record.intended_at);
      return { action: 'create', ...same, supersedes: record.supersedes ?? null, lookup: !(age < ctx.retentionMs) };
    }
    case 'queued':
    case 'running':
      return record.job_id ? { action: 'follow', ...same, supersedes: null } : { action: 'create', ...same, supersedes: null, lookup: true };
    case 'failed':
      // A retry resumes at the part that failed (the parts before it ran).
      return ctx.retryFailed
        ? { action: 'create', generation: next, supersedes: null, fromPart: record.part?.index }
        : { action: 'skip-failed', ...same, supersedes: null };
    default:
      // A lost job seen running may have run: like a failure, it is sent again only on request.
      if (record.started && !ctx.retryFailed) return { action: 'skip-failed', ...same, supersedes: null };
      // lost, cancelled: it never ran; send it again, as a new send (from the part that never ran).
      return { action: 'create', generation: next, supersedes: null, fromPart: NEVER_RAN_PHASES.has(record.phase) ? record.part?.index : undefined };
  }
}

/** The pending job of a record, which a newer send supersedes. */
function pendingJobOf(record: ScriptRecord): Superseded | null {
  return PENDING_PHASES.has(record.phase) ? { job_id: record.job_id, key: record.key, commit: record.commit } : null;
}

function previousOf(record: ScriptRecord | undefined): PlannedChange['previous'] {
  if (!record) return null;
  const applied = record.phase === 'succeeded' ? record.commit : (record.applied?.commit ?? null);
  return { commit: record.commit, phase: record.phase, at: record.at, job_id: record.job_id, applied_commit: applied };
}

function removed(site: string, siteId: string, file: string, record: ScriptRecord, sha: string, status: SiteStatus): PlannedChange {
  return {
    site,
    site_id: siteId,
    path: record.path,
    file,
    previous_path: null,
    kind: 'removed',
    action: status === 'ok' ? 'none' : 'stale',
    idempotency_key: null,
    description: null,
    fingerprint: null,
    previous_fingerprint: record.fingerprint,
    commit: sha,
    generation: record.generation,
    job_id: null,
    supersedes: pendingJobOf(record),
    lookup: false,
    group: null,
    secrets: [],
    secrets_missing: [],
    findings: [],
    previous: previousOf(record),
    parts: null,
    from_part: 0,
  };
}

function sortedEntries(records: Record<string, ScriptRecord>): Array<[string, ScriptRecord]> {
  return Object.entries(records).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function desiredDefaults(desired: DesiredFleet): JobSettings {
  return desired.sites[0]?.settings ?? { needs_ack: true, backup: false, express: false, description: '', timeout: 600 };
}
