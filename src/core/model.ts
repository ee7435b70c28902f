// The repository model: the sites directory at a commit, read through RepoReader (batched git
// plumbing, never the working directory), validated into sites, their settings and their ordered
// scripts, then rendered. Reading is incremental: a script whose source blob and render inputs
// are the ones recorded in the applied state is not read again.
import { posix } from 'node:path';
import type { Problem } from './errors.js';
import type { CommitInfo, RepoReader, TreeEntry } from './ports.js';
import type { AppliedState, ScriptRecord } from './state.js';
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
import { compileTemplate, type CompiledTemplate, type TemplateRef } from './template.js';
import { renderScript } from './render-script.js';
import { fingerprint, secretDigest, sha256 } from './keys.js';
import { checkDescriptionTemplate } from './description.js';
import { validateRuleSettings } from '../lint/index.js';
// Issue 16: the RouterOS version and packages each site's scripts are checked against.
import { checkRouterOsSettings, mergeRouterOsSettings, routerOsWarnings, type LintTarget } from './routeros-target.js';

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
  lintRules: Record<string, 'error' | 'warning' | 'off'>;
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
}

export const noSecrets: SecretSource = { get: () => undefined, values: () => [], digestKey: undefined, identity: () => '' };

const MAX_BLOB_FACTOR = 4; // a UTF-8 character is at most 4 bytes

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

  // Sort entries into the fleet file, site folders and group folders.
  const fleetPath = join(dir, FLEET_FILE);
  const bySite = new Map<string, TreeEntry[]>();
  const byGroup = new Map<string, TreeEntry[]>();
  let fleetEntry: TreeEntry | undefined;
  for (const e of entries) {
    const rel = dir ? e.path.slice(dir.length + 1) : e.path;
    const parts = rel.split('/');
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
      if (rel === FLEET_FILE) fleetEntry = e;
      else if (rel === 'routeros-gitops.yml')
        problems.push({ file: e.path, message: 'is not read: the fleet settings file is named routeros-gitops.yaml', hint: `rename it to ${fleetPath}` });
      continue; // READMEs and other files at the top are fine
    }
    const top = parts[0]!;
    if (top.startsWith('.')) continue;
    if (top === GROUPS_DIR) {
      if (parts.length < 3) continue;
      const g = parts[1]!;
      if (!byGroup.has(g)) byGroup.set(g, []);
      byGroup.get(g)!.push(e);
      continue;
    }
    if (!bySite.has(top)) bySite.set(top, []);
    bySite.get(top)!.push(e);
  }

  // YAML files are few: read them all in one batch.
  const yamlEntries = [fleetEntry, ...[...bySite.values()].flat().filter((e) => e.path.endsWith(`/${SITE_FILE}`))].filter((e): e is TreeEntry => !!e);
  const cacheKey = (e: TreeEntry) => `${e === fleetEntry ? 'fleet' : 'site'}:${e.oid}`;
  const misses = yamlEntries.filter((e) => cache?.get(cacheKey(e)) === undefined);
  // The parsers and schemas (zod, two YAML libraries) are loaded only when a file is not cached.
  const [yamlBlobs, parsing] = await Promise.all([reader.readBlobs(misses.map((e) => e.oid)), misses.length ? loadParsing() : undefined]);
  const text = (e: TreeEntry) => yamlBlobs.get(e.oid)?.toString('utf8') ?? '';
  function parse(e: TreeEntry, kind: 'fleet', what: string): { value?: FleetSettings; problems: Problem[] };
  function parse(e: TreeEntry, kind: 'site', what: string): { value?: SiteSettings; problems: Problem[] };
  function parse(e: TreeEntry, kind: 'fleet' | 'site', what: string): { value?: unknown; problems: Problem[] } {
    const hit = cache?.get(cacheKey(e));
    if (hit !== undefined) return { value: hit, problems: [] };
    const parsed = parsing!.parseYamlFile(text(e), e.path, kind === 'fleet' ? parsing!.FleetSettingsSchema : parsing!.SiteSettingsSchema, what);
    if (parsed.value !== undefined && !parsed.problems.length) cache?.set(cacheKey(e), parsed.value);
    return parsed;
  }

  let fleet: FleetSettings = {};
  if (fleetEntry) {
    model.fleetFile = fleetEntry.path;
    const parsed = parse(fleetEntry, 'fleet', FLEET_FILE);
    problems.push(...parsed.problems);
    if (parsed.value) fleet = parsed.value;
    for (const [k, v] of Object.entries(FLEET_DEFAULTS) as Array<[keyof FleetDefaults, unknown]>) {
      const set = (fleet as Record<string, unknown>)[k];
      (model.fleet as unknown as Record<string, unknown>)[k] = set ?? v;
    }
    checkTemplate(fleet.description, fleetEntry.path, problems);
    checkRules(fleet.lint?.rules, fleetEntry.path, problems);
    problems.push(...checkRouterOsSettings(fleet, fleetEntry.path));
    for (const [g, gs] of Object.entries(fleet.groups ?? {})) {
      checkTemplate(gs.description, fleetEntry.path, problems, `groups.${g}`);
      problems.push(...checkRouterOsSettings(gs, fleetEntry.path, `groups.${g}.`));
    }
  }

  // Group folders: shared scripts.
  const groupNames = new Set<string>(Object.keys(fleet.groups ?? {}));
  for (const [g, list] of byGroup) {
    if (!NAME_RE.test(g)) {
      problems.push({
        file: join(dir, GROUPS_DIR, g),
        message: `"${g}" cannot be a group name`,
        hint: 'use letters, digits, ".", "_" and "-", starting with a letter or digit',
      });
      continue;
    }
    groupNames.add(g);
    model.groupScripts[g] = scriptsOf(list, join(dir, GROUPS_DIR, g), warnings).map((s) => ({ ...s, group: g }));
  }

  // Sites.
  const ids = new Map<string, string>();
  for (const [name, list] of [...bySite].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const siteDir = join(dir, name);
    const settingsEntry = list.find((e) => e.path === join(siteDir, SITE_FILE));
    const scripts = scriptsOf(list, siteDir, warnings);
    if (!NAME_RE.test(name)) {
      problems.push({
        file: siteDir,
        message: `"${name}" cannot be a site name`,
        hint: 'rename the folder with letters, digits, ".", "_" and "-", starting with a letter or digit',
      });
      continue;
    }
    if (!settingsEntry) {
      const yml = list.find((e) => e.path === join(siteDir, 'site.yml'));
      problems.push({
        file: siteDir,
        message: 'this site folder has no site.yaml',
        hint: yml ? `rename ${yml.path} to ${join(siteDir, SITE_FILE)}` : `add ${join(siteDir, SITE_FILE)} with "id: <the SDX site uuid>"`,
      });
      continue;
    }
    const parsed = parse(settingsEntry, 'site', SITE_FILE);
    problems.push(...parsed.problems);
    if (!parsed.value) continue;
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
      continue;
    }
    ids.set(id, join(siteDir, SITE_FILE));
    checkTemplate(s.description, settingsEntry.path, problems);
    checkRules(s.lint?.rules, settingsEntry.path, problems);
    problems.push(...checkRouterOsSettings(s, settingsEntry.path));

    const groups = s.groups ?? [];
    const groupLayers: GroupSettings[] = [];
    for (const g of groups) {
      if (!groupNames.has(g)) {
        problems.push({
          file: settingsEntry.path,
          message: `the group "${g}" does not exist`,
          hint: `create ${join(dir, GROUPS_DIR, g)}/ with its shared scripts, or define groups.${g} in ${fleetPath}`,
        });
        continue;
      }
      groupLayers.push(fleet.groups?.[g] ?? {});
    }
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
    addVars(s.vars, settingsEntry.path);

    // Order: by file name across the groups' scripts and the site's own; a site script with the same
    // file name as a shared one replaces it; between groups, a later group replaces an earlier one.
    const byFile = new Map<string, ScriptSource>();
    for (const g of groups) for (const sc of model.groupScripts[g] ?? []) byFile.set(sc.file, sc);
    for (const sc of scripts) byFile.set(sc.file, sc);
    const ordered = [...byFile.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));

    model.sites.push({
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
    });
  }
  if (!bySite.size && !problems.length && !opts.partial) {
    warnings.push({ file: dir, message: 'there are no site folders in the sites directory', hint: 'add a folder per site with a site.yaml' });
  }
  return model;
}

