// The applied state: per site and script, what was last sent and what became of it. Pure data and
// pure functions; the stores (git ref, file) live in src/state/.
//
// A script's identity is its site id and its file name (not its repository path): renaming a site
// folder, or moving a group script into an identical site override, is not a change. The state
// never forgets a script: a removed script (or site) keeps a tombstone with its send counter
// (`generation`), so that no sequence of removals, re-adds, reverts or rotations can bring an old
// idempotency key back (see keys.ts).

/** Format 2: records keyed by file name, generations and tombstones. Format 1 is read and upgraded. */
export const STATE_FORMAT_VERSION = 2;
/** Formats this version reads. */
export const READABLE_STATE_FORMATS: ReadonlySet<number> = new Set([1, 2]);

/**
 * Where one script's latest send is. `intent` is written before a job is created (so that a crashed
 * run's job can be found and superseded); `queued` and `running` mean a job exists and its outcome
 * is not known yet; `succeeded` and `failed` are what the router reported; `lost` (SDX no longer
 * knows the job) and `cancelled` (cancelled outside this tool) never ran and are sent again;
 * `removed` is a tombstone: the script left the repository.
 */
export type JobPhase = 'intent' | 'queued' | 'running' | 'succeeded' | 'failed' | 'lost' | 'cancelled' | 'removed';

export const PENDING_PHASES: ReadonlySet<JobPhase> = new Set(['intent', 'queued', 'running']);
/** Phases whose send never ran on the router: the next run sends the script again, with a new key. */
export const NEVER_RAN_PHASES: ReadonlySet<JobPhase> = new Set(['lost', 'cancelled']);

/** The last successful send of a script, kept when a later send is pending, failed or removed. */
export interface AppliedRecord {
  fingerprint: string;
  commit: string;
  job_id: string | null;
  key: string;
  at: string;
}

/** A pending job of older content that a new send replaces (cancelled before the new job is created). */
export interface Superseded {
  job_id: string | null;
  key: string;
  commit: string;
}

export interface ScriptRecord {
  /** Repository path the script was last planned from (for reports; not its identity). */
  path: string;
  /**
   * How many sends of this script identity were ever intended, this one included. It never goes
   * down, survives removal, and is part of the idempotency key: no two sends share a key.
   */
  generation: number;
  /** Fingerprint of the rendered script this send is about (see keys.ts). */
  fingerprint: string;
  /** The commit at which this send was first intended (statuses go there). */
  commit: string;
  /** The idempotency key the job was (or will be) created with. */
  key: string;
  job_id: string | null;
  phase: JobPhase;
  /** ISO 8601 time of the last change to this record. */
  at: string;
  /** When this send's intent was first recorded (an old intent is looked up before it is POSTed). */
  intended_at: string;
  /**
   * What the rendered script was made from, so that a later plan can tell an unchanged script
   * without reading it again: the source blob id and a digest of the render inputs it used.
   */
  source: { blob: string; inputs: string };
  /** Names of the variables and secrets the script used (never their values). */
  uses?: { vars: string[]; secrets: string[] };
  /** Keyed digests (RGO_SECRETS_KEY) of the secrets the script used, never values. */
  secret_digests?: Record<string, string>;
  /** The job's log in the SDX web UI, when known. */
  log_url?: string | null;
  /** For an intent: the pending job of older content it replaces. */
  supersedes?: Superseded | null;
  /** The last successful send, when this record is not itself a success. */
  applied?: AppliedRecord | null;
  /**
   * A send split into parts (a script over max_script_size): which part this record is about (its
   * job_id and phase are that part's), 0-based, and how many there are. A part that succeeded moves
   * the record to the next part's intent; only the last part's success is the send's. `max`: the
   * max_script_size the send was split with (it keeps that split until its content changes).
   */
  part?: { index: number; count: number; max?: number } | null;
  /**
   * For a lost job: it had been seen running before SDX stopped knowing it, so it may have run. Such
   * a send is not sent again by itself (as a failure is not): --retry-failed sends it.
   */
  started?: boolean;
}

export interface SiteState {
  /** The site's folder name when it was last planned. */
  site: string;
  site_id: string;
  /** The newest commit this site was applied from: a run at an ancestor of it sends nothing. */
  last_commit: string | null;
  /** When the site's folder (or its id) left the repository; null while it is there. */
  removed_at?: string | null;
  /** Keyed by script file name (its identity within the site). */
  scripts: Record<string, ScriptRecord>;
  /** Fleet entry only: a check value of RGO_SECRETS_KEY (see keys.ts secretsKeyCheck). */
  secrets_key_check?: string | null;
  /**
   * Fleet entry only: the applied frontier, the commits applies reached that no later apply
   * descended from (several when diverged lines were applied), with their committer times. A run at
   * an ancestor of any of them, or at a commit on another line older than the newest of them, sends
   * nothing (never backwards).
   */
  heads?: FleetHead[];
  /**
   * The RouterOS version SDX last reported for this site (`software_version`, normalised), and when
   * that version was first seen. Written only when it changes, so the state does not churn. Checks
   * use it for a site without a `routeros:` setting.
   */
  reported_version?: ReportedVersion | null;
}

