// SDX site names as folder names (`init`, `sites`): what people call a router in SDX ("HQ core",
// "Branch Lisbon #2", "Zürich") becomes a valid site name ("hq-core", "branch-lisbon-2", "zurich"),
// and two names that would make the same folder are told apart the same way on every run.
import { NAME_RE } from './settings.js';

export interface NamedSite {
  id: string;
  name: string;
}

export interface SiteFolder {
  id: string;
  /** The name SDX shows. */
  name: string;
  /** The folder under the sites directory (the site's name in routeros-gitops). */
  folder: string;
  /** Set when another site's name made the same folder: the folder got the id's first characters. */
  collision?: { with: string; base: string };
}

const MAX = 63;

/**
 * A site name from an SDX name: lower case, accents dropped, every run of other characters than
 * letters and digits as one "-" (so "hq.core" and "hq-core", whose secrets would share a variable
 * name, make the same folder and are told apart), at most 63 characters; "" when nothing is left.
 */
export function sanitizeSiteName(name: string): string {
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  return ascii
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX)
    .replace(/-+$/, '');
}

/**
 * A folder for every site. Sites are taken in order of name, then id; the first to want a folder
 * gets it, and each later one gets "<folder>-<first 8 characters of its id>" (more of the id if that
 * is taken too). A name with nothing usable left becomes "site-<first 8 characters of its id>".
 */
export function siteFolders(sites: readonly NamedSite[]): SiteFolder[] {
  const ordered = [...sites].sort((a, b) => cmp(a.name, b.name) || cmp(a.id.toLowerCase(), b.id.toLowerCase()));
  const taken = new Map<string, string>(); // folder -> the SDX name that has it
  const out: SiteFolder[] = [];
  for (const s of ordered) {
    const id = s.id.toLowerCase();
    const base = sanitizeSiteName(s.name) || `site-${id.slice(0, 8)}`;
    let folder = base;
    const holder = taken.get(base);
    if (holder !== undefined) {
      const hex = id.replace(/-/g, '');
      for (let n = 8; n <= hex.length; n += 4) {
        folder = `${base.slice(0, MAX - n - 1).replace(/-+$/, '')}-${hex.slice(0, n)}`;
        if (!taken.has(folder)) break;
      }
    }
    if (!NAME_RE.test(folder)) folder = `site-${id.replace(/-/g, '')}`.slice(0, MAX);
    taken.set(folder, s.name);
    out.push({ id, name: s.name, folder, ...(holder !== undefined && { collision: { with: holder, base } }) });
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
