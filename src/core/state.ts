// The applied state: per site and script path, what was last sent and what became of it.
// Pure data and pure functions; the stores (git ref, file) live in src/state/.

export const STATE_FORMAT_VERSION = 1;

/**
 * Where one script's job is. `intent` is written before a job is created (so that a crashed run's
 * job can be found and superseded); `queued` and `running` mean a job exists and its outcome is
 * not known yet; the rest are final.
 */
export type JobPhase = 'intent' | 'queued' | 'running' | 'succeeded' | 'failed' | 'timed_out' | 'cancelled';

export const FINAL_PHASES: ReadonlySet<JobPhase> = new Set(['succeeded', 'failed', 'timed_out', 'cancelled']);
export const PENDING_PHASES: ReadonlySet<JobPhase> = new Set(['intent', 'queued', 'running']);

/** The last successful send of a script, kept when a later send is pending or failed. */
export interface AppliedRecord {
  fingerprint: string;
  commit: string;
  job_id: string | null;
  key: string;
  at: string;
}

export interface ScriptRecord {
  /** Fingerprint of the rendered script this record is about (see core/fingerprint.ts). */
  fingerprint: string;
  /** The commit the content came from. */
  commit: string;
  /** The idempotency key the job was (or will be) created with. */
  key: string;
  job_id: string | null;
  phase: JobPhase;
  /** ISO 8601 time of the last change to this record. */
  at: string;
  /** 0 for the first send of this content; one more for each --retry-failed. */
  attempt: number;
  /**
   * What the rendered script was made from, so that a later plan can tell an unchanged script
   * without reading it again: the source blob id and a digest of the render inputs it used.
   */
  source: { blob: string; inputs: string };
  /** Names of the variables and secrets the script used (never their values). */
  uses?: { vars: string[]; secrets: string[] };
  /** Keyed digests of the secrets the script used (see core/keys.ts secretDigest), never values. */
  secret_digests?: Record<string, string>;
  /** The job's log in the SDX web UI, when known. */
  log_url?: string | null;
  /** For an intent: the pending job of older content it replaces (cancelled before the new job is created). */
  supersedes?: { job_id: string | null; key: string; commit: string } | null;
  /** The last successful send, when this record is not itself a success. */
  applied?: AppliedRecord | null;
}

export interface SiteState {
  site: string;
  site_id: string;
  /** The newest commit this site was applied from: a run at an ancestor of it sends nothing. */
  last_commit: string | null;
  scripts: Record<string, ScriptRecord>;
}

export interface AppliedState {
  version: typeof STATE_FORMAT_VERSION;
  /** Keyed by SDX site id. */
  sites: Record<string, SiteState>;
}

/**
 * The state entry (not a site) holding the newest commit any apply reconciled the whole fleet at.
 * A run at an ancestor of it sends nothing anywhere, including to sites that had no change in that
 * newer run. Not a UUID, so it can never be a site id.
 */
export const FLEET_STATE_ID = '_fleet';

export function emptyState(): AppliedState {
  return { version: STATE_FORMAT_VERSION, sites: {} };
}

/** One change to the state: set (or, with record null, forget) one script of one site. */
export interface StateUpdate {
  site_id: string;
  site: string;
  path: string;
  record: ScriptRecord | null;
  /** When set, the site's last_commit becomes this commit. */
  last_commit?: string;
}

/**
 * Decide which of two records of the same script wins when two writers raced. A final phase beats
 * a pending one for the same key; otherwise the later one wins.
 */
export function mergeRecord(existing: ScriptRecord | undefined, incoming: ScriptRecord): ScriptRecord {
  if (!existing) return incoming;
  if (existing.key === incoming.key) {
    const ef = FINAL_PHASES.has(existing.phase);
    const inf = FINAL_PHASES.has(incoming.phase);
    if (ef && !inf) return existing;
    if (inf && !ef) return incoming;
  }
  return incoming.at >= existing.at ? incoming : existing;
}

/** Apply updates to a state (returns a new object; the input is not changed). */
export function applyUpdates(state: AppliedState, updates: readonly StateUpdate[]): AppliedState {
  const sites: Record<string, SiteState> = { ...state.sites };
  for (const u of updates) {
    const prev = sites[u.site_id];
    const site: SiteState = prev
      ? { ...prev, site: u.site, scripts: { ...prev.scripts } }
      : { site: u.site, site_id: u.site_id, last_commit: null, scripts: {} };
    if (u.record === null) delete site.scripts[u.path];
    else site.scripts[u.path] = mergeRecord(prev?.scripts[u.path], u.record);
    if (u.last_commit) site.last_commit = u.last_commit;
    sites[u.site_id] = site;
  }
  return { version: STATE_FORMAT_VERSION, sites };
}

/** Parse a state document read from a store; throws with a clear message on a foreign format. */
export function parseState(text: string, where: string): AppliedState {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`the applied state in ${where} is not valid JSON (${(e as Error).message}); restore it from its history or remove it to start over`);
  }
  const d = doc as Partial<AppliedState>;
  if (!d || typeof d !== 'object' || d.version !== STATE_FORMAT_VERSION || typeof d.sites !== 'object' || d.sites === null) {
    throw new Error(
      `the applied state in ${where} has format version ${JSON.stringify((d as { version?: unknown })?.version)}, this routeros-gitops reads version ${STATE_FORMAT_VERSION}; upgrade routeros-gitops`,
    );
  }
  return d as AppliedState;
}
