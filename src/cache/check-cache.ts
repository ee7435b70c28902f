// The check cache behind CheckCacheStore (core/check-cache.ts): one JSON file in the git directory
// (<gitDir>/routeros-gitops/check-cache.json), results grouped by the check settings, each keyed by
// its text's key, a script without findings stored as 0. The file belongs to one version of this
// tool and one command data set (by digest): another's is ignored and rewritten. It is written only
// when a run checked something new. Losing it costs only time; a read-only repository runs without it.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckCacheStore, CheckResult } from '../core/check-cache.js';
import type { ScriptFinding } from '../core/model.js';
import { VERSION } from '../version.js';

/** 2: findings carry their level (error, lockout, advice); 3: versions between two of the data set, unknown versions worded. */
const FORMAT = 3;
/** The most results kept (about 10 MB of file at most). */
const MAX_ENTRIES = 200_000;

type Findings = readonly ScriptFinding[];
type Groups = Map<string, Map<string, Findings>>;

interface CheckCacheDoc {
  format: number;
  version: string;
  data: string;
  groups: Record<string, Record<string, Findings | 0>>;
}

export interface CheckCacheFile extends CheckCacheStore {
  /** Every result kept for scripts of this blob (for a worker thread that checks them). */
  resultsOf(blob: string): CheckResult[];
  /** Write what this run added (nothing when it added nothing). */
  save(): Promise<void>;
}

const NONE: Findings = Object.freeze([]) as Findings;
/** A cache file larger than this is read only once this many scripts were asked for (else neither read nor written). */
const SMALL_FILE = 1 << 20;
const FEW_CHECKS = 256;

/** `dataFile`: the command data the checks read (its digest keys the file). */
export function openCheckCache(gitDir: string, dataFile: string | undefined): CheckCacheFile {
  const dir = join(gitDir, 'routeros-gitops');
  const file = join(dir, 'check-cache.json');
  let old: Groups | undefined;
  let byBlob: Map<string, CheckResult[]> | undefined;
  let data: string | undefined;
  const added: Groups = new Map();
  let count = 0;
  const dataId = () => (data ??= dataFile ? createHash('sha256').update(readFileSync(dataFile)).digest('hex') : 'none');
  // Read on first use: a plan with nothing to check never needs it.
  const loaded = (): Groups => {
    if (old) return old;
    const read = readGroups(file, dataId);
    old = read.groups;
    count = read.count;
    return old;
  };
  // A plan that checks a few scripts checks them faster than it reads a large cache (tens of MB for
  // a large fleet): a large file is read only once enough scripts were asked for, and only then written.
  let asked = 0;
  let large: boolean | undefined;
  const worthReading = () => {
    large ??= (statSync(file, { throwIfNoEntry: false })?.size ?? 0) > SMALL_FILE;
    return !large || ++asked >= FEW_CHECKS;
  };
  return {
    get(settings, text) {
      const mine = added.get(settings)?.get(text);
      if (mine || (old === undefined && !worthReading())) return mine;
      return loaded().get(settings)?.get(text);
    },
    set(settings, text, findings) {
      let group = added.get(settings);
      if (!group) added.set(settings, (group = new Map()));
      group.set(text, findings);
    },
    resultsOf(blob) {
      if (!byBlob) {
        byBlob = new Map();
        for (const [settings, group] of loaded()) {
          for (const [text, f] of group) {
            const b = text.split(':')[0]!;
            const list = byBlob.get(b);
            const r: CheckResult = [settings, text, f];
            if (list) list.push(r);
            else byBlob.set(b, [r]);
          }
        }
      }
      return byBlob.get(blob) ?? [];
    },
    async save() {
      if (!added.size) return;
      // Too few to be worth rewriting a large file (it was never read).
      large ??= (statSync(file, { throwIfNoEntry: false })?.size ?? 0) > SMALL_FILE;
      if (old === undefined && large) {
        added.clear();
        return;
      }
      const all = mergedGroups(loaded(), added, count);
      const groups: CheckCacheDoc['groups'] = {};
      for (const [settings, group] of all) {
        const out: Record<string, Findings | 0> = {};
        for (const [t, f] of group) out[t] = f.length ? f : 0;
        groups[settings] = out;
      }
      added.clear();
      byBlob = undefined;
      try {
        await mkdir(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, JSON.stringify({ format: FORMAT, version: VERSION, data: dataId(), groups } satisfies CheckCacheDoc));
        await rename(tmp, file);
        old = all;
        count = [...all.values()].reduce((n, g) => n + g.size, 0);
      } catch {
        /* a read-only repository: run without the cache */
      }
    },
  };
}

/** The results in the cache file, when it is of this format, tool version and command data; else none. */
function readGroups(file: string, dataId: () => string): { groups: Groups; count: number } {
  const groups: Groups = new Map();
  let count = 0;
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as CheckCacheDoc;
    if (doc.format === FORMAT && doc.version === VERSION && doc.data === dataId() && doc.groups && typeof doc.groups === 'object') {
      for (const [settings, entries] of Object.entries(doc.groups)) {
        const group = new Map<string, Findings>();
        for (const [text, f] of Object.entries(entries ?? {})) if (f === 0 || Array.isArray(f)) group.set(text, f === 0 ? NONE : f);
        groups.set(settings, group);
        count += group.size;
      }
    }
  } catch {
    /* no cache yet, or unreadable: start over */
  }
  return { groups, count };
}

/**
 * What to write: results of scripts this run did not check are kept (the next fleet-wide change
 * reads them again), up to a bound: past it, only this run's.
 */
function mergedGroups(before: Groups, added: Groups, count: number): Groups {
  const fresh = [...added.values()].reduce((n, g) => n + g.size, 0);
  if (count + fresh > MAX_ENTRIES) return new Map(added);
  for (const [settings, group] of added) {
    const into = before.get(settings);
    if (into) for (const [t, f] of group) into.set(t, f);
    else before.set(settings, new Map(group));
  }
  return before;
}
