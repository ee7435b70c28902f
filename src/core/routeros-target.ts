// Which RouterOS a site's scripts are checked against: the `routeros:` and `packages:` settings
// (site.yaml, then the site's groups, last one first, then the fleet file), and the version the
// router reports, once that is known. Pure: the data set itself is read by the lint hook
// (core/checks.ts); what is needed here of it is in lint/routeros-data-summary.ts.
import { closestName } from '../lint/rules.js';
import { DATA_NEWEST, DATA_OLDEST, EXTRA_PACKAGES } from '../lint/routeros-data-summary.js';
import { compareRouterOsVersions, parseRouterOsVersion } from '../lint/routeros-version.js';
import type { Problem } from './errors.js';
import type { AppliedState, StateUpdate } from './state.js';

/** What one site's scripts are checked against. */
export interface LintTarget {
  /** The `routeros:` setting ('7.16.2'). */
  routeros?: string;
  /** The `packages:` setting: the extra packages the site has. Absent: any. */
  packages?: readonly string[];
  /** The version the router reports (SDX `software_version`), when known. */
  reported?: string;
}

/**
 * The version to check a site against: its setting when there is one (reviewed in the repository,
 * so a plan at a commit checks the same way wherever it runs), else what the router reports, else
 * none (the newest in the data set).
 */
export function targetVersion(t: LintTarget | undefined): string | undefined {
  return t?.routeros ?? t?.reported;
}

/** The newest version the data set knows: what a site with no known version is checked against. */
export const NEWEST_CHECKED_VERSION = DATA_NEWEST;

/** The version a site's scripts are checked against, and where it comes from (plan output). */
export interface SiteRouterOs {
  /** null: no version known; the checks use the newest in the data set. */
  version: string | null;
  source: 'setting' | 'sdx' | 'none';
}

export function siteRouterOs(t: LintTarget): SiteRouterOs {
  if (t.routeros !== undefined) return { version: t.routeros, source: 'setting' };
  if (t.reported !== undefined) return { version: t.reported, source: 'sdx' };
  return { version: null, source: 'none' };
}

/** The script check rules whose findings depend on the RouterOS version checked against (lint/routeros-check.ts). */
export const VERSION_RULES: ReadonlySet<string> = new Set([
  'unknown-menu',
  'unknown-command',
  'unknown-parameter',
  'invalid-value',
  'not-in-version',
  'missing-package',
]);

/**
 * Updates recording the versions SDX reports, for the sites whose reported version changed (or was
 * never recorded). Versions that do not parse as RouterOS versions are ignored.
 */
export function reportedVersionUpdates(
  state: AppliedState,
  reported: ReadonlyArray<{ id: string; software_version?: string | null }>,
  names: ReadonlyMap<string, string>,
  now: Date,
): StateUpdate[] {
  const updates: StateUpdate[] = [];
  for (const r of reported) {
    const id = r.id.toLowerCase();
    const name = names.get(id);
    if (name === undefined || !r.software_version) continue;
    const parsed = parseRouterOsVersion(r.software_version);
    if (!parsed) continue;
    if (state.sites[id]?.reported_version?.version === parsed.text) continue;
    updates.push({ site_id: id, site: state.sites[id]?.site ?? name, reported_version: { version: parsed.text, seen_at: now.toISOString() } });
  }
  return updates;
}

/** Each site's lint target, with the version its state says SDX reported. */
export function withReportedVersions<T extends { id: string; lintTarget: LintTarget }>(sites: T[], state: AppliedState): void {
  for (const site of sites) {
    const reported = state.sites[site.id]?.reported_version?.version;
    if (reported !== undefined) site.lintTarget = { ...site.lintTarget, reported };
  }
}

interface RouterOsLayer {
  routeros?: string | number;
  packages?: string[];
}

/** The site's settings over its groups' (the last group first) over the fleet's. */
export function mergeRouterOsSettings(fleet: RouterOsLayer, groups: readonly RouterOsLayer[], site: RouterOsLayer): LintTarget {
  const layers = [site, ...[...groups].reverse(), fleet];
  const routeros = layers.find((l) => l.routeros !== undefined)?.routeros;
  const packages = layers.find((l) => l.packages !== undefined)?.packages;
  const out: LintTarget = {};
  if (routeros !== undefined) out.routeros = String(routeros);
  if (packages !== undefined) out.packages = packages;
  return out;
}

/** Problems with one file's `routeros:` and `packages:` (`where`: '' or 'groups.NAME.'). */
export function checkRouterOsSettings(layer: RouterOsLayer, file: string, where = ''): Problem[] {
  const problems: Problem[] = [];
  for (const name of layer.packages ?? []) {
    const wrong = checkPackageName(name);
    if (wrong) problems.push({ file, message: `${where}packages: ${wrong}`, hint: PACKAGES_HINT });
  }
  return problems;
}

export const PACKAGES_HINT = `use the names /system package lists: ${EXTRA_PACKAGES.join(', ')}`;

/** What is wrong with an extra package's name, or undefined when it is one. */
export function checkPackageName(name: string): string | undefined {
  if (EXTRA_PACKAGES.includes(name)) return undefined;
  const guess = closestName(name, EXTRA_PACKAGES);
  return `"${name}" is not a RouterOS extra package${guess ? `; did you mean "${guess}"?` : ''}`;
}

/**
 * Warnings about the versions sites are checked against: sites with none (checked against the
 * newest in the data set), and versions the data set does not cover. One warning per kind, naming
 * the sites.
 */
export function routerOsWarnings(sites: ReadonlyArray<{ name: string; lintTarget: LintTarget }>, fleetFile: string): Problem[] {
  const none: string[] = [];
  const outside = new Map<string, string[]>();
  for (const s of sites) {
    const v = targetVersion(s.lintTarget);
    if (v === undefined) {
      none.push(s.name);
      continue;
    }
    const parsed = parseRouterOsVersion(v);
    if (!parsed) continue;
    let why: string | undefined;
    if (parsed.major < 7) why = `RouterOS ${parsed.text} is not checked against a command tree (the data set covers ${DATA_OLDEST} to ${DATA_NEWEST})`;
    else if (compareRouterOsVersions(parsed, parseRouterOsVersion(DATA_OLDEST)!) < 0)
      why = `RouterOS ${parsed.text} is older than the data set: scripts are checked against ${DATA_OLDEST}`;
    else if (compareRouterOsVersions(parsed, parseRouterOsVersion(DATA_NEWEST)!) > 0)
      why = `RouterOS ${parsed.text} is newer than the data set: scripts are checked against ${DATA_NEWEST}`;
    if (why) outside.set(why, [...(outside.get(why) ?? []), s.name]);
  }
  const out: Problem[] = [];
  if (none.length)
    out.push({
      file: fleetFile,
      message: `${count(none)} no RouterOS version: ${none.length === 1 ? 'its scripts are' : 'their scripts are'} checked against ${DATA_NEWEST}, the newest in the data set (${list(none)})`,
      hint: 'set routeros: (such as routeros: 7.16.2) in each site.yaml, a group or the fleet file; once apply has run with an SDX token, the version each router reports is used',
    });
  for (const [why, names] of outside) out.push({ file: fleetFile, message: `${why} (${list(names)})`, hint: 'check the routeros: setting of these sites' });
  return out;
}

function count(names: readonly string[]): string {
  return names.length === 1 ? '1 site has' : `${names.length} sites have`;
}

function list(names: readonly string[]): string {
  return names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');
}
