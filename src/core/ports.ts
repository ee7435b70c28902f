// The outside systems the core needs, as small interfaces. Adapters (src/git, src/state, src/sdx,
// src/github) implement them; tests pass the real adapters against real git and the sandbox.
import type { AppliedState, StateUpdate } from './state.js';
import type { Lease } from './lease.js';
import type { PlanIndexBucket, PlanIndexWrite } from './plan-index.js';

export interface CommitInfo {
  sha: string;
  subject: string;
  /** ISO 8601 committer time. */
  time: string;
}

export interface TreeEntry {
  /** Path relative to the repository root, '/'-separated. */
  path: string;
  /** Git mode: '100644', '100755', '120000' (symlink), '160000' (submodule), '040000'. */
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  oid: string;
  /** Size in bytes for blobs, 0 otherwise. */
  size: number;
}

/** A tree entry's type from its mode. */
export function typeOfMode(mode: string): TreeEntry['type'] {
  return mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob';
}

/** An entry directly in a folder that was added, changed or deleted between two commits. */
export interface DirChange {
  name: string;
  status: 'added' | 'modified' | 'deleted';
  /** The new mode and id (for a deleted entry, the old ones). */
  mode: string;
  oid: string;
}

/** How commit `a` relates to commit `b`. */
export type CommitRelation = 'same' | 'ancestor' | 'descendant' | 'diverged' | 'unknown';

/** Read-only access to the committed tree: the model is never read from the working directory. */
export interface RepoReader {
  /** The repository's top-level directory. */
  readonly root: string;
  /** Resolve a ref to a commit; throws InputError naming the ref when it does not exist. */
  resolveCommit(ref: string): Promise<CommitInfo>;
  /**
   * Every entry under `dir` (repo-relative, '' for the root) at `commit`, recursively, files only;
   * with `only`, just the entries under those paths (files or folders, repo-relative).
   */
  listTree(commit: string, dir: string, only?: readonly string[]): Promise<TreeEntry[]>;
  /**
   * The entries directly in `dir` at `commit`, folders included (their oid identifies their whole
   * content); [] when there is no such folder. Optional: readers without it get full reads.
   */
  listDir?(commit: string, dir: string): Promise<TreeEntry[]>;
  /**
   * Optional: how the entries directly in `dir` changed from commit `from` to commit `to` (one git
   * process, output in proportion to the change); null when git cannot tell (an object is missing,
   * or `dir` is not a folder in one of them).
   */
  diffDir?(from: string, to: string, dir: string): Promise<DirChange[] | null>;
  /** Blob contents by id, read in one batch (one git process for any number of blobs). */
  readBlobs(oids: readonly string[]): Promise<Map<string, Buffer>>;
  /**
   * Optional (issue 18): a reader of several batches of blobs, one after the other, from one git
   * process; close it when done.
   */
  openBlobReader?(): BlobReader;
  /** How commit `a` relates to commit `b` ('ancestor': a is an ancestor of b). */
  relation(a: string, b: string): Promise<CommitRelation>;
}

/** Batches of blobs from one git process (see RepoReader.openBlobReader). */
export interface BlobReader {
  readBlobs(oids: readonly string[]): Promise<Map<string, Buffer>>;
  close(): void;
}

/** What a lease operation found and did (see StateStore.changeLease). */
export interface LeaseResult {
  /** The lease in the state now (after the operation, and after merging another writer's). */
  lease: Lease | null;
  /** Whether the operation took effect (false: the lease was not free, or not ours). */
  changed: boolean;
  /** The state revision the operation was written on (see AppliedState.revision). */
  basedOn: string | null;
}

/** A change of the lease, computed from the current one inside the store's compare-and-swap; null: no change. */
export type LeaseChange = (current: Lease | null) => Lease | null;

/** The applied state's storage: a ref in the repository, or a file. */
export interface StateStore {
  /** Read the current state (fetching it from the remote first when the store has one). */
  load(): Promise<AppliedState>;
  /**
   * Durably record updates. Concurrent writers (other processes) are detected with compare-and-swap,
   * re-read and merged: no update is lost. Resolves once the updates are stored (and pushed).
   */
  record(updates: readonly StateUpdate[]): Promise<void>;
  /**
   * Change the apply lease with compare-and-swap against the current state (fetched from the remote
   * first, and pushed after), after every update recorded before it. `change` gets the lease as it
   * is and returns the new one (or null to leave it).
   */
  changeLease(change: LeaseChange): Promise<LeaseResult>;
  /** The lease as the state holds it now (fetching from the remote first). */
  readLease(): Promise<Lease | null>;
  /** Wait for queued writes, release resources. */
  close(): Promise<void>;
  /** Human description for messages: "ref refs/routeros-gitops/state (origin)", "file state.json". */
  describe(): string;
  /**
   * Optional, for incremental plans: which file holds each site's state now, without reading them
   * (fetching from the remote first, as load does). Stores without it are always read whole.
   */
  index?(): Promise<StateIndex>;
  /**
   * Optional: the index now, from an earlier one of this store (asking git only what changed since
   * its version); the same answer as index().
   */
  indexSince?(base: Pick<StateIndex, 'head' | 'files'>): Promise<StateIndex>;
  /** Optional, with index: the state held by some of the index's files (always read together with `index`). */
  loadFiles?(index: StateIndex, paths: readonly string[]): Promise<AppliedState>;
  /**
   * Optional (issue 18): the plan index kept in the state at `head` (a state commit from `index`),
   * as stored, its entries not yet checked against anything; undefined when there is none, or none
   * that reads right. See core/plan-index.ts.
   */
  readPlanIndex?(head: string | null): Promise<PlanIndexBucket[] | undefined>;
  /** Optional: keep this plan index in the state (one write of what differs; none when nothing does). */
  writePlanIndex?(index: PlanIndexWrite): Promise<void>;
}

/** The files of a state, by path, as stores that keep one file per site have them. */
export interface StateIndex {
  /** The state's version (a commit), or null when there is no state yet. */
  head: string | null;
  /** Each site file's path and content id (a blob id: a changed file has a new one). */
  files: ReadonlyMap<string, string>;
  /** The path of the file that holds a site's state. */
  pathOf(siteId: string): string;
}