function checkTemplate(template: string | undefined, file: string, problems: Problem[], prefix = '') {
  if (template === undefined) return;
  for (const m of checkDescriptionTemplate(template))
    problems.push({ file, message: prefix ? `${prefix}.description: ${m}` : m, hint: 'edit the "description" setting' });
}

function checkRules(rules: Record<string, unknown> | undefined, file: string, problems: Problem[]) {
  if (!rules) return;
  for (const m of validateRuleSettings(rules)) problems.push({ file, message: m, hint: 'edit lint.rules' });
}

function scriptsOf(list: TreeEntry[], folder: string, warnings: Problem[]): ScriptSource[] {
  const out: ScriptSource[] = [];
  for (const e of list) {
    const rel = e.path.slice(folder.length + 1);
    if (!e.path.endsWith('.rsc')) continue;
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
}

export interface ScriptFinding {
  line: number;
  column: number;
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
  rules: Record<string, 'error' | 'warning' | 'off'>,
  ctx?: { raw?: readonly TemplateRef[]; target?: LintTarget },
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
}

/** Render every site's scripts; unchanged ones (same blob, same inputs as recorded) are not read. */
export async function renderFleet(reader: RepoReader, model: FleetModel, state: AppliedState, opts: RenderOptions = {}): Promise<DesiredFleet> {
  const secrets = opts.secrets ?? noSecrets;
  const problems = model.problems;
  const warnings = model.warnings;
  const maxChars = model.fleet.max_script_size;

  // First pass: decide what has to be read.
  type Pending = { site: SiteModel; src: ScriptSource; record?: ScriptRecord };
  const toRead: Pending[] = [];
  const reuse = new Map<string, DesiredScript>(); // `${siteId}\0${path}` -> unchanged script
  for (const site of model.sites) {
    const recorded = state.sites[site.id]?.scripts ?? {};
    // Most scripts of a site use the same (often no) variables: digest each combination once.
    const inputsCache = new Map<string, string>();
    for (const src of site.scripts) {
      const record = recorded[src.file];
      if (!opts.readAll && record && record.source.blob === src.blob && record.uses && canReuse(record, !!opts.retryFailed)) {
        const uses = record.uses;
        const digests = uses.secrets.length ? digestsFor(site, uses.secrets, secrets, record) : NO_DIGESTS;
        const cacheKey = `${uses.vars.join(',')}|${uses.secrets.length ? JSON.stringify(digests.digests) : ''}`;
        let inputs = inputsCache.get(cacheKey);
        if (inputs === undefined) {
          inputs = inputsDigest(site, uses, digests.digests);
          inputsCache.set(cacheKey, inputs);
        }
        if (inputs === record.source.inputs) {
          // Fields written out: an object spread is several microseconds here, 50,000 times.
          reuse.set(`${site.id}\0${src.path}`, {
            path: src.path,
            file: src.file,
            blob: src.blob,
            size: src.size,
            group: src.group,
            fingerprint: record.fingerprint,
            inputs,
            uses,
            secretDigests: digests.digests,
            secretsMissing: digests.missing,
            read: false,
            findings: [],
          });
          continue;
        }
      }
      toRead.push({ site, src, record });
    }
  }

  // Scripts over the size limit are refused without reading them.
  const oversize = (src: ScriptSource) => src.size > maxChars * MAX_BLOB_FACTOR;
  const blobs = await reader.readBlobs([...new Set(toRead.filter((p) => !oversize(p.src)).map((p) => p.src.blob))]);
  const compiled = new Map<string, { text: string; tpl: CompiledTemplate } | Problem>();
  const blobUses = new Map<string, number>(); // blob -> scripts still to render from it
  for (const p of toRead) blobUses.set(p.src.blob, (blobUses.get(p.src.blob) ?? 0) + 1);
  const decode = new TextDecoder('utf-8', { fatal: true });
  const contentOf = (src: ScriptSource): { text: string; tpl: CompiledTemplate } | Problem => {
    const cached = compiled.get(src.blob);
    if (cached) return 'file' in cached ? { ...cached, file: src.path } : cached;
    let result: { text: string; tpl: CompiledTemplate } | Problem;
    const buf = blobs.get(src.blob);
    if (oversize(src) || !buf) {
      result = {
        file: src.path,
        message: `is ${src.size} bytes, over the limit of ${maxChars} characters`,
        hint: `split it into smaller scripts, or raise max_script_size in ${FLEET_FILE}`,
      };
    } else if (buf.includes(0)) {
      result = {
        file: src.path,
        ...firstNul(buf),
        message: 'contains a NUL byte: it is a binary file, not a RouterOS script',
        hint: 'commit the script as text',
      };
    } else {
      let text: string | undefined;
      try {
        text = decode.decode(buf);
        blobs.delete(src.blob); // the text is all that is needed from here on
      } catch {
        result = { file: src.path, ...firstBadUtf8(buf), message: 'is not valid UTF-8', hint: 'save the file as UTF-8' };
      }
      if (text !== undefined) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        if (!/\S/.test(text)) result = { file: src.path, message: 'is empty', hint: 'add commands, or delete the file' };
        else result = { text, tpl: compileTemplate(text) };
      }
    }
    compiled.set(src.blob, result!);
    return result!;
  };

  const sites: DesiredSite[] = [];
  for (const site of model.sites) {
    const scripts: DesiredScript[] = [];
    const usedVars = new Set<string>();
    // Most scripts of a site use the same (often no) variables: digest each combination once.
    const siteInputs = new Map<string, string>();
    const cachedInputs = (s: SiteModel, uses: { vars: string[]; secrets: string[] }, digests: Record<string, string>) => {
      const key = `${uses.vars.join(',')}|${uses.secrets.length ? JSON.stringify(uses.secrets.map((n) => [n, digests[n]])) : ''}`;
      let v = siteInputs.get(key);
      if (v === undefined) siteInputs.set(key, (v = inputsDigest(s, uses, digests)));
      return v;
    };
    let allRead = true;
    for (const src of site.scripts) {
      const reused = reuse.get(`${site.id}\0${src.path}`);
      if (reused) {
        for (const v of reused.uses.vars) usedVars.add(v);
        allRead = false;
        scripts.push(reused);
        continue;
      }
      const content = contentOf(src);
      // Let a script's text go once the last script made from the same blob is rendered.
      const left = (blobUses.get(src.blob) ?? 1) - 1;
      blobUses.set(src.blob, left);
      if (left <= 0) compiled.delete(src.blob);
      if ('file' in content) {
        problems.push({ ...content, site: site.name });
        continue;
      }
      const { text, tpl } = content;
      let bad = false;
      for (const p of tpl.problems) {
        problems.push({ file: src.path, line: p.line, column: p.column, site: site.name, message: p.message, hint: p.hint });
        bad = true;
      }
      const uses = { vars: [] as string[], secrets: [] as string[] };
      for (const ref of tpl.refs) {
        if (ref.kind === 'vars') {
          usedVars.add(ref.name);
          if (!(ref.name in site.vars)) {
            problems.push({
              file: src.path,
              line: ref.line,
              column: ref.column,
              site: site.name,
              message: `the variable "${ref.name}" is not defined for site ${site.name}`,
              hint: `define vars.${ref.name} in ${site.settingsFile}, in a group of the site or in ${model.fleetFile ?? join(model.sitesDir, FLEET_FILE)}`,
            });
            bad = true;
          } else if (!uses.vars.includes(ref.name)) uses.vars.push(ref.name);
        } else if (ref.kind === 'secrets' && !uses.secrets.includes(ref.name)) uses.secrets.push(ref.name);
      }
      if (bad) continue;
      uses.vars.sort();
      uses.secrets.sort();
      const digests = uses.secrets.length ? digestsFor(site, uses.secrets, secrets, state.sites[site.id]?.scripts[src.file]) : NO_DIGESTS;
      // Issue 13: values escaped for where they land; checks read a rendering with secret stand-ins.
      const rendered = renderScript({
        text,
        tpl,
        path: src.path,
        site,
        secrets: uses.secrets,
        secretValue: (n) => secrets.get(site.name, n),
        missing: digests.missing.length > 0,
      });
      if (rendered.problems.length) {
        problems.push(...rendered.problems);
        continue;
      }
      const { display, body } = rendered;
      const sent = body ?? display;
      // UTF-16 length is at least the code-point length: count code points only when it matters.
      const length = sent.length > maxChars ? [...sent].length : sent.length;
      if (length > maxChars) {
        problems.push({
          file: src.path,
          site: site.name,
          message: `renders to ${length} characters, over the limit of ${maxChars}`,
          hint: `split it into smaller scripts, or raise max_script_size in ${FLEET_FILE}`,
        });
        continue;
      }
      const findings = opts.lint ? opts.lint(rendered.checked, site.lintRules, { raw: rendered.raw, target: site.lintTarget }) : [];
      const fp = fingerprint(display, digests.digests);
      const recorded = state.sites[site.id]?.scripts[src.file];
      const unchanged = recorded !== undefined && recorded.fingerprint === fp && recorded.phase === 'succeeded';
      scripts.push({
        path: src.path,
        file: src.file,
        blob: src.blob,
        size: src.size,
        group: src.group,
        fingerprint: fp,
        inputs: cachedInputs(site, uses, digests.digests),
        uses,
        secretDigests: digests.digests,
        secretsMissing: digests.missing,
        read: true,
        display: opts.keep?.display === false ? undefined : display,
        body: opts.keep?.body === false || unchanged ? undefined : body,
        findings,
      });
    }
    if (allRead) {
      for (const v of Object.keys(site.vars)) {
        if (!usedVars.has(v) && site.varOrigins[v] === site.settingsFile) {
          warnings.push({
            file: site.settingsFile,
            site: site.name,
            message: `the variable "${v}" is not used by any script of ${site.name}`,
            hint: `remove it, or use it as \${{ vars.${v} }}`,
          });
        }
      }
    }
    sites.push({ ...site, scripts });
  }
  // Issue 16: say which sites' scripts were checked against a RouterOS version they may not run
  // (only sites whose scripts were read: a full and an incremental plan read the same ones).
  if (opts.lint)
    warnings.push(
      ...routerOsWarnings(
        sites.filter((s) => s.scripts.some((sc) => sc.read)),
        model.fleetFile ?? join(model.sitesDir, FLEET_FILE),
      ),
    );
  return { ...model, sites };
}

