// The `sites` listing: what SDX knows of each router (name, id, RouterOS version, model, online,
// last seen) and the folder `init` gives it. Pure: rows in, text or a JSON document out.
import type { Style } from './style.js';

export interface SiteRow {
  id: string;
  /** The name SDX shows. */
  name: string;
  /** The folder `init` makes for it (the site's name in routeros-gitops). */
  folder: string;
  software_version: string | null;
  /** null when not read (--no-details, or the site's details could not be read). */
  model: string | null;
  has_pulse: boolean;
  last_seen_at: string | null;
}

/** The `sites --format json` document. */
export function sitesToJson(rows: readonly SiteRow[], apiUrl: string): object {
  return { sdx_api_url: apiUrl, sites: rows };
}

/** A table for people, one site a line, and a count. */
export function sitesToText(rows: readonly SiteRow[], apiUrl: string, style: Style, now: number): string {
  if (!rows.length) return `SDX at ${apiUrl} lists no sites for this token.\n`;
  const cells = rows.map((r) => [
    r.name || '(no name)',
    r.folder,
    r.id,
    r.software_version ?? '-',
    r.model ?? '-',
    r.has_pulse ? 'yes' : 'no',
    lastSeen(r.last_seen_at, now),
  ]);
  const head = ['NAME', 'FOLDER', 'ID', 'ROUTEROS', 'MODEL', 'ONLINE', 'LAST SEEN'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [style.bold(line(head))];
  for (const [i, c] of cells.entries()) {
    const text = line(c);
    out.push(rows[i]!.has_pulse ? text : style.yellow(text));
  }
  const online = rows.filter((r) => r.has_pulse).length;
  out.push('', `${rows.length} site${rows.length === 1 ? '' : 's'} (${online} online) at ${apiUrl}`);
  return `${out.join('\n')}\n`;
}

/** "2025-10-29T11:45:56Z (3 min ago)", or "never". */
export function lastSeen(at: string | null, now: number): string {
  if (!at) return 'never';
  const t = Date.parse(at);
  if (!Number.isFinite(t)) return at;
  const s = Math.max(0, Math.round((now - t) / 1000));
  const ago =
    s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : s < 172_800 ? `${Math.round(s / 3600)} h ago` : `${Math.round(s / 86_400)} days ago`;
  return `${new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z')} (${ago})`;
}
