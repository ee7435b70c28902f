// The parse cache behind ParseCache: one JSON file in the git directory
// (<gitDir>/routeros-gitops/parse-cache.json), keyed by blob id, so it can never be stale: a changed
// file is a new blob. Entries not used by a run are dropped when it saves; a broken or foreign file
// is ignored (and rewritten). Losing it costs only time.
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ParseCache } from '../core/model.js';
import { VERSION } from '../version.js';

export async function openParseCache(gitDir: string): Promise<ParseCache & { save(opts?: { keepUnused?: boolean }): Promise<void> }> {
  const dir = join(gitDir, 'routeros-gitops');
  const file = join(dir, 'parse-cache.json');
  // Read on first use: an incremental plan that reads no settings file never needs it.
  let loaded: Record<string, unknown> | undefined;
  const entries = (): Record<string, unknown> => {
    if (loaded) return loaded;
    loaded = {};
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { version?: string; entries?: Record<string, unknown> };
      // Parsed values depend on the settings definitions: another version starts over.
      if (doc.version === VERSION && doc.entries && typeof doc.entries === 'object') loaded = doc.entries;
    } catch {
      /* no cache yet, or unreadable: start over */
    }
    return loaded;
  };
  const used: Record<string, unknown> = {};
  let dirty = false;
  return {
    get(key) {
      const old = entries();
      const v = Object.hasOwn(old, key) ? old[key] : undefined;
      if (v !== undefined) used[key] = v;
      return v;
    },
    set(key, value) {
      used[key] = value;
      dirty = true;
    },
    /** keepUnused: the run read part of the fleet (an incremental plan): keep what it did not need. */
    async save(opts = {}) {
      if (opts.keepUnused) {
        if (!dirty) return;
        for (const [k, v] of Object.entries(entries())) if (!Object.hasOwn(used, k)) used[k] = v;
      }
      if (!dirty && Object.keys(used).length === Object.keys(entries()).length) return;
      try {
        await mkdir(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, JSON.stringify({ version: VERSION, entries: used }));
        await rename(tmp, file);
        loaded = used;
        dirty = false;
      } catch {
        /* a read-only repository: run without the cache */
      }
    },
  };
}
