// The apply lease: one apply at a time across every clone that shares the state. It is kept in the
// state itself (so it travels with it: pushed to the remote with the git ref, or inside the state
// file), taken and renewed by compare-and-swap, and expires on its own when its holder stops renewing
// it (a crash). Pure rules here; the stores apply them inside their compare-and-swap, and
// src/apply/lease.ts waits for, renews and releases a lease around a run.

export interface LeaseHolder {
  /** A random id of the run holding it (two runs of one process differ). */
  id: string;
  host: string;
  pid: number;
  /** What holds it: "apply", "watch", "state accept-history"... */
  purpose: string;
  /** The commit the run reconciles, when there is one. */
  commit: string | null;
  started_at: string;
  /**
   * This machine and pid namespace (Linux: boot id and pid namespace), when known: a holder's pid
   * means something only there. Two machines (or containers) with one host name have different ones.
   */
  machine?: string | null;
}

export interface Lease {
  /** null once released. */
  holder: LeaseHolder | null;
  /** After this time the lease is free, unless its holder renewed it. */
  expires_at: string | null;
  /** Counts acquisitions: a later acquisition always has a higher seq (two writers racing for one seq: the remote's wins). */
  seq: number;
  /** When it was last renewed (or taken). */
  renewed_at?: string | null;
  /** How long the holder keeps it without renewing: a waiter that sees it unchanged this long (by its own clock) may take it. */
  ttl_ms?: number;
}

/**
 * Whether a lease may be taken by someone other than its holder. Decided by the caller, which alone
 * can tell: whether the holder is a process of this machine that is gone, and whether the lease has
 * gone unrenewed for its ttl as measured by the caller's own clock (never by comparing another
 * machine's clock with this one's).
 */
export type LeaseFree = (lease: Lease) => boolean;

/** The lease after `holder` takes it, or null when another holder still has it. */
export function takeLease(current: Lease | null, holder: LeaseHolder, ttlMs: number, now: Date, free: LeaseFree): Lease | null {
  if (current?.holder?.id === holder.id) return renewLease(current, holder.id, ttlMs, now);
  if (current?.holder && !free(current)) return null;
  return { holder, expires_at: new Date(now.getTime() + ttlMs).toISOString(), seq: (current?.seq ?? 0) + 1, renewed_at: now.toISOString(), ttl_ms: ttlMs };
}

/** The lease renewed by its holder, or null when it is not `holderId`'s any more. */
export function renewLease(current: Lease | null, holderId: string, ttlMs: number, now: Date): Lease | null {
  if (current?.holder?.id !== holderId) return null;
  return { ...current, expires_at: new Date(now.getTime() + ttlMs).toISOString(), renewed_at: now.toISOString() };
}

/** The lease released by its holder, or null when it is not `holderId`'s (nothing to release). */
export function releaseLease(current: Lease | null, holderId: string): Lease | null {
  if (current?.holder?.id !== holderId) return null;
  return { holder: null, expires_at: null, seq: current.seq, renewed_at: current.renewed_at ?? null };
}

/** A lease broken by hand: free whoever held it (the next acquisition gets a higher seq). */
export function brokenLease(current: Lease | null): Lease {
  return { holder: null, expires_at: null, seq: current?.seq ?? 0, renewed_at: current?.renewed_at ?? null };
}

/**
 * Two writers changed the lease concurrently (the state merged two histories): the later
 * acquisition wins; for the same acquisition, its latest renewal (or its release); two different
 * holders with the same seq raced for one acquisition, and the one already on the remote (theirs)
 * won it, since its holder was told so by its successful push.
 */
export function mergeLease(ours: Lease | null, theirs: Lease | null): Lease | null {
  if (!ours) return theirs;
  if (!theirs) return ours;
  if (ours.seq !== theirs.seq) return ours.seq > theirs.seq ? ours : theirs;
  const oh = ours.holder?.id ?? null;
  const th = theirs.holder?.id ?? null;
  if (oh === th) return (ours.renewed_at ?? '') > (theirs.renewed_at ?? '') ? ours : theirs;
  // One side released (holder null) what the other still renews: the release is the later fact.
  if (oh === null && th !== null && ours.renewed_at === theirs.renewed_at) return ours;
  if (th === null && oh !== null && ours.renewed_at === theirs.renewed_at) return theirs;
  return theirs;
}

/** "pid 123 on host ci-1 (apply at abc1234, since 2026-11-30T10:00:00Z, expires 10:02:00Z)" */
export function describeHolder(lease: Lease): string {
  const h = lease.holder;
  if (!h) return 'nobody';
  const what = `${h.purpose}${h.commit ? ` at ${h.commit.slice(0, 7)}` : ''}`;
  return `pid ${h.pid} on host ${h.host} (${what}, since ${h.started_at}${lease.expires_at ? `, expires ${lease.expires_at}` : ''})`;
}

/** Parse a stored lease; null when absent. Throws naming `where` when malformed. */
export function parseLease(text: string | undefined, where: string): Lease | null {
  if (text === undefined || text.trim() === '') return null;
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch (e) {
    throw new Error(`the apply lease in ${where} is not valid JSON (${(e as Error).message}); break it with \`routeros-gitops state break-lease\``);
  }
  const l = d as Partial<Lease> | null;
  if (!l || typeof l !== 'object' || typeof l.seq !== 'number' || !(l.holder === null || typeof l.holder === 'object')) {
    throw new Error(`the apply lease in ${where} is malformed; break it with \`routeros-gitops state break-lease\``);
  }
  return l as Lease;
}
