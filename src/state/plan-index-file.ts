// How the plan index (core/plan-index.ts) is written down in the state tree: one small file per
// bucket, plan-index/<xx>.json, where <xx> is the bucket of the site's state file (sites/<xx>/), so
// that an apply that changed a few sites rewrites a few small files, whatever the fleet's size.
// Each file carries the keys it was made under and one line per site (sorted by folder name, so a
// diff between two state commits shows what changed). Another version's file, or one that does not
// read right, is no index at all: its sites are read as in a full plan.
import { hash } from 'node:crypto';
import { PLAN_INDEX_FORMAT, type PlanIndexBucket, type PlanIndexEntry, type PlanIndexWrite } from '../core/plan-index.js';
import { isJobSettings, type JobSettings } from '../core/settings.js';
import { VERSION } from '../version.js';
import { siteFilePath } from './encoding.js';

export const PLAN_INDEX_DIR = 'plan-index';

type Row = [name: string, tree: string, state: string | null, id: string, last_commit: string | null, settings: number, scripts: number, secrets: boolean];

interface BucketFile {
  format: number;
  version: string;
  keys: { base: string; secrets: string };
  settings: JobSettings[];
  sites: Row[];
}

/** Every bucket file an index can have (the buckets of sites/). */
export const PLAN_INDEX_BUCKETS: readonly string[] = Array.from({ length: 256 }, (_, i) => `${PLAN_INDEX_DIR}/${i.toString(16).padStart(2, '0')}.json`);

/** The file of the bucket a site's entry goes in: the bucket of its state file. */
export function planIndexPath(siteId: string): string {
  const statePath = siteFilePath(siteId);
  return `${PLAN_INDEX_DIR}/${statePath.slice('sites/'.length, statePath.lastIndexOf('/'))}.json`;
}

/** Every bucket file of an index, by path, as text. */
export function encodePlanIndex(index: PlanIndexWrite): Map<string, string> {
  const byPath = new Map<string, Array<[string, PlanIndexEntry]>>();
  for (const [name, e] of index.sites) {
    const path = planIndexPath(e.id);
    const list = byPath.get(path);
    if (list) list.push([name, e]);
    else byPath.set(path, [[name, e]]);
  }
  const files = new Map<string, string>();
  for (const [path, entries] of [...byPath].sort(([a], [b]) => (a < b ? -1 : 1))) {
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const settings: JobSettings[] = [];
    const seen = new Map<string, number>();
    const rows = entries.map(([name, e]): Row => {
      const s = jobSettings(e.settings);
      const k = JSON.stringify(s);
      let i = seen.get(k);
      if (i === undefined) {
        i = settings.push(s) - 1;
        seen.set(k, i);
      }
      return [name, e.tree, e.state, e.id, e.last_commit, i, e.scripts, e.secrets !== false];
    });
    const head = JSON.stringify({ format: PLAN_INDEX_FORMAT, version: VERSION, keys: { base: index.keys.base, secrets: index.keys.secrets }, settings });
    // One site a line: readable diffs in the state's history.
    files.set(path, `${head.slice(0, -1)},"sites":[\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]}\n`);
  }
  return files;
}

/** The git blob id of `text` (to compare with a tree's entry without reading it). */
export function blobId(text: string, objectFormat: 'sha1' | 'sha256'): string {
  const body = Buffer.from(text, 'utf8');
  return hash(objectFormat, Buffer.concat([Buffer.from(`blob ${body.length}\0`, 'utf8'), body]), 'hex');
}

const isOid = (v: unknown): v is string => typeof v === 'string' && (v.length === 40 || v.length === 64) && /^[0-9a-f]+$/.test(v);
const isHex64 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

/** One bucket file, or undefined when it is not one of this version's, or any part of it does not read right. */
export function decodePlanIndexBucket(text: string | undefined): PlanIndexBucket | undefined {
  let doc: BucketFile;
  try {
    doc = JSON.parse(text ?? '') as BucketFile;
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object' || doc.format !== PLAN_INDEX_FORMAT || doc.version !== VERSION) return undefined;
  if (!doc.keys || !isHex64(doc.keys.base) || !isHex64(doc.keys.secrets) || !Array.isArray(doc.settings) || !Array.isArray(doc.sites)) return undefined;
  const settings = doc.settings.map(readJobSettings);
  const sites = new Map<string, PlanIndexEntry>();
  for (const row of doc.sites) {
    if (!Array.isArray(row) || row.length !== 8) return undefined;
    const [name, tree, state, id, last, si, scripts, secrets] = row;
    const set = typeof si === 'number' ? settings[si] : undefined;
    if (typeof name !== 'string' || !isOid(tree) || !(state === null || isOid(state)) || typeof id !== 'string' || id === '') return undefined;
    if (!(last === null || isOid(last)) || !set || !Number.isInteger(scripts) || scripts < 0 || typeof secrets !== 'boolean') return undefined;
    // The state path is the store's business: it is worked out from the id when the entry is used.
    sites.set(name, { tree, state_path: '', state, id, last_commit: last, settings: set, scripts, secrets });
  }
  return { keys: { base: doc.keys.base, secrets: doc.keys.secrets }, sites };
}

/** Exactly the job settings' fields, in a fixed order (the file's text must not depend on where they came from). */
function jobSettings(s: JobSettings): JobSettings {
  return { needs_ack: s.needs_ack, backup: s.backup, express: s.express, description: s.description, timeout: s.timeout };
}

function readJobSettings(v: unknown): JobSettings | undefined {
  return isJobSettings(v) ? jobSettings(v) : undefined;
}
