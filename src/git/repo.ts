// The git adapter: trees and blobs at a commit, read with batched plumbing (one ls-tree and one
// cat-file --batch for a whole fleet), never from the working directory; plus the few ref
// operations the state store needs (read, compare-and-swap).
import { stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { GitError, InputError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import type { BlobReader, CommitInfo, CommitRelation, DirChange, RepoReader, TreeEntry } from '../core/ports.js';
import { catFileBatch, openCatFileSession, type GitObject } from './cat-file.js';
import { gitError, gitText, runGit, type RunOptions, type RunResult } from './run.js';

export interface OpenRepoOptions {
  /** Receives one debug line per git process (command, exit code, milliseconds). Default: silent. */
  readonly logger?: Logger;
}

/** Options for one git command run by GitRepo.run: cwd is always the repository root. */
export type RepoRunOptions = Omit<RunOptions, 'cwd' | 'logger'>;

export interface GitRepo extends RepoReader {
  listDir(commit: string, dir: string): Promise<TreeEntry[]>;
  openBlobReader(): BlobReader;
  diffDir(from: string, to: string, dir: string): Promise<DirChange[] | null>;
  /** The absolute git directory (`.git`, or the repository itself when bare). */
  readonly gitDir: string;
  readonly bare: boolean;
  /** The all-zero object id of this repository's hash ('0' x 40, or x 64 for SHA-256). */
  readonly zeroOid: string;
  /** Run `git <args>` at the repository root (see runGit). */
  run(args: readonly string[], opts?: RepoRunOptions): Promise<RunResult>;
  /** Objects by name (oid or `<rev>:<path>`) in one cat-file process; null for a missing one. */
  readObjects(names: readonly string[]): Promise<Map<string, GitObject | null>>;
  /** The object id a ref points to, or null when the ref does not exist. */
  readRef(ref: string): Promise<string | null>;
  /**
   * Compare-and-swap: point `ref` at `newOid` if it is at `oldOid` (null: if it does not exist).
   * Returns false when another writer moved (or is moving) the ref; throws GitError otherwise.
   */
  updateRef(ref: string, newOid: string, oldOid: string | null, reason: string): Promise<boolean>;
  /**
   * Files under `dir` (repo-relative) that the working tree has changed, added or left untracked
   * against HEAD and the index (`git status`); [] in a bare repository. Plans read commits, not the
   * working tree: this says what they leave out.
   */
  workingTreeChanges(dir: string): Promise<string[]>;
}

/** What the repository's operations run with. */
interface RepoContext {
  readonly root: string;
  readonly zeroOid: string;
  /** The shallow file of the clone (present when it is shallow). */
  readonly shallowFile: string;
  run(args: readonly string[], opts?: RepoRunOptions): Promise<RunResult>;
  text(args: readonly string[], opts?: RepoRunOptions): Promise<string>;
  readObjects(names: readonly string[]): Promise<Map<string, GitObject | null>>;
  readRef(ref: string): Promise<string | null>;
}

/** Open the repository containing `cwd`. Throws InputError when there is none. */
export async function openRepo(cwd: string, options: OpenRepoOptions = {}): Promise<GitRepo> {
  const logger = options.logger ?? silentLogger;
  const dir = path.resolve(cwd);
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new InputError(`the directory ${dir} does not exist; pass --cwd with the folder of a clone of your configuration repository`);
  const { bare, gitDir, root, objectFormat, shallowPath } = await probeRepo(dir, logger);
  const run = (args: readonly string[], opts: RepoRunOptions = {}) => runGit(args, { ...opts, cwd: root, logger });
  const text = async (args: readonly string[], opts: RepoRunOptions = {}) => (await run(args, opts)).stdout.toString('utf8').replace(/\n$/, '');
  const readObjects = (names: readonly string[]) => catFileBatch(names, { cwd: root, logger });
  const readRef = async (ref: string): Promise<string | null> => {
    const r = await run(['rev-parse', '--verify', '--quiet', '--end-of-options', ref], { okCodes: [1, 128] });
    return r.exitCode === 0 ? r.stdout.toString('utf8').trim() : null;
  };
  const zeroOid = '0'.repeat(objectFormat === 'sha256' ? 64 : 40);
  const ctx: RepoContext = { root, zeroOid, shallowFile: path.resolve(dir, shallowPath), run, text, readObjects, readRef };
  return {
    root,
    gitDir,
    bare,
    zeroOid,
    run,
    readObjects,
    resolveCommit: (ref) => resolveCommit(ctx, ref),
    listTree: (commit, d, only) => listTree(ctx, commit, d, only),
    diffDir: (from, to, d) => diffDir(ctx, from, to, d),
    listDir: (commit, d) => listDir(ctx, commit, d),
    readBlobs: (oids) => readBlobs(ctx, oids),
    // Issue 18: batches of blobs from one long-lived git process (a plan reading chunks of scripts).
    openBlobReader: () => {
      const session = openCatFileSession({ cwd: root, logger });
      return { readBlobs: (oids) => readBlobs({ root, readObjects: (names) => session.read(names) }, oids), close: () => session.close() };
    },
    relation: (a, b) => relation(ctx, a, b),
    readRef,
    updateRef: (ref, newOid, oldOid, reason) => updateRef(ctx, ref, newOid, oldOid, reason),
    workingTreeChanges: async (d) =>
      bare ? [] : parseStatusZ((await run(['--no-optional-locks', 'status', '--porcelain=v1', '-z', '--untracked-files=all', '--', d || '.'])).stdout),
  };
}

/** The paths of `git status --porcelain=v1 -z`: `XY path\0`, a rename's or copy's source after its own `\0`. */
export function parseStatusZ(out: Buffer): string[] {
  const parts = out.toString('utf8').split('\0');
  const paths: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i]!;
    if (entry.length < 4) continue;
    paths.push(entry.slice(3));
    if (entry[0] === 'R' || entry[0] === 'C') i++; // the source path follows
  }
  return paths;
}

