// The check cache behind CheckCacheStore (core/check-cache.ts): one JSON file in the git directory
// (<gitDir>/routeros-gitops/check-cache.json), results grouped by the check settings, each keyed by
// its text's key, a script without findings stored as 0. The file belongs to one version of this
// tool and one command data set (by digest): another's is ignored and rewritten. It is written only
// when a run checked something new. Losing it costs only time; a read-only repository runs without it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckCacheStore } from '../core/check-cache.js';
import type { ScriptFinding } from '../core/model.js';
import { VERSION } from '../version.js';

const FORMAT = 1;
/** The most results kept (about 10 MB of file at most). */
const MAX_ENTRIES = 200_000;

type Findings = readonly ScriptFinding[];

interface CheckCacheDoc {
  format: number;
  version: string;
  data: string;
  groups: Record<string, Record<string, Findings | 0>>;
}

export interface CheckCacheFile extends CheckCacheStore {
  /** Every result kept for scripts of this blob (for a worker thread that checks them). */
  resultsOf(blob: string): Array<[string, Findings]>;
  /** Write what this run added (nothing when it added nothing). */
  save(): Promise<void>;
}

const NONE: Findings = Object.freeze([]) as Findings;

/** `dataFile`: the command data the checks read (its digest keys the file). */
export function openCheckCache(gitDir: string, dataFile: string | undefined): CheckCacheFile {
  const dir = join(gitDir, 'routeros-gitops');
  const file = join(dir, 'check-cache.json');
  let old: Map<string, Findings> | undefined;
  let byBlob: Map<string, string[]> | undefined;
  let data: string | undefined;
  const used = new Map<string, Findings>();
  let dirty = false;
  const dataId = () => (data ??= dataFile ? createHash('sha256').update(readFileSync(dataFile)).digest('hex') : 'none');
  // Read on first use: a plan with nothing to check never needs it.
  const loaded = (): Map<string, Findings> => {
    if (old) return old;
    old = new Map();
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as CheckCacheDoc;
      if (doc.format === FORMAT && doc.version === VERSION && doc.data === dataId() && doc.groups && typeof doc.groups === 'object') {
        for (const [settings, entries] of Object.entries(doc.groups)) {
          for (const [text, f] of Object.entries(entries ?? {})) if (f === 0 || Array.isArray(f)) old.set(`${text}|${settings}`, f === 0 ? NONE : f);
        }
      }
    } catch {
      /* no cache yet, or unreadable: start over */
    }
    return old;
  };
  return {
    get(key) {
      const hit = used.get(key) ?? loaded().get(key);
      if (hit) used.set(key, hit);
      return hit;
    },
    set(key, findings) {
      used.set(key, findings);
      dirty = true;
    },
    resultsOf(blob) {
      if (!byBlob) {
        byBlob = new Map();
        for (const key of loaded().keys()) {
          const b = key.slice(0, key.search(/[:|]/));
          const list = byBlob.get(b);
          if (list) list.push(key);
          else byBlob.set(b, [key]);
        }
      }
      return (byBlob.get(blob) ?? []).map((k) => [k, old!.get(k)!]);
    },
    async save() {
      if (!dirty) return;
      // Results of scripts this run did not check are kept (the next fleet-wide change reads them
      // again), up to a bound: past it, only this run's.
      const before = loaded();
      const all = before.size + used.size > MAX_ENTRIES ? used : new Map([...before, ...used]);
      const groups: CheckCacheDoc['groups'] = {};
      for (const [key, f] of all) {
        const bar = key.indexOf('|');
        const settings = key.slice(bar + 1);
        (groups[settings] ??= {})[key.slice(0, bar)] = f.length ? f : 0;
      }
      try {
        await mkdir(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, JSON.stringify({ format: FORMAT, version: VERSION, data: dataId(), groups } satisfies CheckCacheDoc));
        await rename(tmp, file);
        old = new Map(all);
        byBlob = undefined;
        dirty = false;
      } catch {
        /* a read-only repository: run without the cache */
      }
    },
  };
}
