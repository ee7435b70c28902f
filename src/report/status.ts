// What `status` shows per site, from the applied state: pure, for the CLI, the daemon's /status and tests.
import { FLEET_STATE_ID, isLive, type AppliedState } from '../core/state.js';

export interface SiteStatusRow {
  site: string;
  site_id: string;
  last_commit: string | null;
  /** `removed`: the site left the repository; `not-sent`: a send was intended but no job exists yet. */
  outcome: 'succeeded' | 'failed' | 'pending' | 'not-sent' | 'removed' | 'none';
  at: string | null;
  removed_at: string | null;
  /** The RouterOS version SDX last reported for the site (recorded by apply), and since when. */
  routeros: { version: string; seen_at: string } | null;
  /** Live scripts (removed ones are not listed). `phase` is `not sent` for an intent whose job was never created. */
  scripts: Array<{
    path: string;
    file: string;
    phase: string;
    commit: string;
    job_id: string | null;
    at: string;
    log_url: string | null;
    generation: number;
    /** A script sent in parts: the part it has reached (1-based) and how many. */
    part: { part: number; of: number } | null;
  }>;
}

export function statusRows(state: AppliedState): SiteStatusRow[] {
  return Object.values(state.sites)
    .filter((s) => s.site_id !== FLEET_STATE_ID)
    .map((s) => {
      const scripts = Object.entries(s.scripts)
        .filter(([, r]) => isLive(r))
        .sort(([, a], [, b]) => (a.path < b.path ? -1 : 1))
        .map(([file, r]) => ({
          path: r.path,
          file,
          phase: r.phase === 'intent' ? 'not sent' : r.phase,
          commit: r.commit,
          job_id: r.job_id,
          at: r.at,
          log_url: r.log_url ?? null,
          generation: r.generation,
          part: r.part ? { part: r.part.index + 1, of: r.part.count } : null,
        }));
      const phases = new Set(scripts.map((x) => x.phase));
      const has = (...p: string[]) => p.some((x) => phases.has(x));
      const outcome: SiteStatusRow['outcome'] = s.removed_at
        ? 'removed'
        : !scripts.length
          ? 'none'
          : has('failed', 'lost', 'cancelled')
            ? 'failed'
            : has('queued', 'running')
              ? 'pending'
              : has('not sent')
                ? 'not-sent'
                : 'succeeded';
      const at = Object.values(s.scripts).reduce<string | null>((m, x) => (!m || x.at > m ? x.at : m), null);
      return {
        site: s.site,
        site_id: s.site_id,
        last_commit: s.last_commit,
        outcome,
        at,
        removed_at: s.removed_at ?? null,
        routeros: s.reported_version ?? null,
        scripts,
      };
    })
    .sort((a, b) => (a.site < b.site ? -1 : a.site > b.site ? 1 : 0));
}
