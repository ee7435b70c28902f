// How the applied state is written down: stable, pretty JSON (sorted keys, so a diff between two
// state commits shows only what changed), one file per site, and readable commit messages.
import { createHash, hash } from 'node:crypto';
import { normalizeSiteState, type SiteState, type StateUpdate } from '../core/state.js';

/** JSON with keys sorted at every level, two-space indent, trailing newline. */
export function stableStringify(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/**
 * The file of a site in the state tree: `sites/<xx>/<site_id>.json`, where `xx` is the first byte
 * of the SHA-256 of the site id in hex. The 256 buckets keep every tree a commit rewrites small:
 * with one flat `sites/` folder, each commit would rewrite a tree listing the whole fleet (200 KB
 * at 5,000 sites, 2 MB at 50,000) and its cost would grow with the fleet. Characters that are not
 * safe in a file name on every platform are %-escaped; the site id is read back from the file's
 * content, so the escaping never needs undoing and readers accept any layout under `sites/`.
 */
export function siteFilePath(siteId: string): string {
  // Site ids are UUIDs: nothing to escape, and one hash call (this runs once per site per load).
  if (/^[A-Za-z0-9_-]+$/.test(siteId)) return `sites/${hash('sha256', siteId, 'hex').slice(0, 2)}/${siteId}.json`;
  const safe = Array.from(Buffer.from(siteId, 'utf8'))
    .map((b, i) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9_-]/.test(c) || (c === '.' && i > 0) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
  const bucket = createHash('sha256').update(siteId, 'utf8').digest('hex').slice(0, 2);
  return `sites/${bucket}/${safe}.json`;
}

/** Parse one site's file (format 1 or 2, upgraded to 2); throws naming `where` when it is not a site state. */
export function parseSiteState(text: string, where: string): SiteState {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`the applied state in ${where} is not valid JSON (${(e as Error).message}); restore it from the state's history`);
  }
  return normalizeSiteState(doc, where);
}

/** Reject updates that could not be stored, before they join a batch with other callers' updates. */
export function checkUpdates(updates: readonly StateUpdate[]): void {
  for (const u of updates) {
    if (typeof u.site_id !== 'string' || u.site_id === '') throw new TypeError(`a state update needs a site_id (got ${JSON.stringify(u.site_id)})`);
    if (u.record && (typeof u.file !== 'string' || u.file === '' || u.file.includes('/'))) {
      throw new TypeError(`a state update of site ${u.site_id} needs the script's file name (got ${JSON.stringify(u.file)})`);
    }
  }
}

/** "record 3 updates: hq-core 10-firewall.rsc succeeded, ..." plus one body line per update. */
export function describeUpdates(updates: readonly StateUpdate[]): string {
  const what = (u: StateUpdate) => `${u.site || u.site_id} ${u.file ?? '(site)'} ${u.record ? u.record.phase : u.last_commit ? 'last commit' : 'updated'}`;
  const shown = updates.slice(0, 3).map(what).join(', ');
  const more = updates.length > 3 ? ` and ${updates.length - 3} more` : '';
  const subject = `record ${updates.length} update${updates.length === 1 ? '' : 's'}: ${shown}${more}`;
  const body = updates.slice(0, 500).map((u) => {
    const r = u.record;
    const detail = r ? `${r.phase} job=${r.job_id ?? '-'} key=${r.key} commit=${r.commit.slice(0, 12)} generation=${r.generation}` : 'site';
    return `${u.site_id} ${u.file ?? '-'}: ${detail}${u.last_commit ? ` last_commit=${u.last_commit.slice(0, 12)}` : ''}`;
  });
  if (updates.length > 500) body.push(`... and ${updates.length - 500} more`);
  return `${subject}\n\n${body.join('\n')}\n`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exponential backoff with jitter: attempt 1 waits about `baseMs`, doubling up to `maxMs`. */
export function backoffDelay(attempt: number, baseMs = 5, maxMs = 250): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + Math.random()));
}
