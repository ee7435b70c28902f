// Writes a commit (its blobs, trees and the commit object) with ONE `git fast-import` process,
// starting from a parent's tree and changing only the listed paths, so the cost does not grow
// with the number of files left alone. No ref, index, working tree or HEAD is touched: the
// commit is written under a scratch branch name that is reset (dropped) before fast-import
// ends, and its id is read back with get-mark. Moving a ref to it is the caller's job.
import { GitError } from '../core/errors.js';
import type { GitRepo } from './repo.js';

export type TreeChange = { path: string; content: string | Buffer } | { path: string; oid: string } | { path: string; delete: true };

export interface Identity {
  name: string;
  email: string;
}

export interface CommitSpec {
  /** First parent: the tree starts from its tree. None: the tree starts empty. */
  parents: readonly string[];
  message: string;
  changes: readonly TreeChange[];
  identity: Identity;
  /** Commit time. Default: now. */
  time?: Date;
}

// Small commits (one or a few updates: ~5 objects) are written loose; a group commit of many
// updates is kept as one pack, which costs one fsync instead of one file per object.
const UNPACK_LIMIT = 20;

const fsyncSettings = new WeakMap<object, Promise<string | null>>();

/** The repository's own core.fsync, read once per repository object. */
function fsyncSetting(repo: Pick<GitRepo, 'run'>): Promise<string | null> {
  let p = fsyncSettings.get(repo);
  if (!p) {
    p = repo.run(['config', '--get', 'core.fsync'], { okCodes: [1] }).then((r) => (r.exitCode === 0 ? r.stdout.toString('utf8').trim() || null : null));
    fsyncSettings.set(repo, p);
  }
  return p;
}

// Never written to disk (see `reset` below); only names fast-import's in-memory branch.
const SCRATCH_BRANCH = 'refs/routeros-gitops/fast-import';

export async function writeCommit(repo: Pick<GitRepo, 'run'>, spec: CommitSpec): Promise<string> {
  const when = `${Math.floor((spec.time ?? new Date()).getTime() / 1000)} +0000`;
  const who = `${spec.identity.name} <${spec.identity.email}>`;
  const parts: Buffer[] = [];
  const line = (s: string) => parts.push(Buffer.from(`${s}\n`, 'utf8'));
  const data = (content: string | Buffer) => {
    const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    line(`data ${buf.length}`);
    parts.push(buf);
    line('');
  };

  line(`commit ${SCRATCH_BRANCH}`);
  line('mark :1');
  line(`author ${who} ${when}`);
  line(`committer ${who} ${when}`);
  data(spec.message);
  const [first, ...others] = spec.parents;
  if (first) line(`from ${first}`);
  for (const p of others) line(`merge ${p}`);
  for (const c of spec.changes) {
    const p = quotePath(c.path);
    if ('delete' in c) line(`D ${p}`);
    else if ('oid' in c) line(`M 100644 ${c.oid} ${p}`);
    else {
      line(`M 100644 inline ${p}`);
      data(c.content);
    }
  }
  line('');
  line(`reset ${SCRATCH_BRANCH}`);
  line('');
  line('get-mark :1');
  line('done');

  // Fewer than UNPACK_LIMIT objects are written loose rather than as one tiny pack per commit, and
  // without deltas: delta-compressing a tree against its parent's (then undoing it to write it
  // loose) costs more than the whole commit otherwise; `git gc` packs and deltifies them later.
  const args = ['-c', `fastimport.unpackLimit=${UNPACK_LIMIT}`];
  // Each change writes a blob and at most one tree; plus the root, `sites/` and the commit.
  if (spec.changes.length * 2 + 3 < UNPACK_LIMIT) {
    // The pack fast-import writes is unpacked into loose objects and deleted at once, so syncing
    // it to disk buys nothing (the loose objects get the repository's own core.fsync treatment).
    const fsync = await fsyncSetting(repo);
    args.push('-c', `core.fsync=${fsync ? `${fsync},` : ''}-pack,-pack-metadata`);
  }
  args.push('fast-import', '--quiet', '--done', '--date-format=raw', '--depth=0');
  const out = (await repo.run(args, { input: Buffer.concat(parts) })).stdout.toString('utf8').trim();
  if (!/^[0-9a-f]{40,64}$/.test(out))
    throw new GitError(`git fast-import did not report the commit it wrote (got ${JSON.stringify(out.slice(0, 100))})`, 'git fast-import', 0);
  return out;
}

function quotePath(p: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x09\x0b-\x1f]/.test(p)) throw new TypeError(`cannot write the path ${JSON.stringify(p)} to a git tree`);
  return /[\n"\\]/.test(p) || p.startsWith('"') ? `"${p.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"` : p;
}
