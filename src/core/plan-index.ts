// The plan index (issue 18): what the next plan needs, kept in the applied state itself, so that a
// plan in a fresh clone (the GitHub Action, every run) reads only the sites that changed, as a plan
// with a local snapshot (core/snapshot.ts) does. Apply writes it once per run, after its outcomes
// (src/apply/plan-index.ts); plans only read it.
//
// Each entry is a claim that holds whoever made it: "the site folder NAME, whose tree is T, with
// the state file whose blob is B, under the key K, has nothing to send; here are its id, last
// commit, job settings and number of scripts". A site's plan is a function of its folder, its
// state file and what the key covers (the sites directory's own files and groups, the directory,
// this version, retry-failed, and for a site whose scripts use secrets, the secrets supplied), so
// a claim whose T, B and K all match is true in any clone, whatever wrote it and whenever. Two
// writers merging their states can therefore never make a claim false: a site file both changed
// is merged into a new blob, which no entry names; a bucket both changed is taken from one side.
// Anything that does not match exactly (another version, other secrets, a changed folder or state
// file, a file that does not read right) is simply not taken: the site is read as in a full plan.
import { hash } from 'node:crypto';
import type { TreeEntry } from './ports.js';
import type { SnapshotSite } from './snapshot.js';
import { VERSION } from '../version.js';

/** Bumped whenever what an index entry means changes. */
export const PLAN_INDEX_FORMAT = 1;

/**
 * The two keys an entry is checked against: `base` covers everything but the secrets; `secrets`
 * also covers the secrets supplied (a keyed digest, never a value). An entry of a site whose
 * scripts use no secret needs only `base`: its plan does not depend on secret values.
 */
export interface PlanIndexKeys {
  base: string;
  secrets: string;
}

export interface PlanIndexKeyInput {
  sitesDir: string;
  /** The sites directory's entries that are not site folders (fleet file, groups, stray files). */
  shared: readonly TreeEntry[];
  /** Identifies the secrets supplied (a keyed digest, '' for none); see SecretSource.identity. */
  secrets: string;
  retryFailed: boolean;
}

export function planIndexKeys(k: PlanIndexKeyInput): PlanIndexKeys {
  const shared = k.shared.map((e) => `${e.mode} ${e.type} ${e.oid}\t${e.path}`).sort();
  const base = hash('sha256', JSON.stringify(['plan-index', PLAN_INDEX_FORMAT, VERSION, k.sitesDir, shared, k.retryFailed]), 'hex');
  return { base, secrets: hash('sha256', JSON.stringify([base, k.secrets]), 'hex') };
}

/** An entry as stored: a snapshot site whose `secrets` says which key it needs. */
export type PlanIndexEntry = SnapshotSite;

/** One stored bucket of entries (the store keeps them in several files, each with its keys). */
export interface PlanIndexBucket {
  keys: PlanIndexKeys;
  /** By site folder name. */
  sites: ReadonlyMap<string, PlanIndexEntry>;
}

/** What apply leaves in the state for the next plan: the keys it was made under and the clean sites. */
export interface PlanIndexWrite {
  keys: PlanIndexKeys;
  sites: ReadonlyMap<string, PlanIndexEntry>;
}

/**
 * The sites the stored index shows clean now: entries whose keys, folder tree and state file (at
 * the path the store keeps the site's state, read from `stateFiles`) are exactly those it was made
 * for. `skip` names folders already known clean (from the local snapshot).
 */
export function cleanFromPlanIndex(
  buckets: readonly PlanIndexBucket[],
  keys: PlanIndexKeys,
  folders: readonly TreeEntry[],
  stateFiles: ReadonlyMap<string, string>,
  pathOf: (siteId: string) => string,
  skip: ReadonlySet<string>,
): Map<string, SnapshotSite> {
  const byName = new Map<string, PlanIndexEntry[]>();
  for (const b of buckets) {
    if (b.keys.base !== keys.base) continue;
    const secretsMatch = b.keys.secrets === keys.secrets;
    for (const [name, e] of b.sites) {
      if (e.secrets !== false && !secretsMatch) continue;
      const list = byName.get(name);
      if (list) list.push(e);
      else byName.set(name, [e]);
    }
  }
  const clean = new Map<string, SnapshotSite>();
  if (!byName.size) return clean;
  for (const f of folders) {
    const name = f.path.slice(f.path.lastIndexOf('/') + 1);
    if (skip.has(name)) continue;
    for (const e of byName.get(name) ?? []) {
      const statePath = pathOf(e.id);
      if (e.tree === f.oid && (stateFiles.get(statePath) ?? null) === e.state) {
        clean.set(name, { ...e, state_path: statePath });
        break;
      }
    }
  }
  return clean;
}