/** Where the repository is and what kind it is, in one git process in the common case. */
async function probeRepo(dir: string, logger: Logger): Promise<{ bare: boolean; gitDir: string; root: string; objectFormat: string; shallowPath: string }> {
  let info: string[];
  const ask = ['rev-parse', '--is-bare-repository', '--absolute-git-dir', '--show-object-format', '--git-path', 'shallow'];
  try {
    // With the work tree's root in the same process (the common case); a bare repository, or a
    // folder inside the git directory, has none and is asked again without it.
    const withRoot = await runGit([...ask, '--show-toplevel'], { cwd: dir, logger, okCodes: [128] });
    info =
      withRoot.exitCode === 0 && withRoot.stdout.toString('utf8').split('\n').length >= 5
        ? withRoot.stdout.toString('utf8').replace(/\n$/, '').split('\n')
        : (await gitText(ask, { cwd: dir, logger })).split('\n');
  } catch (e) {
    if (e instanceof GitError && /not a git repository/i.test(e.message)) {
      throw new InputError(`${dir} is not in a git repository; run routeros-gitops inside a clone of your configuration repository (or pass --cwd)`);
    }
    if (e instanceof GitError && /dubious ownership/i.test(e.message)) {
      throw new InputError(`git refuses to use ${dir} because it belongs to another user; run: git config --global --add safe.directory ${dir}`);
    }
    throw e;
  }
  const [bareText, gitDir, objectFormat, shallowPath] = info;
  const bare = bareText === 'true';
  const root = bare ? gitDir! : (info[4] ?? (await gitText(['rev-parse', '--show-toplevel'], { cwd: dir, logger })));
  return { bare, gitDir: gitDir!, root, objectFormat: objectFormat!, shallowPath: shallowPath! };
}

async function resolveCommit(ctx: RepoContext, ref: string): Promise<CommitInfo> {
  const { run, text } = ctx;
  if (ref === '' || ref.startsWith('-') || /[\n\0]/.test(ref)) {
    throw new InputError(`${JSON.stringify(ref)} is not a commit name; pass --ref with a branch, tag or commit`);
  }
  // One process in the common case; the error is worked out only when there is one.
  const l = await run(['log', '-1', '--no-show-signature', '--format=%H%x00%s%x00%cI', '--end-of-options', `${ref}^{commit}`, '--'], { okCodes: [128] });
  if (l.exitCode === 0) {
    const [sha = '', subject = '', time = ''] = l.stdout.toString('utf8').replace(/\n$/, '').split('\0');
    if (/^[0-9a-f]{40,64}$/.test(sha)) return { sha, subject, time };
  }
  const r = await run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { okCodes: [1, 128] });
  if (r.exitCode !== 0) {
    const empty = ref === 'HEAD' && (await run(['rev-parse', '--verify', '--quiet', 'HEAD'], { okCodes: [1, 128] })).exitCode !== 0;
    throw new InputError(`no commit named '${ref}'${empty ? ' (the repository has no commits yet)' : ''}; pass --ref with a branch, tag or commit`);
  }
  const sha = r.stdout.toString('utf8').trim();
  const [, subject = '', time = ''] = (await text(['log', '-1', '--no-show-signature', '--format=%H%x00%s%x00%cI', sha, '--'])).split('\0');
  return { sha, subject, time };
}

