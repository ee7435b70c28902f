// The plan snapshot behind SnapshotStore (see src/core/snapshot.ts): one JSON file in the git
// directory (<gitDir>/routeros-gitops/plan-snapshot.json), written whole and renamed into place.
// Sites are rows, and the job settings they share are stored once. A missing, broken or foreign
// file reads as no snapshot (the next plan reads everything); a read-only repository runs without.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SNAPSHOT_FORMAT, type PlanSnapshot, type SnapshotSite, type SnapshotStore } from '../core/snapshot.js';
import type { JobSettings } from '../core/settings.js';
import { VERSION } from '../version.js';

type Row = [name: string, tree: string, state_path: string, state: string | null, id: string, last_commit: string | null, settings: number, scripts: number];

interface SnapshotFile {
  format: number;
  version: string;
  key: string;
  settings: JobSettings[];
  sites: Row[];
}

const isOid = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{40,64}$/.test(v);

export function openPlanSnapshot(gitDir: string): SnapshotStore {
  const dir = join(gitDir, 'routeros-gitops');
  const file = join(dir, 'plan-snapshot.json');
  return {
    async load() {
      let doc: SnapshotFile;
      try {
        doc = JSON.parse(await readFile(file, 'utf8')) as SnapshotFile;
      } catch {
        return undefined;
      }
      if (!doc || doc.format !== SNAPSHOT_FORMAT || doc.version !== VERSION || typeof doc.key !== 'string' || !Array.isArray(doc.sites) || !Array.isArray(doc.settings)) {
        return undefined;
      }
      const sites: Record<string, SnapshotSite> = {};
      for (const row of doc.sites) {
        // A row that does not look right is left out: its site is read again.
        if (!Array.isArray(row) || row.length !== 8) continue;
        const [name, tree, statePath, state, id, last, si, scripts] = row;
        const settings = doc.settings[si];
        if (typeof name !== 'string' || !isOid(tree) || typeof statePath !== 'string' || !(state === null || isOid(state)) || typeof id !== 'string' || !(last === null || isOid(last))) continue;
        if (!settings || typeof settings !== 'object' || !Number.isInteger(scripts)) continue;
        sites[name] = { tree, state_path: statePath, state, id, last_commit: last, settings, scripts };
      }
      return { key: doc.key, sites };
    },
    async save(snapshot: PlanSnapshot) {
      const settings: JobSettings[] = [];
      const index = new Map<string, number>();
      const rows: Row[] = [];
      for (const [name, s] of Object.entries(snapshot.sites)) {
        const k = JSON.stringify(s.settings);
        let i = index.get(k);
        if (i === undefined) {
          i = settings.push(s.settings) - 1;
          index.set(k, i);
        }
        rows.push([name, s.tree, s.state_path, s.state, s.id, s.last_commit, i, s.scripts]);
      }
      const doc: SnapshotFile = { format: SNAPSHOT_FORMAT, version: VERSION, key: snapshot.key, settings, sites: rows };
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
