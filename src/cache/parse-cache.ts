// The parse cache behind ParseCache: one JSON file in the git directory
// (<gitDir>/routeros-gitops/parse-cache.json), keyed by blob id, so it can never be stale: a changed
// file is a new blob. Entries not used by a run are dropped when it saves; a broken or foreign file
// is ignored (and rewritten). Losing it costs only time.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ParseCache } from '../core/model.js';
import { VERSION } from '../version.js';

export async function openParseCache(gitDir: string): Promise<ParseCache & { save(opts?: { keepUnused?: boolean }): Promise<void> }> {
  const dir = join(gitDir, 'routeros-gitops');
  const file = join(dir, 'parse-cache.json');
  let old: Record<string, unknown> = {};
  try {
    const doc = JSON.parse(await readFile(file, 'utf8')) as { version?: string; entries?: Record<string, unknown> };
    // Parsed values depend on the settings definitions: another version starts over.
    if (doc.version === VERSION && doc.entries && typeof doc.entries === 'object') old = doc.entries;
  } catch {
    /* no cache yet, or unreadable: start over */
  }
  const used: Record<string, unknown> = {};
  let dirty = false;
  return {
    get(key) {
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
        for (const [k, v] of Object.entries(old)) if (!Object.hasOwn(used, k)) used[k] = v;
      }
      if (!dirty && Object.keys(used).length === Object.keys(old).length) return;
      try {
        await mkdir(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, JSON.stringify({ version: VERSION, entries: used }));
        await rename(tmp, file);
        old = used;
        dirty = false;
      } catch {
        /* a read-only repository: run without the cache */
      }
    },
  };
}