async function listTree(ctx: RepoContext, commit: string, dir: string, only?: readonly string[]): Promise<TreeEntry[]> {
  if (commit.startsWith('-')) throw new GitError(`${JSON.stringify(commit)} is not a commit id`, 'git ls-tree', null);
  const prefix = cleanDir(dir);
  const args = ['ls-tree', '-r', '-z', '--long', '--full-tree', commit];
  // Pathspecs are literal (GIT_LITERAL_PATHSPECS, see gitEnv).
  if (only) {
    const paths = only.map(cleanDir).filter((p) => p !== '');
    if (!paths.length) return [];
    args.push('--', ...paths);
  } else if (prefix !== '') args.push('--', prefix);
  const out = (await ctx.run(args)).stdout.toString('utf8');
  return parseLsTree(out).filter((e) => prefix === '' || e.path === prefix || e.path.startsWith(`${prefix}/`));
}

async function diffDir(ctx: RepoContext, from: string, to: string, dir: string): Promise<DirChange[] | null> {
  if (from.startsWith('-') || to.startsWith('-'))
    throw new GitError(`${JSON.stringify(from.startsWith('-') ? from : to)} is not a commit id`, 'git diff-tree', null);
  if (from === to) return [];
  const prefix = cleanDir(dir);
  const tree = (c: string) => (prefix === '' ? `${c}^{tree}` : `${c}:${prefix}`);
  const r = await ctx.run(['diff-tree', '-z', '--no-renames', tree(from), tree(to)], { okCodes: [128] });
  if (r.exitCode !== 0) return null;
  return parseDiffTree(r.stdout.toString('utf8'));
}

async function listDir(ctx: RepoContext, commit: string, dir: string): Promise<TreeEntry[]> {
  if (commit.startsWith('-')) throw new GitError(`${JSON.stringify(commit)} is not a commit id`, 'git ls-tree', null);
  const prefix = cleanDir(dir);
  const args = ['ls-tree', '-z', '--long', '--full-tree', prefix === '' ? commit : `${commit}:${prefix}`];
  const r = await ctx.run(args, { okCodes: [128] });
  // 128: no such folder at that commit (or it is a file).
  if (r.exitCode !== 0) return [];
  return parseLsTree(r.stdout.toString('utf8')).map((e) => ({ ...e, path: prefix === '' ? e.path : `${prefix}/${e.path}` }));
}

async function readBlobs(ctx: Pick<RepoContext, 'readObjects' | 'root'>, oids: readonly string[]): Promise<Map<string, Buffer>> {
  const objects = await ctx.readObjects(oids);
  const blobs = new Map<string, Buffer>();
  const missing: string[] = [];
  for (const [oid, obj] of objects) {
    if (!obj) missing.push(oid);
    else if (obj.type !== 'blob') throw new GitError(`object ${oid} is a ${obj.type}, not a blob`, 'git cat-file --batch', 0);
    else blobs.set(oid, obj.content);
  }
  if (missing.length > 0) {
    const list = missing.slice(0, 5).join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
    throw new GitError(
      `${missing.length} object(s) are missing from the repository at ${ctx.root}: ${list}; if this is a partial or shallow clone, fetch the full history (git fetch --unshallow, or check out with fetch-depth: 0)`,
      'git cat-file --batch',
      0,
    );
  }
  return blobs;
}

