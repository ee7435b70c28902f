// The two heads a daemon can follow. Local: a ref of this repository, whose refs are watched with
// chokidar (a commit, a pull, a merge or a checkout moves them); the working tree is never watched.
// Remote: a branch of a remote, fetched into its remote-tracking ref on each interval.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../core/logger.js';
import type { GitRepo } from '../git/repo.js';
import type { HeadSource } from './watch-loop.js';

export interface LocalHeadOptions {
  /** The ref to follow: HEAD, a branch, a tag or a full ref name. */
  readonly ref: string;
  /** Wait until the refs have been quiet this long before looking (a rebase moves them many times). Default 150 ms. */
  readonly debounceMs?: number;
  /** ...but never longer than this after the first change. Default 1000 ms. */
  readonly maxWaitMs?: number;
  readonly logger: Logger;
}

export async function localHead(repo: GitRepo, opts: LocalHeadOptions): Promise<HeadSource> {
  // Branches and packed-refs live in the common directory (shared by linked worktrees); HEAD in this worktree's.
  const common = path.resolve(repo.root, (await repo.run(['rev-parse', '--git-common-dir'])).stdout.toString('utf8').trim());
  const paths = [path.join(common, 'refs', 'heads'), path.join(common, 'packed-refs'), path.join(repo.gitDir, 'HEAD')];
  if (existsSync(path.join(common, 'reftable'))) paths.push(path.join(common, 'reftable'));
  const debounceMs = opts.debounceMs ?? 150;
  const maxWaitMs = Math.max(debounceMs, opts.maxWaitMs ?? 1000);
  let watcher: FSWatcher | null = null;
  let timer: NodeJS.Timeout | null = null;
  let firstAt = 0;
  return {
    mode: 'local',
    describe: opts.ref,
    refresh: async () => {},
    resolve: () => repo.resolveCommit(opts.ref),
    async watch(onChange) {
      watcher = watch(paths, { ignoreInitial: true, persistent: true, ignored: (p: string) => p.endsWith('.lock') });
      watcher.on('all', (event, file) => {
        opts.logger.debug({ event, file }, 'ref change');
        const now = Date.now();
        if (timer) clearTimeout(timer);
        else firstAt = now;
        const wait = Math.max(0, Math.min(debounceMs, firstAt + maxWaitMs - now));
        timer = setTimeout(() => {
          timer = null;
          onChange('ref-change');
        }, wait);
      });
      watcher.on('error', (e: unknown) => opts.logger.warn({ err: (e as Error).message }, 'watching the refs failed'));
      await new Promise<void>((resolve) => watcher!.once('ready', () => resolve()));
    },
    async close() {
      if (timer) clearTimeout(timer);
      timer = null;
      await watcher?.close();
    },
  };
}

export interface RemoteHeadOptions {
  readonly remote: string;
  readonly branch: string;
  readonly logger: Logger;
}

export function remoteHead(repo: GitRepo, opts: RemoteHeadOptions): HeadSource {
  const tracking = `refs/remotes/${opts.remote}/${opts.branch}`;
  return {
    mode: 'remote',
    describe: `${opts.remote}/${opts.branch}`,
    async refresh() {
      await repo.run(
        ['fetch', '--no-tags', '--quiet', '--no-recurse-submodules', '--no-write-fetch-head', opts.remote, `+refs/heads/${opts.branch}:${tracking}`],
        {
          // Give up on a stalled HTTP transfer instead of hanging the loop's next fetch forever.
          env: { GIT_HTTP_LOW_SPEED_LIMIT: '1000', GIT_HTTP_LOW_SPEED_TIME: '60' },
        },
      );
    },
    resolve: () => repo.resolveCommit(tracking),
    watch: async () => {},
    close: async () => {},
  };
}

/** The branch a remote-mode daemon follows when --branch is not given: the remote's default, else the current branch. */
export async function defaultBranch(repo: GitRepo, remote: string): Promise<string | null> {
  const sym = async (ref: string) => {
    const r = await repo.run(['symbolic-ref', '--quiet', '--short', ref], { okCodes: [1, 128] });
    return r.exitCode === 0 ? r.stdout.toString('utf8').trim() : null;
  };
  const remoteHeadRef = await sym(`refs/remotes/${remote}/HEAD`);
  if (remoteHeadRef?.startsWith(`${remote}/`)) return remoteHeadRef.slice(remote.length + 1);
  return sym('HEAD');
}
