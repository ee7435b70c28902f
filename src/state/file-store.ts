// The applied state as one JSON file: the alternative to the git ref for people who keep state
// elsewhere (a mounted volume, a CI cache). Writes are atomic (temp file in the same folder,
// fsync, rename) and serialised between processes by a lock file held only for
// read-merge-write, so no writer's updates are lost; within a process, concurrent record() calls
// are grouped into one write.
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { StateConflictError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import type { LeaseChange, LeaseResult, StateStore } from '../core/ports.js';
import { parseLease, type Lease } from '../core/lease.js';
import { applyUpdates, emptyState, parseState, type AppliedState, type StateUpdate } from '../core/state.js';
import { backoffDelay, checkUpdates, sleep, stableStringify } from './encoding.js';
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
}

interface LockInfo {
  pid: number;
  host: string;
  at: string;
  token: string;
}

export function createFileStateStore(options: FileStateStoreOptions): StateStore {
  const logger = options.logger ?? silentLogger;
  const file = path.resolve(options.path);
  const lockFile = `${file}.lock`;
  const lockTimeoutMs = options.lockTimeoutMs ?? 15_000;
  const staleLockMs = options.staleLockMs ?? 30_000;
  const where = `file ${file}`;

  /** The state and the lease the file holds; the revision is a digest of the sites alone (a lease change is not a new revision). */
  const read = async (): Promise<{ state: AppliedState; lease: Lease | null }> => {
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
  };
  const serialise = (state: AppliedState, lease: Lease | null) => stableStringify({ version: state.version, sites: state.sites, ...(lease && { lease }) });

  /** Is the lock described by `text` (last changed at `mtimeMs`) abandoned? */
  const EMPTY_LOCK_GRACE_MS = Math.min(2000, staleLockMs);
  const isStale = (text: string, mtimeMs: number): boolean => {
    if (Date.now() - mtimeMs > staleLockMs) return true;
    let info: Partial<LockInfo>;
    try {
      info = JSON.parse(text) as Partial<LockInfo>;
    } catch {
      // Being written right now, or left empty by a writer killed between creating and writing it
      // (writing a hundred bytes takes microseconds: two seconds on is abandoned).
      return Date.now() - mtimeMs > EMPTY_LOCK_GRACE_MS;
    }
    if (info.host !== hostname() || typeof info.pid !== 'number') return false;
    try {
      process.kill(info.pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  };

  /** Remove a stale lock without removing a fresh one another process may have just taken. */
  const breakLock = async (staleText: string) => {
    const aside = `${lockFile}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await rename(lockFile, aside);
    } catch {
      return; // someone else broke it first
    }
    const moved = await readFile(aside, 'utf8').catch(() => '');
    if (moved !== staleText) {
      // We moved a lock taken after we looked: put it back unless yet another one exists.
      await link(aside, lockFile).catch(() => {});
    } else {
      logger.warn({ lock: lockFile, holder: staleText }, 'removed a stale state lock');
    }
    await unlink(aside).catch(() => {});
  };

  const lock = async (): Promise<() => Promise<void>> => {
    const info: LockInfo = { pid: process.pid, host: hostname(), at: new Date().toISOString(), token: randomBytes(8).toString('hex') };
    const text = JSON.stringify(info);
    const deadline = Date.now() + lockTimeoutMs;
    await mkdir(path.dirname(file), { recursive: true });
    for (let attempt = 1; ; attempt++) {
      try {
        const fh = await open(lockFile, 'wx');
        try {
          await fh.writeFile(text);
        } finally {
          await fh.close();
        }
        return async () => {
          // Only remove the lock if it is still ours (it is not if we were declared stale).
          if ((await readFile(lockFile, 'utf8').catch(() => '')) === text) await unlink(lockFile).catch(() => {});
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const [held, st] = await Promise.all([readFile(lockFile, 'utf8').catch(() => null), stat(lockFile).catch(() => null)]);
      if (held === null || st === null) continue; // released meanwhile
      if (isStale(held, st.mtimeMs)) {
        await breakLock(held);
        continue;
      }
      if (Date.now() > deadline) {
        throw new StateConflictError(
          `the state file ${file} has been locked for over ${Math.round(lockTimeoutMs / 1000)} s by ${held || 'another process'}; if no routeros-gitops is running, remove ${lockFile}`,
        );
      }
      await sleep(backoffDelay(attempt, 2, 50));
    }
  };

  const writeAtomically = async (content: string) => {
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
  };

  const queue = createWriteQueue(async (updates: StateUpdate[]) => {
    const unlock = await lock();
    try {
      const { state, lease } = await read();
      await writeAtomically(serialise(applyUpdates(state, updates), lease));
      logger.debug({ file, updates: updates.length }, 'state recorded');
    } finally {
      await unlock();
    }
  });

  /** A lease change under the file lock: read, decide, write (the same compare-and-swap as the git ref's). */
  const changeLease = (change: LeaseChange): Promise<LeaseResult> =>
    queue.exclusive(async () => {
      const unlock = await lock();
      try {
        const { state, lease } = await read();
        const next = change(lease);
        if (next) await writeAtomically(serialise(state, next));
        return { lease: next ?? lease, changed: next !== null, basedOn: state.revision ?? null };
      } finally {
        await unlock();
      }
    });

  return {
    load: async () => (await read()).state,
    changeLease,
    readLease: async () => (await read()).lease,
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

/** A digest of the sites a state holds (its revision: equal for equal records). */
function revisionOf(state: AppliedState): string {
  return createHash('sha256').update(stableStringify(state.sites)).digest('hex').slice(0, 24);
}