async function relation(ctx: RepoContext, a: string, b: string): Promise<CommitRelation> {
  if (a === b) return 'same';
  if (a.startsWith('-') || b.startsWith('-')) throw new GitError(`${JSON.stringify(a.startsWith('-') ? a : b)} is not a commit id`, 'git merge-base', null);
  // One process: when one commit is an ancestor of the other, it is their merge base.
  const r = await ctx.run(['merge-base', a, b], { okCodes: [1, 128] });
  if (r.exitCode === 128) return 'unknown'; // a commit that is not in this clone
  const base = r.exitCode === 0 ? r.stdout.toString('utf8').trim() : '';
  const full = async (c: string) =>
    /^[0-9a-f]{40,64}$/.test(c) ? c : (await ctx.text(['rev-parse', '--verify', '--quiet', `${c}^{commit}`], { okCodes: [1, 128] })) || c;
  if (base !== '') {
    const [fa, fb] = await Promise.all([full(a), full(b)]);
    if (base === fa && base === fb) return 'same';
    if (base === fa) return 'ancestor';
    if (base === fb) return 'descendant';
  }
  // In a shallow clone the history that would connect them may simply not be here.
  return existsSync(ctx.shallowFile) ? 'unknown' : 'diverged';
}

async function updateRef(ctx: RepoContext, ref: string, newOid: string, oldOid: string | null, reason: string): Promise<boolean> {
  const args = ['update-ref', '-m', reason, ref, newOid, oldOid ?? ctx.zeroOid];
  const r = await ctx.run(args, { okCodes: [1, 128] });
  if (r.exitCode === 0) return true;
  // "is at X but expected Y", "reference already exists", or another writer holding
  // <ref>.lock right now: all mean "someone else moved it; re-read and retry".
  if (/is at [0-9a-f]+ but expected|reference already exists|\.lock'?: File exists/i.test(r.stderr)) return false;
  if ((await ctx.readRef(ref)) !== oldOid) return false;
  throw gitError(args, r.exitCode, r.stderr);
}

/** A repo-relative folder without leading './' or '/', or trailing '/' ('' for the root). */
function cleanDir(dir: string): string {
  return dir
    .replace(/^(\.\/|\/)+/, '')
    .replace(/\/+$/, '')
    .replace(/^\.$/, '');
}

/** Parse `git diff-tree -z` output (no renames): `:<mode> <mode> <oid> <oid> <status> NUL <path> NUL` per entry. */
export function parseDiffTree(out: string): DirChange[] {
  const parts = out.split('\0');
  const changes: DirChange[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const m = /^:(\d{6}) (\d{6}) ([0-9a-f]{40,64}) ([0-9a-f]{40,64}) ([AMDT])$/.exec(parts[i]!);
    if (!m) throw new GitError(`unexpected git diff-tree output: ${JSON.stringify(parts[i]!.slice(0, 200))}`, 'git diff-tree', 0);
    const deleted = m[5] === 'D';
    changes.push({
      name: parts[i + 1]!,
      status: m[5] === 'A' ? 'added' : deleted ? 'deleted' : 'modified',
      mode: deleted ? m[1]! : m[2]!,
      oid: deleted ? m[3]! : m[4]!,
    });
  }
  return changes;
}

/** Parse `git ls-tree -r -z --long` output: `<mode> SP <type> SP <oid> SP+ <size|-> TAB <path> NUL`. */
export function parseLsTree(out: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let start = 0;
  while (start < out.length) {
    let end = out.indexOf('\0', start);
    if (end < 0) end = out.length;
    if (end > start) entries.push(parseLsTreeRecord(out, start, end));
    start = end + 1;
  }
  return entries;
}

/** One record, checked field by field (a regex per record costs more than the rest of the parse). */
function parseLsTreeRecord(out: string, start: number, end: number): TreeEntry {
  const tab = out.indexOf('\t', start);
  const bad = () => new GitError(`unexpected git ls-tree output: ${JSON.stringify(out.slice(start, Math.min(end, start + 200)))}`, 'git ls-tree', 0);
  if (tab < 0 || tab > end) throw bad();
  const sp1 = start + 6;
  const sp2 = out.indexOf(' ', sp1 + 1);
  if (out.charCodeAt(sp1) !== 32 || sp2 < 0 || sp2 > tab) throw bad();
  const mode = out.slice(start, sp1);
  const type = out.slice(sp1 + 1, sp2);
  const sp3 = out.indexOf(' ', sp2 + 1);
  if (sp3 < 0 || sp3 > tab) throw bad();
  const oid = out.slice(sp2 + 1, sp3);
  const sizeText = out.slice(sp3, tab).trim();
  if (!/^\d{6}$/.test(mode) || (type !== 'blob' && type !== 'tree' && type !== 'commit') || !/^[0-9a-f]{40,64}$/.test(oid) || !/^(\d+|-)$/.test(sizeText))
    throw bad();
  return { mode, type, oid, size: sizeText === '-' ? 0 : Number(sizeText), path: out.slice(tab + 1, end) };
}
