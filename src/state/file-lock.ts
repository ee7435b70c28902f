// The lock file that serialises writers of a state file between processes: created exclusively,
// holding who took it (pid, host, a random token), removed only by its owner. A lock whose holder is
// gone (a dead pid on this host, an empty file left by a killed writer, or simply too old) is broken
// without ever removing a fresh lock another process took meanwhile.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { StateConflictError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { backoffDelay, sleep } from './encoding.js';

export interface FileLockOptions {
  /** The lock file. */
  readonly lockFile: string;
  /** The file it protects (named in the error when the wait is too long). */
  readonly file: string;
  /** How long to wait for another process's lock. */
  readonly timeoutMs: number;
  /** A lock older than this is stale whoever holds it. */
  readonly staleMs: number;
  readonly logger: Logger;
  /** Milliseconds since the epoch (the wait's deadline, a lock's age). Default Date.now. */
  readonly now?: () => number;
}

interface LockInfo {
  pid: number;
  host: string;
  at: string;
  token: string;
}

/** Take the lock (waiting for another holder up to timeoutMs); resolves with the function that releases it. */
export async function takeFileLock(o: FileLockOptions): Promise<() => Promise<void>> {
  const now = o.now ?? Date.now;
  const info: LockInfo = { pid: process.pid, host: hostname(), at: new Date(now()).toISOString(), token: randomBytes(8).toString('hex') };
  const text = JSON.stringify(info);
  const deadline = now() + o.timeoutMs;
  await mkdir(path.dirname(o.lockFile), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    if (await tryCreate(o.lockFile, text)) {
      return async () => {
        // Only remove the lock if it is still ours (it is not if we were declared stale).
        if ((await readFile(o.lockFile, 'utf8').catch(() => '')) === text) await unlink(o.lockFile).catch(() => {});
      };
    }
    const [held, st] = await Promise.all([readFile(o.lockFile, 'utf8').catch(() => null), stat(o.lockFile).catch(() => null)]);
    if (held === null || st === null) continue; // released meanwhile
    if (isStale(held, now() - st.mtimeMs, o.staleMs)) {
      await breakLock(o.lockFile, held, o.logger);
      continue;
    }
    if (now() > deadline) {
      throw new StateConflictError(
        `the state file ${o.file} has been locked for over ${Math.round(o.timeoutMs / 1000)} s by ${held || 'another process'}; if no routeros-gitops is running, remove ${o.lockFile}`,
      );
    }
    await sleep(backoffDelay(attempt, 2, 50));
  }
}

/** Create the lock file with `text`, unless it exists (false). */
async function tryCreate(lockFile: string, text: string): Promise<boolean> {
  try {
    const fh = await open(lockFile, 'wx');
    try {
      await fh.writeFile(text);
    } finally {
      await fh.close();
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  }
}

/** Is the lock described by `text`, last changed `ageMs` ago, abandoned? */
export function isStale(text: string, ageMs: number, staleMs: number): boolean {
  if (ageMs > staleMs) return true;
  let info: Partial<LockInfo>;
  try {
    info = JSON.parse(text) as Partial<LockInfo>;
  } catch {
    // Being written right now, or left empty by a writer killed between creating and writing it
    // (writing a hundred bytes takes microseconds: two seconds on is abandoned).
    return ageMs > Math.min(2000, staleMs);
  }
  if (info.host !== hostname() || typeof info.pid !== 'number') return false;
  try {
    process.kill(info.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Remove a stale lock without removing a fresh one another process may have just taken. */
async function breakLock(lockFile: string, staleText: string, logger: Logger): Promise<void> {
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
}
