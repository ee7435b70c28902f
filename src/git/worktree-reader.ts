// The sites directory as it is in the working tree, read through the same RepoReader interface as
// a commit: `validate FILE...` (a pre-commit hook, an editor) checks files exactly as repository
// mode checks a commit, before they are committed. The files are those git would commit (tracked,
// and untracked ones it does not ignore); a symbolic link is listed as one (never followed).
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CommitInfo, RepoReader, TreeEntry } from '../core/ports.js';
import type { GitRepo } from './repo.js';

/** A reader of `repo`'s working tree; its one "commit" is the working tree itself. */
export function worktreeReader(repo: GitRepo): RepoReader {
  const commit: CommitInfo = { sha: repo.zeroOid, subject: '(working tree)', time: new Date().toISOString() };
  const paths = new Map<string, string>(); // oid -> repo-relative path
  return {
    root: repo.root,
    resolveCommit: async () => commit,
    async listTree(_commit, dir, only) {
      const scope = only?.length ? [...only] : [dir || '.'];
      const listed = await repo.run(['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', ...scope]);
      const out: TreeEntry[] = [];
      for (const rel of new Set(listed.stdout.toString('utf8').split('\0').filter(Boolean))) {
        const st = await lstat(path.join(repo.root, rel)).catch(() => null);
        if (!st || st.isDirectory()) continue; // deleted from the working tree, or a submodule's folder
        const oid = `worktree:${rel}`;
        paths.set(oid, rel);
        const mode = st.isSymbolicLink() ? '120000' : st.mode & 0o111 ? '100755' : '100644';
        out.push({ path: rel, mode, type: 'blob', oid, size: st.size });
      }
      return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
    async readBlobs(oids) {
      const out = new Map<string, Buffer>();
      for (const oid of oids) {
        const rel = paths.get(oid);
        if (rel !== undefined) out.set(oid, await readFile(path.join(repo.root, rel)));
      }
      return out;
    },
    relation: async () => 'unknown',
  };
}
