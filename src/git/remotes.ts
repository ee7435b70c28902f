// The repository's remotes (`git remote`), asked in one place.
import type { GitRepo } from './repo.js';

export async function listRemotes(repo: Pick<GitRepo, 'run'>): Promise<string[]> {
  return (await repo.run(['remote'])).stdout.toString('utf8').split('\n').filter(Boolean);
}
