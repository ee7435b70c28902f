// The repository model: the sites directory at a commit, read through RepoReader (batched git
// plumbing, never the working directory), validated into sites, their settings and their ordered
// scripts, then rendered. Reading is incremental: a script whose source blob and render inputs
// are the ones recorded in the applied state is not read again.
import { posix } from 'node:path';
import type { Problem } from './errors.js';
import type { CommitInfo, RepoReader, TreeEntry } from './ports.js';
import {
  FLEET_DEFAULTS,
  FLEET_FILE,
  GROUPS_DIR,
  mergeJobSettings,
  NAME_RE,
  SITE_FILE,
  type FleetDefaults,
  type FleetSettings,
  type SiteSettings,
  type GroupSettings,
  type JobSettings,
  type VarValue,
} from './settings.js';
import type { TemplateRef } from './template.js';
import type { RenderWorkers } from './render-fleet.js';
import { checkDescriptionTemplate } from './description.js';
import { deprecatedRuleSettings, validateRuleSettings, type Level, type RuleSetting } from '../lint/index.js';
// Issue 16: the RouterOS version and packages each site's scripts are checked against.
import { checkRouterOsSettings, mergeRouterOsSettings, type LintTarget } from './routeros-target.js';

export interface ScriptSource {
  /** Repository-relative path. */
  path: string;
  /** File name, which orders a site's scripts. */
  file: string;
  blob: string;
  size: number;
  /** The group this shared script belongs to; undefined for a site's own script. */
  group?: string;
}

export interface SiteModel {
  name: string;
  id: string;
  /** Repository-relative folder of the site. */
  dir: string;
  /** Repository-relative path of its site.yaml. */
  settingsFile: string;
  groups: string[];
  settings: JobSettings;
  vars: Record<string, VarValue>;
  /** Where each variable of `vars` was defined (file), for messages. */
  varOrigins: Record<string, string>;
  lintRules: Record<string, RuleSetting>;
  /** The RouterOS its scripts are checked against (routeros: and packages: settings). */
  lintTarget: LintTarget;
  /** Scripts in the order they are applied. */
  scripts: ScriptSource[];
}

export interface FleetModel {
  commit: CommitInfo;
  sitesDir: string;
  fleetFile: string | null;
  fleet: FleetDefaults;
  sites: SiteModel[];
  /** Shared scripts by group. */
  groupScripts: Record<string, ScriptSource[]>;
  problems: Problem[];
  warnings: Problem[];
  /** The fleet file could not be read (not valid YAML): the variables it defines are unknown, not missing. */
  unreadSettings?: boolean;
}

/** Where secret values come from at apply time. */
export interface SecretSource {
  /** The value of secret `name` for `site`, or undefined when it is not supplied. */
  get(site: string, name: string): string | undefined;
  /** Every value, so outputs can be scrubbed of them. */
  values(): string[];
  /**
   * Key for the secret digests (RGO_SECRETS_KEY). Without it, no digest is made: a value is used in
   * the job body, but fingerprints take the digests recorded in the state (a rotation is not seen),
   * and apply refuses to send scripts that use secrets.
   */
  readonly digestKey: string | undefined;
  /**
   * A keyed digest of every secret name, scope and value supplied ('' for none): equal for two
   * runs only when they would render every script the same; undefined when it cannot be made
   * (values without a key). Optional (no incremental plans without).
   */
  identity?(): string | undefined;
  /** Optional: whether `site` has its own value of secret `name` (not the fleet's). */
  forSite?(site: string, name: string): boolean;
  /** Optional: the environment prefix of `site`'s own secrets (RGO_SECRET_<SITE>__), when any is set. */
  envScope?(site: string): string | null;
}

export const noSecrets: SecretSource = { get: () => undefined, values: () => [], digestKey: undefined, identity: () => '' };

/**
 * Parsed settings files by blob id, kept between runs (a plan of 5,000 sites then parses only the
 * site.yaml files that changed). Only files that parsed and validated cleanly are kept.
 */
