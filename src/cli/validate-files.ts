// What `validate` reports: for the repository at a commit, and for files (a pre-commit hook, an
// editor). A file under the sites directory of a repository is checked exactly as repository mode
// checks it (issue 14): the whole sites directory is read from the working tree, as a commit would
// be, and what that reports about the file (its settings, templates, variables, script checks with
// its site's RouterOS version) is kept, with the problems of its site folder and of the fleet file
// that make its check unreliable. A file elsewhere is checked on its own: a script with the script
// checks, a site.yaml or routeros-gitops.yaml against its schema.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join as joinPath, relative, resolve } from 'node:path';
import type { Problem } from '../core/errors.js';
import { normalizeDir, readFleet } from '../core/model.js';
import type { CommitInfo, RepoReader } from '../core/ports.js';
import { renderFleet } from '../core/render-fleet.js';
import type { LintTarget } from '../core/routeros-target.js';
import { FLEET_FILE, GROUPS_DIR, SITE_FILE } from '../core/settings.js';
import { emptyState } from '../core/state.js';
import { worktreeReader } from '../git/worktree-reader.js';
import { lintFiles, lintHook, type FileFinding } from '../wiring/checks.js';
import type { Context } from './context.js';

/** Every finding of the sites directory at `commit`, once each, in path and line order. */
export async function modelFindings(reader: RepoReader, commit: CommitInfo, sitesDir: string, override: LintTarget | undefined): Promise<FileFinding[]> {
  const model = await readFleet(reader, commit, sitesDir);
  // --routeros checks every site against that version, whatever its settings say.
  if (override) for (const site of model.sites) site.lintTarget = { ...site.lintTarget, ...override };
  const desired = await renderFleet(reader, model, emptyState(), { readAll: true, lint: lintHook });
  const findings: FileFinding[] = [
    ...desired.problems.map((p) => problemFinding(p, 'error')),
    ...desired.warnings.map((p) => problemFinding(p, 'warning')),
    ...desired.sites.flatMap((s) =>
      s.scripts.flatMap((sc) =>
        sc.findings.map((f) => ({
          path: sc.path,
          line: f.line,
          column: f.column,
          level: f.level,
          severity: f.severity,
          rule: f.rule,
          message: f.message,
          site: s.name,
        })),
      ),
    ),
  ];
  // A shared script is checked once per site; report each finding once.
  const seen = new Set<string>();
  return findings
    .filter((f) => {
      const k = `${f.path}:${f.line}:${f.column}:${f.rule}:${f.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line || a.column - b.column));
}

export function problemFinding(p: Problem, severity: 'error' | 'warning'): FileFinding {
  const level = severity === 'error' ? 'error' : 'advice';
  return { path: p.file, line: p.line ?? 0, column: p.column ?? 0, level, severity, rule: 'input', message: p.message, hint: p.hint, site: p.site };
}

/**
 * `validate FILE...`: each file as repository mode sees it when it is in the sites directory, else on
 * its own (`alone` counts those: their commands are checked against --routeros, or the newest version).
 */
export async function fileFindings(
  ctx: Context,
  opts: { cwd?: string; sites: string },
  files: readonly string[],
  override: LintTarget | undefined,
): Promise<{ findings: FileFinding[]; alone: number }> {
  const base = opts.cwd ? resolve(ctx.io.cwd, opts.cwd) : ctx.io.cwd;
  files = await withFolderFiles(files, base);
  const repo = await ctx.repo({ cwd: opts.cwd }).catch(() => null); // outside a repository: each file on its own
  const sitesDir = normalizeDir(opts.sites);
  const inSites: string[] = [];
  const alone: string[] = [];
  for (const f of files) {
    const rel = repo ? relative(repo.root, resolve(base, f)).split('\\').join('/') : null;
    if (rel !== null && !rel.startsWith('../') && (sitesDir === '' || rel.startsWith(`${sitesDir}/`))) inSites.push(rel);
    else alone.push(f);
  }
  const out: FileFinding[] = [];
  if (repo && inSites.length) {
    const reader = worktreeReader(repo);
    const all = await modelFindings(reader, await reader.resolveCommit('HEAD'), sitesDir, override);
    out.push(...all.filter((x) => inSites.some((f) => concerns(x.path, f, sitesDir))));
  }
  if (alone.length) out.push(...(await aloneFindings(alone, base, override)));
  return { findings: out, alone: alone.length };
}

/** A folder given stands for the scripts and settings files below it (a hook or an editor may pass one). */
async function withFolderFiles(files: readonly string[], base: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    const info = await stat(resolve(base, f)).catch(() => null);
    if (!info?.isDirectory()) {
      out.push(f);
      continue;
    }
    const below = await readdir(resolve(base, f), { recursive: true, withFileTypes: true });
    for (const e of below) {
      const path = relative(base, joinPath(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
      if (e.isFile() && !path.split(/[\\/]/).some((p) => p.startsWith('.')) && (/\.rsc$/i.test(e.name) || e.name === SITE_FILE || e.name === FLEET_FILE))
        out.push(path);
    }
  }
  return out;
}

/**
 * Whether a finding at `at` is about file `file`: the file itself, a folder holding it (a site
 * folder without site.yaml), another file of its site folder (its site.yaml), or the fleet file.
 */
function concerns(at: string, file: string, sitesDir: string): boolean {
  if (at === file || file.startsWith(`${at}/`) || at === join(sitesDir, FLEET_FILE)) return true;
  const folder = siteFolder(file, sitesDir);
  return folder !== null && at.startsWith(`${folder}/`);
}

/** The site folder a path is in (sites/<name>), or null (the fleet file, a group's script). */
function siteFolder(file: string, sitesDir: string): string | null {
  const rest = (sitesDir ? file.slice(sitesDir.length + 1) : file).split('/');
  if (rest.length < 2 || rest[0] === GROUPS_DIR) return null;
  return join(sitesDir, rest[0]!);
}

function join(a: string, b: string): string {
  return a ? `${a}/${b}` : b;
}

/** Files outside a sites directory: scripts through the script checks, the two YAML files against their schemas. */
async function aloneFindings(files: readonly string[], base: string, override: LintTarget | undefined): Promise<FileFinding[]> {
  const yaml = files.filter((f) => basename(f) === SITE_FILE || basename(f) === FLEET_FILE);
  const scripts = files.filter((f) => !yaml.includes(f));
  const out = scripts.length ? await lintFiles([...scripts], base, async (p) => readFile(p), override) : [];
  if (yaml.length) {
    const [{ parseYamlFile }, { FleetSettingsSchema, SiteSettingsSchema }] = await Promise.all([
      import('../core/yaml-file.js'),
      import('../core/settings-schema.js'),
    ]);
    for (const f of yaml) {
      const text = await readFile(resolve(base, f), 'utf8').catch(() => null);
      if (text === null) {
        out.push({ path: f, line: 0, column: 0, level: 'error', severity: 'error', rule: 'input', message: 'cannot read the file' });
        continue;
      }
      const fleet = basename(f) === FLEET_FILE;
      const parsed = parseYamlFile(text, f, fleet ? FleetSettingsSchema : SiteSettingsSchema, fleet ? FLEET_FILE : SITE_FILE);
      out.push(...parsed.problems.map((p) => problemFinding(p, 'error')));
    }
  }
  return out;
}
