// actions/checkout fetches one commit (depth 1) by default. The plan needs the commit it plans
// (for a pull request, the head, which a merge checkout does not hold) and, to prove it is not
// going backwards, the history linking it to each site's last applied commit: fetch what is
// missing from origin, and unshallow only when the plan could not tell.
import type { Logger } from '../core/logger.js';
import type { GitRepo } from '../git/repo.js';
import { listRemotes } from '../git/remotes.js';

const FETCH = ['fetch', '--no-tags', '--no-recurse-submodules', '--quiet'];

export async function hasRemote(repo: GitRepo, name = 'origin'): Promise<boolean> {
  return (await listRemotes(repo)).includes(name);
}

export async function isShallow(repo: GitRepo): Promise<boolean> {
  return (await repo.run(['rev-parse', '--is-shallow-repository'])).stdout.toString('utf8').trim() === 'true';
}

/** Make sure `sha` (a full commit id) is in the clone, fetching it from origin when it is not. */
export async function ensureCommit(repo: GitRepo, sha: string, logger: Logger): Promise<void> {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(sha)) return; // a ref name: resolved as it is
  if (await repo.readRef(`${sha}^{commit}`)) return;
  if (!(await hasRemote(repo))) return; // resolveCommit will say it is missing
  const shallow = await isShallow(repo);
  logger.info({ sha: sha.slice(0, 12) }, 'fetching the commit to plan from origin');
  await repo.run([...FETCH, ...(shallow ? ['--depth=1'] : []), 'origin', sha]);
}

/** Fetch the full history of `sha` (and of the branches) when the clone is shallow; false when it was not. */
export async function unshallow(repo: GitRepo, sha: string, logger: Logger): Promise<boolean> {
  if (!(await isShallow(repo)) || !(await hasRemote(repo))) return false;
  logger.info({ sha: sha.slice(0, 12) }, 'shallow clone: fetching the history needed to order commits (git fetch --unshallow)');
  const target = /^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(sha) ? [sha] : [];
  await repo.run([...FETCH, '--unshallow', 'origin', ...target]);
  return true;
}
