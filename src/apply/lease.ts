// Holding the apply lease (core/lease.ts) around a run: wait for it (saying who holds it), renew it
// while the run lasts, and release it at the end. A run that cannot renew it in time stops sending:
// `canSend()` is false once the lease it knows of might have expired, so a process paused past its
// lease (a suspended laptop, a stalled VM) never sends after another run took over.
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from '../core/logger.js';
import { brokenLease, describeHolder, releaseLease, renewLease, takeLease, type Lease, type LeaseHolder } from '../core/lease.js';
import type { StateStore } from '../core/ports.js';

/** Defaults: a lease lives 2 minutes unless renewed, and is renewed every 30 s. */
export const LEASE_TTL_MS = 120_000;
export const LEASE_WAIT_MS = 300_000;

export class LeaseBusyError extends Error {
  constructor(
    readonly lease: Lease,
    readonly waitedMs: number,
    readonly where: string,
  ) {
    super(
      `another run holds the apply lease of ${where}: ${describeHolder(lease)}; waited ${Math.round(waitedMs / 1000)} s. ` +
        'Two applies never run at once on a shared state: try again when it ends, raise --lease-timeout, or, if that run is gone for good, ' +
        'break the lease with `routeros-gitops state break-lease`',
    );
    this.name = 'LeaseBusyError';
  }
}

export interface LeaseOptions {
  purpose: string;
  commit: string | null;
  /** How long the lease lives without renewal. Default LEASE_TTL_MS. */
  ttlMs?: number;
  /** How long to wait for another holder. Default LEASE_WAIT_MS; 0: fail at once. */
  waitMs?: number;
  signal?: AbortSignal;
  logger: Logger;
  /** Called once, when the run starts waiting for another holder. */
  onWait?: (lease: Lease) => void;
  /** Default Date.now. */
  now?: () => number;
}

export interface HeldLease {
  readonly holder: LeaseHolder;
  /** The state revision the lease was taken on (a plan of that revision is still current). */
  readonly basedOn: string | null;
  /** Aborted when the lease is lost (another run took it, or it could not be renewed in time). */
  readonly lost: AbortSignal;
  /** Whether a job may be sent now: the lease is held and not about to expire. */
  canSend(): boolean;
  release(): Promise<void>;
}

let machine: string | null | undefined;

/**
 * This machine and pid namespace, so that a holder's pid is only ever checked where it means
 * something: Linux's boot id and the pid namespace's inode. Null elsewhere (then a lease is only
 * taken over once it has gone unrenewed for its ttl).
 */
export function machineId(): string | null {
  if (machine !== undefined) return machine;
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pidns = readlinkSync('/proc/self/ns/pid');
    machine = boot && pidns ? `${boot}/${pidns}` : null;
  } catch {
    machine = null;
  }
  return machine;
}

