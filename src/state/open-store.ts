// Chooses the state backend from the command line's options: a file when one is named, else the
// state ref of the repository, shared through its remote when it has one.
import path from 'node:path';
import { InputError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import type { StateStore } from '../core/ports.js';
import { openRepo, type GitRepo } from '../git/repo.js';
import { listRemotes } from '../git/remotes.js';
import { createFileStateStore } from './file-store.js';
import { redactingStateStore } from './redacting-store.js';
import type { Redact } from '../core/redact.js';
import { createGitRefStateStore, DEFAULT_STATE_REF } from './git-ref-store.js';

export { DEFAULT_STATE_REF };

export interface OpenStateStoreOptions {
  /** A folder inside the repository; relative `stateFile` paths are resolved against it. */
  readonly cwd: string;
  /** The repository, when already open (saves a git process). Default: opened from `cwd`. */
  readonly repo?: GitRepo;
  /** Keep the state in this JSON file instead of the repository. Default: none (use the ref). */
  readonly stateFile?: string;
  /**
   * Remote to fetch the state ref from and push it to. Default: 'origin' when the repository has
   * a remote of that name, else none. '' or false: keep the state local.
   */
  readonly stateRemote?: string | false;
  /** Default: 'refs/routeros-gitops/state'. */
  readonly stateRef?: string;
  /** Default: silent. */
  readonly logger?: Logger;
  /** Scrubs the free text of what is recorded (see redacting-store.ts); read on each write. Default: none. */
  readonly redact?: () => Redact;
}

export async function openStateStore(options: OpenStateStoreOptions): Promise<StateStore> {
  const store = await openStore(options);
  return options.redact ? redactingStateStore(store, options.redact) : store;
}

async function openStore(options: OpenStateStoreOptions): Promise<StateStore> {
  const logger = options.logger ?? silentLogger;
  if (options.stateFile) {
    if (options.stateRemote || options.stateRef) {
      throw new InputError('--state-file keeps the state in a file; it cannot be combined with --state-remote or --state-ref');
    }
    return createFileStateStore({ path: path.resolve(options.cwd, options.stateFile), logger });
  }
  const repo = options.repo ?? (await openRepo(options.cwd, { logger }));
  let remote: string | undefined;
  if (options.stateRemote === undefined) {
    remote = (await listRemotes(repo)).includes('origin') ? 'origin' : undefined;
  } else {
    remote = options.stateRemote || undefined;
  }
  return createGitRefStateStore({ repo, ref: options.stateRef || DEFAULT_STATE_REF, remote, logger });
}
