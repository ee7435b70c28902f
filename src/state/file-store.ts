// The applied state as one JSON file: the alternative to the git ref for people who keep state
// elsewhere (a mounted volume, a CI cache). Writes are atomic (temp file in the same folder,
// fsync, rename) and serialised between processes by a lock file held only for
// read-merge-write, so no writer's updates are lost; within a process, concurrent record() calls
// are grouped into one write.
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import type { LeaseChange, LeaseResult, StateStore } from '../core/ports.js';
import { parseLease, type Lease } from '../core/lease.js';
import { applyUpdates, emptyState, parseState, type AppliedState, type StateUpdate } from '../core/state.js';
import { checkUpdates, stableStringify } from './encoding.js';
import { takeFileLock } from './file-lock.js';
import { createWriteQueue } from './write-queue.js';

export interface FileStateStoreOptions {
  /** The state file (created on the first write, with its folder). */
  readonly path: string;
  /** Default: silent. */
  readonly logger?: Logger;
  /** How long a write waits for another process's lock before giving up. Default: 15000 ms. */
  readonly lockTimeoutMs?: number;
  /** A lock older than this is stale whoever holds it (a live holder keeps it for milliseconds). Default: 30000 ms. */
  readonly staleLockMs?: number;
  /** Milliseconds since the epoch, for the lock's wait and age. Default Date.now. */
  readonly now?: () => number;
}

export function createFileStateStore(options: FileStateStoreOptions): StateStore {
  const logger = options.logger ?? silentLogger;
  const file = path.resolve(options.path);
  const lockOptions = {
    lockFile: `${file}.lock`,
    file,
    timeoutMs: options.lockTimeoutMs ?? 15_000,
    staleMs: options.staleLockMs ?? 30_000,
    logger,
    now: options.now,
  };
  /** Run `fn` holding the file lock. */
  const locked = async <T>(fn: () => Promise<T>): Promise<T> => {
    const unlock = await takeFileLock(lockOptions);
    try {
      return await fn();
    } finally {
      await unlock();
    }
  };

  const queue = createWriteQueue((updates: StateUpdate[]) =>
    locked(async () => {
      const { state, lease } = await readStateFile(file);
      await writeAtomically(file, serialise(applyUpdates(state, updates), lease));
      logger.debug({ file, updates: updates.length }, 'state recorded');
    }),
  );

  /** A lease change under the file lock: read, decide, write (the same compare-and-swap as the git ref's). */
  const changeLease = (change: LeaseChange): Promise<LeaseResult> =>
    queue.exclusive(() =>
      locked(async () => {
        const { state, lease } = await readStateFile(file);
        const next = change(lease);
        if (next) await writeAtomically(file, serialise(state, next));
        return { lease: next ?? lease, changed: next !== null, basedOn: state.revision ?? null };
      }),
    );

  return {
    load: async () => (await readStateFile(file)).state,
    changeLease,
    readLease: async () => (await readStateFile(file)).lease,
    record(updates) {
      try {
        checkUpdates(updates);
      } catch (e) {
        return Promise.reject(e);
      }
      return queue.push(updates);
    },
    close: () => queue.drain(),
    describe: () => `file ${file}`,
  };
}

/** The state and the lease the file holds; the revision is a digest of the sites alone (a lease change is not a new revision). */
async function readStateFile(file: string): Promise<{ state: AppliedState; lease: Lease | null }> {
  const where = `file ${file}`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { state: { ...emptyState(), revision: null }, lease: null };
    throw e;
  }
  const state = parseState(text, where);
  const doc = JSON.parse(text) as { lease?: unknown };
  const lease = doc.lease === undefined || doc.lease === null ? null : parseLease(JSON.stringify(doc.lease), where);
  return { state: { ...state, revision: revisionOf(state) }, lease };
}

function serialise(state: AppliedState, lease: Lease | null): string {
  return stableStringify({ version: state.version, sites: state.sites, ...(lease && { lease }) });
}

/** Write the whole file: a temp file in the same folder, fsync, rename, and the folder synced. */
async function writeAtomically(file: string, content: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  // Make the rename itself durable; not every platform lets a folder be opened and synced.
  const dir = await open(path.dirname(file), 'r').catch(() => null);
  await dir?.sync().catch(() => {});
  await dir?.close();
}

/** A digest of the sites a state holds (its revision: equal for equal records). */
function revisionOf(state: AppliedState): string {
  return createHash('sha256').update(stableStringify(state.sites)).digest('hex').slice(0, 24);
}
