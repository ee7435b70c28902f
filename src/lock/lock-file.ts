// A lock file for "one apply at a time on this repository" and "one daemon per repository":
// created with O_EXCL, holding the owner's pid, host and start time; a lock left by a dead process
// on this host is taken over.
import { open, readFile, rm, mkdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

export interface LockInfo {
  pid: number;
  host: string;
  since: string;
  purpose: string;
}

export interface Lock {
  readonly path: string;
  release(): Promise<void>;
}

export class LockBusyError extends Error {
  constructor(
    readonly path: string,
    readonly holder: LockInfo | null,
  ) {
    super(
      holder
        ? `another routeros-gitops process (pid ${holder.pid} on ${holder.host}, ${holder.purpose} since ${holder.since}) holds ${path}`
        : `another routeros-gitops process holds ${path}`,
    );
    this.name = 'LockBusyError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<LockInfo | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

/** Take the lock, waiting up to `waitMs` (0: fail at once with LockBusyError). */
export async function acquireLock(path: string, opts: { purpose: string; waitMs?: number; signal?: AbortSignal }): Promise<Lock> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + (opts.waitMs ?? 0);
  let delay = 50;
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      const info: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString(), purpose: opts.purpose };
      await fh.writeFile(JSON.stringify(info));
      await fh.sync();
      await fh.close();
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          const holder = await readHolder(path);
          if (holder?.pid === process.pid) await rm(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = await readHolder(path);
    if (holder && holder.host === hostname() && !alive(holder.pid)) {
      // Left by a process that died (SIGKILL): take it over.
      await rm(path, { force: true });
      continue;
    }
    if (!holder) {
      // Being written right now, or garbage left by a crash between create and write.
      const age = await stat(path).then(
        (st) => Date.now() - st.mtimeMs,
        () => 0,
      );
      if (age > 5000) {
        await rm(path, { force: true });
        continue;
      }
    }
    if (Date.now() >= deadline || opts.signal?.aborted) throw new LockBusyError(path, holder);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(1000, delay * 2);
  }
}