/** Is a holder a process of this very machine and pid namespace that is gone? (A SIGKILLed run's lease is taken over at once.) */
export function deadOnThisMachine(holder: LeaseHolder): boolean {
  const here = machineId();
  if (!here || holder.machine !== here || holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Decides whether a lease held by another run is free, by what this process itself observed: the
 * holder is gone (this machine), or the lease has not changed (no renewal, no new holder) for its
 * ttl by this process's monotonic clock. Never by the holder's expiry time compared with this
 * machine's clock: two machines' clocks may differ by minutes.
 */
export class LeaseObserver {
  private seen: { id: string; renewed: string; seq: number; since: number } | null = null;

  constructor(private readonly monotonic: () => number = () => performance.now()) {}

  free = (lease: Lease): boolean => {
    if (!lease.holder) return true;
    if (deadOnThisMachine(lease.holder)) return true;
    const id = lease.holder.id;
    const renewed = lease.renewed_at ?? '';
    const now = this.monotonic();
    if (!this.seen || this.seen.id !== id || this.seen.renewed !== renewed || this.seen.seq !== lease.seq) {
      this.seen = { id, renewed, seq: lease.seq, since: now };
      return false;
    }
    return now - this.seen.since >= (lease.ttl_ms ?? LEASE_TTL_MS);
  };
}

export async function acquireLease(store: StateStore, opts: LeaseOptions): Promise<HeldLease> {
  const now = opts.now ?? Date.now;
  const ttlMs = opts.ttlMs ?? LEASE_TTL_MS;
  const waitMs = opts.waitMs ?? LEASE_WAIT_MS;
  const holder: LeaseHolder = {
    id: randomUUID(),
    host: hostname(),
    pid: process.pid,
    purpose: opts.purpose,
    commit: opts.commit,
    started_at: new Date(now()).toISOString(),
    machine: machineId(),
  };
  const observer = new LeaseObserver();
  const started = now();
  let told = false;
  for (let attempt = 0; ; attempt++) {
    const r = await store.changeLease((cur) => takeLease(cur, holder, ttlMs, new Date(now()), observer.free));
    if (r.lease?.holder?.id === holder.id) return hold(store, holder, r.basedOn, ttlMs, now, opts.logger);
    const lease = r.lease!;
    if (now() - started >= waitMs || opts.signal?.aborted) throw new LeaseBusyError(lease, now() - started, store.describe());
    if (!told) {
      told = true;
      opts.onWait?.(lease);
      opts.logger.warn({ holder: lease.holder, expires_at: lease.expires_at }, `waiting for the apply lease, held by ${describeHolder(lease)}`);
    }
    await pause(Math.min(5000, 500 * 2 ** Math.min(attempt, 4), Math.max(1, waitMs - (now() - started))), opts.signal);
  }
}

function hold(store: StateStore, holder: LeaseHolder, basedOn: string | null, ttlMs: number, now: () => number, logger: Logger): HeldLease {
  const lost = new AbortController();
  // The lease's end as this process knows it, on two clocks: the wall clock goes on while a laptop
  // sleeps (the monotonic one may not), the monotonic one cannot be set back.
  const mono = () => performance.now();
  let expiresAt = now() + ttlMs;
  let monoExpiresAt = mono() + ttlMs;
  let released = false;
  let renewing: Promise<void> = Promise.resolve();
  const renew = async () => {
    const at = now();
    const monoAt = mono();
    try {
      const r = await store.changeLease((cur) => renewLease(cur, holder.id, ttlMs, new Date(at)));
      if (r.lease?.holder?.id === holder.id) {
        expiresAt = at + ttlMs;
        monoExpiresAt = monoAt + ttlMs;
      } else if (!released) {
        lost.abort(new Error('the apply lease was taken by another run'));
        logger.error({ holder: r.lease?.holder ?? null }, 'the apply lease was taken by another run: no new job is sent');
      }
    } catch (e) {
      // A failed renewal (the remote unreachable) is retried at the next tick; canSend() stops
      // sending before the lease could expire.
      logger.warn({ err: (e as Error).message }, 'could not renew the apply lease');
    }
  };
  const timer = setInterval(
    () => {
      renewing = renewing.then(renew);
    },
    Math.max(1000, Math.floor(ttlMs / 4)),
  );
  timer.unref();
  return {
    holder,
    basedOn,
    lost: lost.signal,
    canSend: () => !lost.signal.aborted && now() < expiresAt - ttlMs / 4 && mono() < monoExpiresAt - ttlMs / 4,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await renewing;
      await store
        .changeLease((cur) => releaseLease(cur, holder.id))
        .catch((e: unknown) => {
          logger.warn({ err: (e as Error).message }, 'could not release the apply lease; it expires on its own');
        });
    },
  };
}

/**
 * One lease for the overlapping runs of one process (the daemon applying a new commit while an
 * earlier run still follows its jobs): the first run takes it, the others share it while it is
 * held and not lost, and the last one to end releases it. A shared hold says it was not taken on
 * any state revision (basedOn null), so each run plans again once it holds it.
 */
export class SharedLease {
  private held: { lease: HeldLease; users: number } | null = null;
  private taking: Promise<HeldLease> | null = null;

  async acquire(store: StateStore, opts: LeaseOptions): Promise<HeldLease> {
    for (;;) {
      if (this.held && !this.held.lease.lost.aborted) return this.share(this.held);
      if (!this.taking) break;
      await this.taking.catch(() => {});
    }
    this.taking = acquireLease(store, opts);
    try {
      const lease = await this.taking;
      const held = { lease, users: 1 };
      this.held = held;
      return { ...lease, release: () => this.drop(held) };
    } finally {
      this.taking = null;
    }
  }

  private share(held: { lease: HeldLease; users: number }): HeldLease {
    held.users++;
    const { lease } = held;
    return { holder: lease.holder, basedOn: null, lost: lease.lost, canSend: () => lease.canSend(), release: () => this.drop(held) };
  }

  private async drop(held: { lease: HeldLease; users: number }): Promise<void> {
    if (--held.users > 0) return;
    if (this.held === held) this.held = null;
    await held.lease.release();
  }
}

/** Break the lease by hand (`routeros-gitops state break-lease`): returns the lease that was there. */
export async function breakLease(store: StateStore): Promise<Lease | null> {
  const before = await store.readLease();
  if (!before?.holder) return before;
  await store.changeLease((cur) => (cur?.holder ? brokenLease(cur) : null));
  return before;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