export interface ReportedVersion {
  /** '7.16.2' (the parsed form: no channel suffix). */
  version: string;
  /** ISO 8601: when this version was first read from SDX. */
  seen_at: string;
}

export interface FleetHead {
  sha: string;
  /** ISO 8601 committer time. */
  time: string;
}

/** How many diverged heads the frontier keeps (the newest). */
export const MAX_FLEET_HEADS = 16;

/** Every commit the plan must order the planned commit against: each site's last commit, the fleet's heads. */
export function appliedCommits(state: AppliedState): string[] {
  const out = new Set<string>();
  for (const s of Object.values(state.sites)) {
    if (s.last_commit) out.add(s.last_commit);
    for (const h of s.heads ?? []) out.add(h.sha);
  }
  return [...out];
}

export interface AppliedState {
  version: typeof STATE_FORMAT_VERSION;
  /** Keyed by SDX site id, plus FLEET_STATE_ID. */
  sites: Record<string, SiteState>;
  /**
   * Identifies the stored state this was read from (a state commit, a file digest), when the store
   * can tell; a run compares it after taking the lease to know whether it must plan again.
   */
  revision?: string | null;
}

/**
 * The state entry (not a site) holding the newest commit any apply reconciled the whole fleet at,
 * and fleet-wide facts (the secrets key's check value). A run at an ancestor of that commit sends
 * nothing anywhere. Not a UUID, so it can never be a site id.
 */
export const FLEET_STATE_ID = '_fleet';
export const FLEET_STATE_NAME = '(fleet)';

export function emptyState(): AppliedState {
  return { version: STATE_FORMAT_VERSION, sites: {} };
}

/**
 * One change to the state: a script's record (never deleted: removal is a tombstone record), and/or
 * facts of the site (last commit, removed) or of the fleet (with site_id FLEET_STATE_ID).
 */
export interface StateUpdate {
  site_id: string;
  /** The site's folder name (for FLEET_STATE_ID: FLEET_STATE_NAME). */
  site: string;
  /** The script's file name, with `record`. */
  file?: string;
  record?: ScriptRecord;
  /** The site's (or the fleet's) last commit becomes this commit. */
  last_commit?: string;
  /** The site left the repository (an ISO time), or is back (null). */
  removed_at?: string | null;
  /** Fleet only: the check value of the secrets key the state's digests are made with. */
  secrets_key_check?: string;
  /** Fleet only: the applied frontier after this apply (see SiteState.heads). */
  heads?: FleetHead[];
  /** The version SDX reports for the site (see SiteState.reported_version). */
  reported_version?: ReportedVersion;
}

/**
 * Decide which of two records of the same script wins when two writers raced: the later send (a
 * higher generation); for the same send, a final phase beats a pending one; otherwise the later one.
 */
export function mergeRecord(existing: ScriptRecord | undefined, incoming: ScriptRecord): ScriptRecord {
  if (!existing) return incoming;
  if (existing.generation !== incoming.generation) return incoming.generation > existing.generation ? incoming : existing;
  if (existing.key === incoming.key) {
    const ep = PENDING_PHASES.has(existing.phase);
    const ip = PENDING_PHASES.has(incoming.phase);
    if (!ep && ip) return existing;
    if (!ip && ep) return incoming;
  }
  return incoming.at >= existing.at ? incoming : existing;
}

/** Apply updates to a state (returns a new object; the input is not changed). */
export function applyUpdates(state: AppliedState, updates: readonly StateUpdate[]): AppliedState {
  const sites: Record<string, SiteState> = { ...state.sites };
  const copied = new Set<string>();
  for (const u of updates) {
    let site = sites[u.site_id];
    if (!site) {
      site = { site: u.site, site_id: u.site_id, last_commit: null, scripts: {} };
      copied.add(u.site_id);
    } else if (!copied.has(u.site_id)) {
      site = { ...site, scripts: { ...site.scripts } };
      copied.add(u.site_id);
    }
    site.site = u.site || site.site;
    if (u.file !== undefined && u.record) site.scripts[u.file] = mergeRecord(site.scripts[u.file], u.record);
    if (u.last_commit) site.last_commit = u.last_commit;
    if (u.removed_at !== undefined) site.removed_at = u.removed_at;
    if (u.secrets_key_check !== undefined) site.secrets_key_check = u.secrets_key_check;
    if (u.heads !== undefined) site.heads = u.heads;
    if (u.reported_version !== undefined) site.reported_version = u.reported_version;
    sites[u.site_id] = site;
  }
  return { version: STATE_FORMAT_VERSION, sites };
}

