// The plan snapshot: what the last plan learned about sites with nothing to send, so that the next
// plan reads only what changed since. A site is taken from the snapshot only when its folder (a git
// tree id covers every file in it), its state file (a blob id), and everything else a site's plan
// depends on (the sites directory's own files and groups, the secrets supplied, the state store,
// this version's rules: the snapshot key) are all unchanged; then its plan is necessarily the same.
// Anything else, or any doubt, and the site is read and planned as in a full plan.
import { hash } from 'node:crypto';
import type { JobSettings } from './settings.js';
import type { TreeEntry } from './ports.js';
import { GROUPS_DIR } from './settings.js';
import { VERSION } from '../version.js';

/** Bumped whenever what a snapshot entry means changes. */
export const SNAPSHOT_FORMAT = 4;

export interface SnapshotSite {
  /** The site folder's tree id. */
  tree: string;
  /** The path of the site's state file (see StateIndex.pathOf), and its blob id, or null when it had none. */
  state_path: string;
  state: string | null;
  id: string;
  /** The site's own last applied commit (from that state file). */
  last_commit: string | null;
  settings: JobSettings;
  scripts: number;
  /**
   * Whether a script of the site uses a secret (issue 18): such a site's plan depends on the secrets
   * supplied, and on whether apply would refuse them. Undefined: not known, taken as true.
   */
  secrets?: boolean;
}

/** An entry directly in the sites directory: a site folder, the fleet file, `_groups`, anything else. */
export interface TopEntry {
  name: string;
  mode: string;
  type: TreeEntry['type'];
  oid: string;
}

export interface PlanSnapshot {
  /** Digest of everything besides a site's folder and state file that its plan depends on. */
  key: string;
  /** Sites with nothing to send, by folder name. */
  sites: Map<string, SnapshotSite>;
  /**
   * What the plan saw, so that the next one can ask git only for what changed since: the commit
   * planned, the sites directory's other entries (besides the kept sites' folders), the state's
   * version and its files not held by a kept site. Absent in a snapshot saved without them.
   */
  seen?: {
    commit: string;
    others: TopEntry[];
    state_head: string | null;
    state_others: Map<string, string>;
  };
}

/** Where snapshots are kept between runs (src/cache/plan-snapshot.ts); losing one costs only time. */
export interface SnapshotStore {
  load(): Promise<PlanSnapshot | undefined>;
  save(snapshot: PlanSnapshot): Promise<void>;
}

/** A folder directly in the sites directory that readFleet treats as a site. */
export function isSiteFolder(e: TreeEntry): boolean {
  const name = e.path.slice(e.path.lastIndexOf('/') + 1);
  return e.type === 'tree' && !name.startsWith('.') && name !== GROUPS_DIR;
}

export interface SnapshotKeyInput {
  sitesDir: string;
  /** The sites directory's entries that are not site folders (fleet file, groups, stray files). */
  shared: readonly TreeEntry[];
  /** Identifies the secrets supplied (a keyed digest, never values). */
  secrets: string;
  /** Identifies the state store. */
  store: string;
  retryFailed: boolean;
}

export function snapshotKey(k: SnapshotKeyInput): string {
  const shared = k.shared.map((e) => `${e.mode} ${e.type} ${e.oid}\t${e.path}`).sort();
  return hash('sha256', JSON.stringify([SNAPSHOT_FORMAT, VERSION, k.sitesDir, shared, k.secrets, k.store, k.retryFailed]), 'hex');
}
