// The plan snapshot behind SnapshotStore (see src/core/snapshot.ts): one JSON file in the git
// directory (<gitDir>/routeros-gitops/plan-snapshot.json), written whole and renamed into place.
// Sites are rows, and the job settings they share are stored once. A missing, broken or foreign
// file reads as no snapshot (the next plan reads everything); a read-only repository runs without.
// It is read synchronously: it is small, and a plan has nothing else to do until it is read.
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { typeOfMode } from '../core/ports.js';
import { SNAPSHOT_FORMAT, type PlanSnapshot, type SnapshotSite, type SnapshotStore, type TopEntry } from '../core/snapshot.js';
import { isJobSettings, type JobSettings } from '../core/settings.js';
import { VERSION } from '../version.js';

type Row = [
  name: string,
  tree: string,
  state_path: string,
  state: string | null,
  id: string,
  last_commit: string | null,
  settings: number,
  scripts: number,
  secrets: boolean,
];

export interface SnapshotFile {
  format: number;
  version: string;
  key: string;
  settings: JobSettings[];
  sites: Row[];
  seen?: {
    commit: string;
    others: Array<[name: string, mode: string, oid: string]>;
    state_head: string | null;
    state_others: Array<[path: string, oid: string]>;
  };
}

const isOid = (v: unknown): v is string => typeof v === 'string' && (v.length === 40 || v.length === 64) && /^[0-9a-f]+$/.test(v);

export function openPlanSnapshot(gitDir: string): SnapshotStore {
  const dir = join(gitDir, 'routeros-gitops');
  const file = join(dir, 'plan-snapshot.json');
  return {
    async load() {
      let doc: SnapshotFile;
      try {
        doc = JSON.parse(readFileSync(file, 'utf8')) as SnapshotFile;
      } catch {
        return undefined;
      }
      return readSnapshotFile(doc);
    },
    async save(snapshot: PlanSnapshot) {
      const doc = toSnapshotFile(snapshot);
      try {
        await mkdir(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, JSON.stringify(doc));
        await rename(tmp, file);
      } catch {
        /* a read-only repository: run without the snapshot */
      }
    },
  };
}

/** The snapshot a file holds, or undefined when it is not one of this version's. */
export function readSnapshotFile(doc: SnapshotFile): PlanSnapshot | undefined {
  if (
    !doc ||
    doc.format !== SNAPSHOT_FORMAT ||
    doc.version !== VERSION ||
    typeof doc.key !== 'string' ||
    !Array.isArray(doc.sites) ||
    !Array.isArray(doc.settings)
  ) {
    return undefined;
  }
  const sites = readRows(doc.sites, doc.settings);
  const snapshot: PlanSnapshot = { key: doc.key, sites };
  // What the plan saw is all or nothing: without it the next plan lists everything again.
  const seen = doc.seen && sites.size === doc.sites.length ? readSeen(doc.seen) : undefined;
  if (seen) snapshot.seen = seen;
  return snapshot;
}

/** The rows that look right (one that does not is left out: its site is read again). */
function readRows(rows: readonly Row[], settingsList: readonly unknown[]): Map<string, SnapshotSite> {
  const settings = settingsList.map((s) => (isJobSettings(s) ? s : undefined));
  const sites = new Map<string, SnapshotSite>();
  for (const row of rows) {
    if (!Array.isArray(row) || row.length !== 9) continue;
    const [name, tree, statePath, state, id, last, si, scripts, secrets] = row;
    const set = typeof si === 'number' ? settings[si] : undefined;
    if (
      typeof name !== 'string' ||
      !isOid(tree) ||
      typeof statePath !== 'string' ||
      !(state === null || isOid(state)) ||
      typeof id !== 'string' ||
      !(last === null || isOid(last))
    )
      continue;
    if (!set || !Number.isInteger(scripts) || typeof secrets !== 'boolean') continue;
    sites.set(name, { tree, state_path: statePath, state, id, last_commit: last, settings: set, scripts, secrets });
  }
  return sites;
}

/** What the last plan saw, when every part of it reads right. */
function readSeen(seen: NonNullable<SnapshotFile['seen']>): PlanSnapshot['seen'] {
  if (!isOid(seen.commit) || !(seen.state_head === null || isOid(seen.state_head)) || !Array.isArray(seen.others) || !Array.isArray(seen.state_others)) {
    return undefined;
  }
  const others: TopEntry[] = [];
  for (const o of seen.others) {
    if (!(Array.isArray(o) && typeof o[0] === 'string' && typeof o[1] === 'string' && /^\d{6}$/.test(o[1]) && isOid(o[2]))) return undefined;
    others.push({ name: o[0], mode: o[1], type: typeOfMode(o[1]), oid: o[2] });
  }
  const stateOthers = new Map<string, string>();
  for (const o of seen.state_others) {
    if (!(Array.isArray(o) && typeof o[0] === 'string' && isOid(o[1]))) return undefined;
    stateOthers.set(o[0], o[1]);
  }
  return { commit: seen.commit, others, state_head: seen.state_head, state_others: stateOthers };
}

/** The file's form: the job settings sites share are stored once, sites are rows. */
export function toSnapshotFile(snapshot: PlanSnapshot): SnapshotFile {
  const settings: JobSettings[] = [];
  const index = new Map<string, number>();
  const rows: Row[] = [];
  for (const [name, s] of snapshot.sites) {
    const k = JSON.stringify(s.settings);
    let i = index.get(k);
    if (i === undefined) {
      i = settings.push(s.settings) - 1;
      index.set(k, i);
    }
    rows.push([name, s.tree, s.state_path, s.state, s.id, s.last_commit, i, s.scripts, s.secrets !== false]);
  }
  const doc: SnapshotFile = { format: SNAPSHOT_FORMAT, version: VERSION, key: snapshot.key, settings, sites: rows };
  if (snapshot.seen) {
    doc.seen = {
      commit: snapshot.seen.commit,
      others: snapshot.seen.others.map((o) => [o.name, o.mode, o.oid]),
      state_head: snapshot.seen.state_head,
      state_others: [...snapshot.seen.state_others],
    };
  }
  return doc;
}