/** Parse a whole state document (the file store); throws with a clear message on a foreign format. */
export function parseState(text: string, where: string): AppliedState {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`the applied state in ${where} is not valid JSON (${(e as Error).message}); restore it from its history or remove it to start over`);
  }
  const d = doc as { version?: unknown; sites?: unknown } | null;
  if (!d || typeof d !== 'object' || typeof d.sites !== 'object' || d.sites === null) {
    throw new Error(`the applied state in ${where} is not a routeros-gitops state (no "sites"); restore it from its history or remove it to start over`);
  }
  checkFormatVersion(d.version, where);
  const sites: Record<string, SiteState> = {};
  for (const [id, s] of Object.entries(d.sites as Record<string, unknown>)) sites[id] = normalizeSiteState(s, `${where} sites.${id}`);
  return { version: STATE_FORMAT_VERSION, sites };
}

/** Throws unless `version` is a format this version reads. */
export function checkFormatVersion(version: unknown, where: string): void {
  if (typeof version === 'number' && READABLE_STATE_FORMATS.has(version)) return;
  if (typeof version === 'number' && version > STATE_FORMAT_VERSION) {
    throw new Error(
      `the applied state in ${where} has format version ${version}, written by a newer routeros-gitops; this one reads versions up to ${STATE_FORMAT_VERSION}: upgrade routeros-gitops`,
    );
  }
  throw new Error(
    `the applied state in ${where} has format version ${JSON.stringify(version)}, which this routeros-gitops does not read; restore it from its history`,
  );
}

/**
 * One site's state as stored, checked and upgraded to format 2: a format 1 site (records keyed by
 * repository path, no generation) is keyed by file name, each record's generation taken from its
 * attempt; a v1 key is kept for its pending send (a rerun reuses it) and can never equal a v2 key.
 */
export function normalizeSiteState(doc: unknown, where: string): SiteState {
  const d = doc as Partial<SiteState> | null;
  if (
    !d ||
    typeof d !== 'object' ||
    typeof d.site_id !== 'string' ||
    d.site_id === '' ||
    typeof d.site !== 'string' ||
    !(d.last_commit === null || typeof d.last_commit === 'string') ||
    typeof d.scripts !== 'object' ||
    d.scripts === null ||
    Array.isArray(d.scripts)
  ) {
    throw new Error(`the applied state in ${where} is not a site state (it needs site_id, site, last_commit and scripts); restore it from the state's history`);
  }
  // Only advisory (which RouterOS the checks use): a malformed one is dropped, not trusted.
  const rv = d.reported_version as Partial<ReportedVersion> | null | undefined;
  if (
    rv !== undefined &&
    rv !== null &&
    !(typeof rv.version === 'string' && /^\d+(\.\d+){0,3}(beta\d+|rc\d+)?$/.test(rv.version) && typeof rv.seen_at === 'string')
  )
    delete (d as Partial<SiteState>).reported_version;
  const scripts: Record<string, ScriptRecord> = {};
  let upgraded = false;
  for (const [name, raw] of Object.entries(d.scripts as Record<string, unknown>)) {
    const r = raw as Partial<ScriptRecord> & { attempt?: number; phase?: string };
    if (!r || typeof r !== 'object' || typeof r.key !== 'string' || typeof r.fingerprint !== 'string' || typeof r.phase !== 'string') {
      throw new Error(`the applied state in ${where} has a malformed record for ${JSON.stringify(name)}; restore it from the state's history`);
    }
    if (typeof r.generation === 'number') {
      scripts[name] = r as ScriptRecord;
      continue;
    }
    upgraded = true;
    const file = name.slice(name.lastIndexOf('/') + 1);
    const record: ScriptRecord = {
      ...(r as ScriptRecord),
      path: name,
      generation: 1 + (typeof r.attempt === 'number' ? r.attempt : 0),
      intended_at: r.at ?? new Date(0).toISOString(),
      phase: ((r.phase as string) === 'timed_out' ? 'running' : r.phase) as JobPhase,
    };
    delete (record as { attempt?: number }).attempt;
    const other = scripts[file];
    if (!other || (other.at ?? '') < record.at) scripts[file] = record;
  }
  if (!upgraded) return d as SiteState;
  return { ...(d as SiteState), scripts };
}

/** Is this record a live script (not a tombstone)? */
export function isLive(r: ScriptRecord | undefined): r is ScriptRecord {
  return r !== undefined && r.phase !== 'removed';
}