export interface ParseCache {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

export interface ReadFleetOptions {
  /**
   * Part of the fleet only (an incremental plan): the entries of the sites directory's own files and
   * groups, and of the site folders to read; the other sites are known not to have changed.
   */
  partial?: { entries: TreeEntry[] };
}

async function loadParsing() {
  const [{ parseYamlFile }, { FleetSettingsSchema, SiteSettingsSchema }] = await Promise.all([import('./yaml-file.js'), import('./settings-schema.js')]);
  return { parseYamlFile, FleetSettingsSchema, SiteSettingsSchema };
}

/** Read the sites directory's structure and YAML settings at a commit. */
export async function readFleet(
  reader: RepoReader,
  commit: CommitInfo,
  sitesDir: string,
  cache?: ParseCache,
  opts: ReadFleetOptions = {},
): Promise<FleetModel> {
  const dir = normalizeDir(sitesDir);
  const entries = opts.partial ? opts.partial.entries : await reader.listTree(commit.sha, dir);
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const model: FleetModel = { commit, sitesDir: dir, fleetFile: null, fleet: { ...FLEET_DEFAULTS }, sites: [], groupScripts: {}, problems, warnings };
  if (!entries.length && !opts.partial) {
    problems.push({
      file: dir || '.',
      message: `there is no sites directory "${dir}" (or it is empty) at commit ${commit.sha.slice(0, 7)}`,
      hint: 'commit your sites directory, or pass --sites with its path relative to the repository root',
    });
    return model;
  }
  const sorted = sortEntries(entries, dir, problems);
  const parse = await settingsParser(reader, sorted, cache);
  const fleet = readFleetSettings(model, sorted.fleetEntry, parse);
  const groupNames = readGroupFolders(model, sorted.byGroup, fleet);
  const ids = new Map<string, string>();
  for (const [name, list] of [...sorted.bySite].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const site = readSite(model, { name, list, fleet, groupNames, ids, parse });
    if (site) model.sites.push(site);
  }
  if (!sorted.bySite.size && !problems.length && !opts.partial) {
    warnings.push({ file: dir, message: 'there are no site folders in the sites directory', hint: 'add a folder per site with a site.yaml' });
  }
  return model;
}

interface SortedEntries {
  fleetEntry: TreeEntry | undefined;
  bySite: Map<string, TreeEntry[]>;
  byGroup: Map<string, TreeEntry[]>;
}

/** Sort the sites directory's entries into the fleet file, site folders and group folders. */
function sortEntries(entries: TreeEntry[], dir: string, problems: Problem[]): SortedEntries {
  const out: SortedEntries = { fleetEntry: undefined, bySite: new Map(), byGroup: new Map() };
  const push = (m: Map<string, TreeEntry[]>, k: string, e: TreeEntry) => {
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(e);
  };
  for (const e of entries) {
    const rel = dir ? e.path.slice(dir.length + 1) : e.path;
    const parts = rel.split('/');
    // A name with a control character would show wrongly on a terminal (or hide a line of the plan).
    if (/[\x00-\x1f\x7f]/.test(e.path)) {
      problems.push({
        file: JSON.stringify(e.path).slice(1, -1),
        message: 'has a control character in its name (shown here escaped)',
        hint: 'rename it with letters, digits, . - _ only',
      });
      continue;
    }
    if (e.mode === '120000') {
      problems.push({ file: e.path, message: 'is a symbolic link; links are never followed', hint: 'commit the file itself instead of a link to it' });
      continue;
    }
    if (e.type === 'commit') {
      problems.push({
        file: e.path,
        message: 'is a git submodule; scripts must be committed in this repository',
        hint: 'remove the submodule and commit the files',
      });
      continue;
    }
    if (parts.length === 1) {
      if (rel === FLEET_FILE) out.fleetEntry = e;
      else if (rel === 'routeros-gitops.yml')
        problems.push({
          file: e.path,
          message: 'is not read: the fleet settings file is named routeros-gitops.yaml',
          hint: `rename it to ${join(dir, FLEET_FILE)}`,
        });
      continue; // READMEs and other files at the top are fine
    }
    const top = parts[0]!;
    if (top.startsWith('.')) continue;
    if (top === GROUPS_DIR) {
      if (parts.length >= 3) push(out.byGroup, parts[1]!, e);
      continue;
    }
    push(out.bySite, top, e);
  }
  return out;
}

interface SettingsParser {
  (e: TreeEntry, kind: 'fleet', what: string): { value?: FleetSettings; problems: Problem[] };
  (e: TreeEntry, kind: 'site', what: string): { value?: SiteSettings; problems: Problem[] };
}

/**
 * A parser of the fleet's and sites' YAML settings. The files are few: they are read in one batch,
 * and the parsers and schemas (zod, two YAML libraries) are loaded only when a file is not cached.
 */
async function settingsParser(reader: RepoReader, sorted: SortedEntries, cache: ParseCache | undefined): Promise<SettingsParser> {
  const { fleetEntry, bySite } = sorted;
  const yamlEntries = [fleetEntry, ...[...bySite.values()].flat().filter((e) => e.path.endsWith(`/${SITE_FILE}`))].filter((e): e is TreeEntry => !!e);
  const cacheKey = (e: TreeEntry) => `${e === fleetEntry ? 'fleet' : 'site'}:${e.oid}`;
  const misses = yamlEntries.filter((e) => cache?.get(cacheKey(e)) === undefined);
  const [yamlBlobs, parsing] = await Promise.all([reader.readBlobs(misses.map((e) => e.oid)), misses.length ? loadParsing() : undefined]);
  const text = (e: TreeEntry) => yamlBlobs.get(e.oid)?.toString('utf8') ?? '';
  const parse = (e: TreeEntry, kind: 'fleet' | 'site', what: string): { value?: unknown; problems: Problem[] } => {
    const hit = cache?.get(cacheKey(e));
    if (hit !== undefined) return { value: hit, problems: [] };
    // Issue 14: what is valid in a fleet file with a typo still counts (one typo, one error).
    const parsed = parsing!.parseYamlFile(text(e), e.path, kind === 'fleet' ? parsing!.FleetSettingsSchema : parsing!.SiteSettingsSchema, what, {
      salvage: kind === 'fleet',
    });
    if (parsed.value !== undefined && !parsed.problems.length) cache?.set(cacheKey(e), parsed.value);
    return parsed;
  };
  return parse as SettingsParser;
}

/** The fleet file's settings, checked; the model's fleet defaults filled in from them. */
function readFleetSettings(model: FleetModel, fleetEntry: TreeEntry | undefined, parse: SettingsParser): FleetSettings {
  if (!fleetEntry) return {};
  const problems = model.problems;
  model.fleetFile = fleetEntry.path;
  const parsed = parse(fleetEntry, 'fleet', FLEET_FILE);
  problems.push(...parsed.problems);
  // One typo, one error: a script's variables from a file that could not be read are not "not defined".
  if (parsed.value === undefined && parsed.problems.length) model.unreadSettings = true;
  const fleet: FleetSettings = parsed.value ?? {};
  for (const [k, v] of Object.entries(FLEET_DEFAULTS) as Array<[keyof FleetDefaults, unknown]>) {
    const set = (fleet as Record<string, unknown>)[k];
    (model.fleet as unknown as Record<string, unknown>)[k] = set ?? v;
  }
  checkTemplate(fleet.description, fleetEntry.path, problems);
  checkRules(fleet.lint?.rules, fleetEntry.path, problems, model.warnings);
  problems.push(...checkRouterOsSettings(fleet, fleetEntry.path));
  for (const [g, gs] of Object.entries(fleet.groups ?? {})) {
    checkTemplate(gs.description, fleetEntry.path, problems, `groups.${g}`);
    problems.push(...checkRouterOsSettings(gs, fleetEntry.path, `groups.${g}.`));
  }
  return fleet;
}

/** Group folders' shared scripts into the model; the names of every group (folders and settings). */
function readGroupFolders(model: FleetModel, byGroup: Map<string, TreeEntry[]>, fleet: FleetSettings): Set<string> {
  const groupNames = new Set<string>(Object.keys(fleet.groups ?? {}));
  for (const [g, list] of byGroup) {
    if (!NAME_RE.test(g)) {
      model.problems.push({
        file: join(model.sitesDir, GROUPS_DIR, g),
        message: `"${g}" cannot be a group name`,
        hint: 'use letters, digits, ".", "_" and "-", starting with a letter or digit',
      });
      continue;
    }
    groupNames.add(g);
    model.groupScripts[g] = scriptsOf(list, join(model.sitesDir, GROUPS_DIR, g), model.warnings).map((s) => ({ ...s, group: g }));
  }
  return groupNames;
}

interface SiteInput {
  name: string;
  list: TreeEntry[];
  fleet: FleetSettings;
  groupNames: Set<string>;
  /** Site ids seen so far, to the settings file that holds each. */
  ids: Map<string, string>;
  parse: SettingsParser;
}

/** One site folder: its settings, layered over its groups and the fleet, and its ordered scripts. */
function readSite(model: FleetModel, input: SiteInput): SiteModel | undefined {
  const { name, list, fleet, ids } = input;
  const { problems, warnings, sitesDir: dir } = model;
  const siteDir = join(dir, name);
  const settingsEntry = list.find((e) => e.path === join(siteDir, SITE_FILE));
  const scripts = scriptsOf(list, siteDir, warnings);
  if (!NAME_RE.test(name)) {
    problems.push({
      file: siteDir,
      message: `"${name}" cannot be a site name`,
      hint: 'rename the folder: at most 63 letters, digits, ".", "_" and "-", starting with a letter or digit',
    });
    return undefined;
  }
  if (!settingsEntry) {
    const yml = list.find((e) => e.path === join(siteDir, 'site.yml'));
    problems.push({
      file: siteDir,
      message: 'this site folder has no site.yaml',
      hint: yml ? `rename ${yml.path} to ${join(siteDir, SITE_FILE)}` : `add ${join(siteDir, SITE_FILE)} with "id: <the SDX site uuid>"`,
    });
    return undefined;
  }
  const parsed = input.parse(settingsEntry, 'site', SITE_FILE);
  problems.push(...parsed.problems);
  if (!parsed.value) return undefined;
  const s = parsed.value;
  const id = s.id.toLowerCase();
  const other = ids.get(id);
  if (other) {
    problems.push({
      file: settingsEntry.path,
      line: 1,
      message: `the site id ${id} is also the id of ${other}`,
      hint: 'each site folder needs its own SDX site id',
    });
    return undefined;
  }
  ids.set(id, join(siteDir, SITE_FILE));
  checkTemplate(s.description, settingsEntry.path, problems);
  checkRules(s.lint?.rules, settingsEntry.path, problems, warnings);
  problems.push(...checkRouterOsSettings(s, settingsEntry.path));

  const groups = s.groups ?? [];
  const groupLayers = groupLayersOf(model, groups, input, settingsEntry.path);
  const { vars, varOrigins } = siteVars(join(dir, FLEET_FILE), fleet, groups, s, settingsEntry.path);
  // Order: by file name across the groups' scripts and the site's own; a site script with the same
  // file name as a shared one replaces it; between groups, a later group replaces an earlier one.
  const byFile = new Map<string, ScriptSource>();
  for (const g of groups) for (const sc of model.groupScripts[g] ?? []) byFile.set(sc.file, sc);
  for (const sc of scripts) byFile.set(sc.file, sc);
  const ordered = [...byFile.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return {
    name,
    id,
    dir: siteDir,
    settingsFile: settingsEntry.path,
    groups,
    settings: mergeJobSettings(fleet, ...groupLayers, s),
    vars,
    varOrigins,
    lintRules: { ...(fleet.lint?.rules ?? {}), ...(s.lint?.rules ?? {}) },
    lintTarget: mergeRouterOsSettings(fleet, groupLayers, s),
    scripts: ordered,
  };
}

/** The settings of each group a site names, in order; a problem for each group that does not exist. */
function groupLayersOf(model: FleetModel, groups: string[], input: SiteInput, settingsFile: string): GroupSettings[] {
  const layers: GroupSettings[] = [];
  for (const g of groups) {
    if (!input.groupNames.has(g)) {
      model.problems.push({
        file: settingsFile,
        message: `the group "${g}" does not exist`,
        hint: `create ${join(model.sitesDir, GROUPS_DIR, g)}/ with its shared scripts, or define groups.${g} in ${join(model.sitesDir, FLEET_FILE)}`,
      });
      continue;
    }
    layers.push(input.fleet.groups?.[g] ?? {});
  }
  return layers;
}

/** A site's variables: the fleet's, then each group's, then its own; and where each was defined. */
function siteVars(fleetPath: string, fleet: FleetSettings, groups: string[], s: SiteSettings, siteFile: string) {
  const vars: Record<string, VarValue> = {};
  const varOrigins: Record<string, string> = {};
  const addVars = (v: Record<string, VarValue> | undefined, origin: string) => {
    for (const [k, val] of Object.entries(v ?? {})) {
      vars[k] = val;
      varOrigins[k] = origin;
    }
  };
  addVars(fleet.vars, fleetPath);
  for (const g of groups) addVars(fleet.groups?.[g]?.vars, `${fleetPath} (groups.${g})`);
  addVars(s.vars, siteFile);
  return { vars, varOrigins };
}

function checkTemplate(template: string | undefined, file: string, problems: Problem[], prefix = '') {
  if (template === undefined) return;
  for (const m of checkDescriptionTemplate(template))
    problems.push({ file, message: prefix ? `${prefix}.description: ${m}` : m, hint: 'edit the "description" setting' });
}

function checkRules(rules: Record<string, unknown> | undefined, file: string, problems: Problem[], warnings: Problem[]) {
  if (!rules) return;
  for (const m of validateRuleSettings(rules)) problems.push({ file, message: m, hint: 'edit lint.rules' });
  // Issue 14: "warning" still reads as "advice", with a notice.
  for (const m of deprecatedRuleSettings(rules)) warnings.push({ file, message: m, hint: 'edit lint.rules' });
}

function scriptsOf(list: TreeEntry[], folder: string, warnings: Problem[]): ScriptSource[] {
  const out: ScriptSource[] = [];
  for (const e of list) {
    const rel = e.path.slice(folder.length + 1);
    if (!e.path.endsWith('.rsc')) {
      if (e.path.toLowerCase().endsWith('.rsc'))
        warnings.push({ file: e.path, message: 'is not applied: scripts end in .rsc, in lower case', hint: `rename it to ${e.path.slice(0, -4)}.rsc` });
      continue;
    }
    if (rel.includes('/')) {
      warnings.push({ file: e.path, message: 'is in a subfolder and is not applied; only scripts directly in the folder are', hint: `move it to ${folder}/` });
      continue;
    }
    out.push({ path: e.path, file: rel, blob: e.oid, size: e.size });
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

export function join(...parts: string[]): string {
  return posix.join(...parts.filter((p) => p !== '')).replace(/^\.\/?/, '');
}

export function normalizeDir(d: string): string {
  const n = posix
    .normalize(d.replace(/\\/g, '/'))
    .replace(/^\.\/?/, '')
    .replace(/\/+$/, '');
  return n === '.' ? '' : n;
}

// ---------------------------------------------------------------------------------------------
// Rendering

export interface DesiredScript extends ScriptSource {
  /** Fingerprint of what would be sent (unchanged scripts: the recorded one). */
  fingerprint: string;
  /** Digest of the render inputs (variables and secret digests used), stored in the state. */
  inputs: string;
  uses: { vars: string[]; secrets: string[] };
  secretDigests: Record<string, string>;
  /** Secrets the script needs whose values were not supplied. */
  secretsMissing: string[];
  /** true when the script was read and rendered in this run (false: unchanged, taken from the state). */
  read: boolean;
  /** The rendered script with <secret:NAME> placeholders (when read). Safe to show. */
  display?: string;
  /** The script as it will be sent, secrets included (when read and every secret is supplied). Never shown. */
  body?: string;
  /** Script-check findings (when read). */
  findings: ScriptFinding[];
  /**
   * A script over max_script_size, sent as consecutive jobs (when read): each part's size, the
   * original's lines it holds, and (with the body) its text.
   */
  /** `max`: the max_script_size it was split with (a send in progress keeps its own). */
  parts?: { sizes: number[]; lines: Array<[number, number]>; texts?: string[]; max: number };
}

export interface ScriptFinding {
  line: number;
  column: number;
  /** What it does to apply (issue 14): error (never sent), lockout (refused until acknowledged), advice. */
  level: Level;
  /** The older two-way view of `level`: error, or warning for lockout and advice. */
  severity: 'error' | 'warning';
  rule: string;
  message: string;
}

/**
 * The script checks: `raw` lists the raw (unescaped) template values, which are flagged; `target` is
 * the RouterOS the script runs on (its command tree is checked).
 */
export type LintFn = (
  text: string,
  rules: Record<string, RuleSetting>,
  /** `key` (issue 18): identifies `text` for the check cache (its blob, and render inputs for a template). */
  ctx?: { raw?: readonly TemplateRef[]; target?: LintTarget; key?: string },
) => ScriptFinding[];

export interface DesiredSite extends Omit<SiteModel, 'scripts'> {
  scripts: DesiredScript[];
}

export interface DesiredFleet extends Omit<FleetModel, 'sites'> {
  sites: DesiredSite[];
}

export interface RenderOptions {
  secrets?: SecretSource;
  /** Failed scripts will be sent again: read them. */
  retryFailed?: boolean;
  /**
   * Which renderings to keep on DesiredScript (memory: a plan of 50,000 scripts needs neither).
   * `display` (for diffs) and `body` (for apply; kept only for scripts that may be sent). Default both.
   */
  keep?: { display?: boolean; body?: boolean };
  /** Read and render every script, whatever the state says (validate does). */
  readAll?: boolean;
  lint?: LintFn;
  /** Issue 18: threads to share the scripts to read with (their checks are `lint`'s). Default: none. */
  workers?: RenderWorkers;
}