/**
 * A recorded script can stand for the current one without reading it when nothing has to be sent
 * from it: it succeeded, its job is being followed, or it failed and will not be retried. Scripts
 * whose job must (still) be created are read, since the job body is needed.
 */
function canReuse(record: ScriptRecord, retryFailed: boolean): boolean {
  switch (record.phase) {
    case 'succeeded':
      return true;
    case 'queued':
    case 'running':
      return record.job_id !== null;
    case 'failed':
      return !retryFailed;
    default:
      // intent (its job may have to be created), lost, cancelled (sent again), removed (re-added).
      return false;
  }
}

const NO_DIGESTS: { digests: Record<string, string>; missing: string[] } = Object.freeze({
  digests: Object.freeze({}) as Record<string, string>,
  missing: [] as string[],
}) as never;

function digestsFor(site: SiteModel, names: readonly string[], secrets: SecretSource, record: ScriptRecord | undefined) {
  const digests: Record<string, string> = {};
  const missing: string[] = [];
  for (const n of names) {
    const value = secrets.get(site.name, n);
    if (value === undefined) missing.push(n);
    // Without the value, or without the key to digest it, a rotation cannot be told: assume the
    // recorded digest.
    if (value === undefined || secrets.digestKey === undefined) digests[n] = record?.secret_digests?.[n] ?? 'unknown';
    else digests[n] = secretDigest(n, value, secrets.digestKey);
  }
  return { digests, missing };
}

function inputsDigest(site: SiteModel, uses: { vars: string[]; secrets: string[] }, digests: Record<string, string>): string {
  const parts = [`site=${site.name}/${site.id}`];
  for (const v of uses.vars) parts.push(`v:${v}=${JSON.stringify(site.vars[v] ?? null)}`);
  for (const s of uses.secrets) parts.push(`s:${s}=${digests[s]}`);
  return sha256(parts.join('\n')).slice(0, 32);
}

function firstNul(buf: Buffer): { line: number; column: number } {
  const i = buf.indexOf(0);
  const before = buf.subarray(0, i);
  const line = before.toString('latin1').split('\n').length;
  return { line, column: i - before.lastIndexOf(10) };
}

function firstBadUtf8(buf: Buffer): { line: number; column?: number } {
  const lines = buf.toString('latin1').split('\n');
  const decode = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < lines.length; i++) {
    try {
      decode.decode(Buffer.from(lines[i]!, 'latin1'));
    } catch {
      return { line: i + 1 };
    }
  }
  return { line: 1 };
}
