// `init [DIR]`: start a fleet repository from the sites SDX lists (read only towards SDX: no job is
// sent). It writes a folder per site with its site.yaml, the fleet file with its schema modeline,
// the JSON Schemas, the GitHub workflow, the pre-commit hook and a README of the re-run rule. It
// never overwrites a file (it lists them and stops, unless --force) and never replaces a hook git
// already runs. It works in the repository DIR is the root of, or runs `git init` there.
import { execFile } from 'node:child_process';
import { chmod, mkdir, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { InputError } from '../core/errors.js';
import { normalizeDir } from '../core/model.js';
import { HOOK_PATH, preCommitHook, scaffoldFiles, type ScaffoldFile } from '../core/scaffold.js';
import { gitEnv } from '../git/run.js';
import { opt, parseOptions, type Spec } from '../wiring/options.js';
import type { Context } from './context.js';
import { readSites } from './site-list.js';

const exec = promisify(execFile);

export const INIT_SPEC = {
  sites: opt.stringOr('sites'),
  force: opt.bool(),
  apiUrl: opt.string(),
  details: opt.bool(true),
  logLevel: opt.string(),
} satisfies Spec;

export async function initCommand(ctx: Context, raw: Record<string, unknown>, args: string[]): Promise<number> {
  const opts = parseOptions(INIT_SPEC, raw);
  const root = resolve(ctx.io.cwd, args[0] ?? '.');
  const sitesDir = checkSitesDir(opts.sites);
  const repo = await repositoryAt(root);
  // Read SDX first: a wrong URL or token stops here (exit 3), before anything is written.
  const list = await readSites(ctx, { details: opts.details });
  const files = scaffoldFiles(
    list.rows.map((r) => ({ id: r.id, name: r.name, folder: r.folder, model: r.model, software_version: r.software_version })),
    sitesDir,
  );
  const existing = await existingFiles(root, files);
  if (existing.length && !opts.force) {
    ctx.err(`error: init never overwrites a file, and ${existing.length} of the ${files.length} it writes exist; nothing was written:\n`);
    for (const f of existing) ctx.err(`  ${relative(ctx.io.cwd, join(root, f)) || f}\n`);
    ctx.err('  hint: run init in an empty folder, move those files away, or pass --force to overwrite them (a git hook is never overwritten)\n');
    return 2;
  }
  ctx.out(`Read ${list.rows.length} site${list.rows.length === 1 ? '' : 's'} from SDX at ${list.apiUrl} (read only: no job was sent).\n`);
  if (repo) ctx.out(`Using the git repository at ${root}.\n`);
  else {
    await mkdir(root, { recursive: true });
    await git(root, ['init', '-q', '-b', 'main']);
    ctx.out(`Initialised a git repository in ${root} (branch main, as the workflow applies pushes to main).\n`);
  }
  await writeFiles(root, files);
  ctx.out(`Wrote${existing.length ? ` (${existing.length} overwritten, --force)` : ''}:\n`);
  const w = Math.max(...files.map((f) => f.path.length));
  for (const f of files) ctx.out(`  ${f.path.padEnd(w)}  ${ctx.style.dim(f.about)}\n`);
  for (const c of list.collisions)
    ctx.out(`Note: "${c.name}" and "${c.collision!.with}" both make the folder name ${c.collision!.base}; "${c.name}" is in ${c.folder}.\n`);
  ctx.out(await installHook(root, sitesDir));
  ctx.out(nextSteps(root, ctx.io.cwd, list.rows[0]?.folder));
  return 0;
}

/** The sites directory as a path relative to the repository root, or why it cannot be one. */
function checkSitesDir(raw: string): string {
  const dir = normalizeDir(raw);
  if (!dir || isAbsolute(raw) || dir.split('/').includes('..'))
    throw new InputError({ file: '--sites', message: `"${raw}" is not a folder inside the repository`, hint: 'pass a relative path such as sites' });
  return dir;
}

/** Whether `root` is the top of a git repository (false: none there yet); refused when it is inside another one. */
async function repositoryAt(root: string): Promise<boolean> {
  const exists = await stat(root).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!exists) return false;
  const top = await git(root, ['rev-parse', '--show-toplevel']).then(
    (out) => out.trim(),
    () => null,
  );
  if (top === null) return false;
  if (resolve(top) !== (await realpathOf(root))) {
    throw new InputError({
      file: root,
      message: `is inside the git repository at ${top}, not its root: the workflow and the hook belong at the root`,
      hint: `run init at the root with the sites directory below it: routeros-gitops init ${top} --sites ${relative(top, root) || '.'}/sites`,
    });
  }
  return true;
}

async function realpathOf(p: string): Promise<string> {
  return resolve(await realpath(p));
}

async function existingFiles(root: string, files: readonly ScaffoldFile[]): Promise<string[]> {
  const found: string[] = [];
  for (const f of files) {
    const there = await stat(join(root, f.path)).then(
      () => true,
      () => false,
    );
    if (there) found.push(f.path);
  }
  return found;
}

async function writeFiles(root: string, files: readonly ScaffoldFile[]): Promise<void> {
  for (const f of files) {
    const abs = join(root, f.path);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, f.text);
    if (f.executable) await chmod(abs, 0o755);
  }
}

/**
 * Install the hook where git runs it (its hooks folder, core.hooksPath included), unless a
 * pre-commit hook is there already: that one is kept, and the line to add is shown.
 */
async function installHook(root: string, sitesDir: string): Promise<string> {
  const hooksDir = resolve(root, (await git(root, ['rev-parse', '--git-path', 'hooks'])).trim());
  const target = join(hooksDir, 'pre-commit');
  const shown = relative(root, target) || target;
  if (target === join(root, HOOK_PATH)) return `The pre-commit hook is ${HOOK_PATH} (core.hooksPath).\n`;
  const taken = await stat(target).then(
    () => true,
    () => false,
  );
  if (taken) return `Kept the existing pre-commit hook ${shown}: to check fleet files before each commit, add to it the last lines of ${HOOK_PATH}.\n`;
  await mkdir(hooksDir, { recursive: true });
  await writeFile(target, preCommitHook(sitesDir), { mode: 0o755 });
  return `Installed the pre-commit hook in ${shown} (each clone installs it with: cp ${HOOK_PATH} .git/hooks/).\n`;
}

function nextSteps(root: string, cwd: string, firstSite: string | undefined): string {
  const dir = relative(cwd, root);
  const cd = dir ? `cd ${dir} && ` : '';
  const site = firstSite ?? '<site>';
  return `
Next:
  1. Write each site's scripts (sites/${site}/10-dns.rsc, ...). Every script is re-run whole on every
     change, so it must be safe to run twice: see sites/README.md.
  2. ${cd}git add -A && git commit -m "Fleet: first scripts" && routeros-gitops validate
  3. routeros-gitops plan; then routeros-gitops apply --site ${site} (one router first); then routeros-gitops apply
`;
}

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd, env: gitEnv() });
  return stdout;
}
