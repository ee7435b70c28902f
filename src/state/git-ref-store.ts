// The applied state stored in the repository itself, on a dedicated ref. Each write is a commit
// whose parent is the previous state commit (the ref's history is the audit log), made without
// touching the index, the working tree or HEAD, and published with compare-and-swap
// (`update-ref <ref> <new> <old>`). With a remote, the ref is fetched and merged before reading
// and pushed with a lease after each write, so every clone converges on one state.
//
// Tree of a state commit:
//   format.json                {"version": 2}
//   lease.json                 the apply lease (core/lease.ts), when one was ever taken
//   sites/<xx>/<site_id>.json  one SiteState per site, stable pretty JSON, in 256 buckets
//   plan-index/<xx>.json       what the next plan needs (state/plan-index-file.ts), written by apply
// so recording one job's outcome rewrites one small blob and three small trees, whatever the
// size of the fleet (see siteFilePath).
//
// Crash safety: every object of a commit is written (fast-import has exited) before update-ref
// moves the ref, and update-ref is atomic, so a writer killed at any point leaves the old state or
// the new one. On power loss the objects are as durable as `git commit` makes them (core.fsync).
import { createHash } from 'node:crypto';
import { GitError, InputError, StateConflictError } from '../core/errors.js';
import { parseLease, type Lease } from '../core/lease.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { typeOfMode, type LeaseChange, type LeaseResult, type StateIndex, type StateStore } from '../core/ports.js';
import { applyUpdates, checkFormatVersion, emptyState, STATE_FORMAT_VERSION, type AppliedState, type StateUpdate } from '../core/state.js';
import { writeCommit, type Identity, type TreeChange } from '../git/commit-writer.js';
// Issue 13: one redactor (core/redact.ts); a remote's identity strips credentials without a marker.
import { redactCredentials, stripUrlCredentials } from '../core/redact.js';
import { openRepo, parseDiffTree, type GitRepo } from '../git/repo.js';
import { gitError } from '../git/run.js';
import type { GitObject } from '../git/cat-file.js';
import { backoffDelay, checkUpdates, describeUpdates, parseSiteState, siteFilePath, sleep, stableStringify } from './encoding.js';
import { FORMAT_FILE, LEASE_FILE, mergeStates } from './state-merge.js';
import type { PlanIndexBucket, PlanIndexWrite } from '../core/plan-index.js';
import { blobId, decodePlanIndexBucket, encodePlanIndex, PLAN_INDEX_BUCKETS, PLAN_INDEX_DIR } from './plan-index-file.js';
import { createWriteQueue, type WriteQueue } from './write-queue.js';

export const DEFAULT_STATE_REF = 'refs/routeros-gitops/state';

/** Who state commits are by: set explicitly so that writing works on machines with no git identity. */
export const STATE_IDENTITY: Identity = { name: 'routeros-gitops', email: 'noreply@routeros-gitops.invalid' };

const GC_EVERY = 50;
/** Sites a write reads, updates and serialises between two turns of the event loop. */
const WRITE_SLICE = 50;
const FORMAT_TEXT = stableStringify({ version: STATE_FORMAT_VERSION });

export interface GitRefStateStoreOptions {
  /** The repository to store the state in. Give this or `cwd`. */
  readonly repo?: GitRepo;
  /** A folder inside the repository, when `repo` is not given. */
  readonly cwd?: string;
  /** The ref that holds the state. Default: 'refs/routeros-gitops/state'. */
  readonly ref?: string;
  /** A remote (name or URL) to fetch the state from and push it to. Default: none, local only. */
  readonly remote?: string;
  /** Default: silent. */
  readonly logger?: Logger;
  /** Attempts for one write when other writers keep moving the ref. Default: 30. */
  readonly maxAttempts?: number;
}

export interface GitRefStateStore extends StateStore {
  readonly ref: string;
  readonly repo: GitRepo;
  /** The ref that mirrors the remote's state ref, when there is a remote. */
  readonly trackingRef: string | null;
  /** The state commit the ref points to now, or null before the first write. */
  head(): Promise<string | null>;
  index(): Promise<StateIndex>;
  readPlanIndex(head: string | null): Promise<PlanIndexBucket[] | undefined>;
  writePlanIndex(index: PlanIndexWrite): Promise<void>;
}

/** What this process knows to be in the state commit `head` (valid while the ref is at `head`). */
interface Known {
  head: string | null;
  /** Site id -> its file's text at `head`, or null when the site has no file. */
  sites: Map<string, string | null>;
  /** The format version at `head` (null: no state yet), once read. */
  format?: number | null;
}

export async function createGitRefStateStore(options: GitRefStateStoreOptions): Promise<GitRefStateStore> {
  const ref = options.ref ?? DEFAULT_STATE_REF;
  checkRefName(ref);
  const remote = options.remote === '' ? undefined : options.remote;
  if (remote !== undefined && (remote.startsWith('-') || /[\s\0]/.test(remote))) {
    throw new InputError(`${JSON.stringify(redactCredentials(remote))} is not a remote name or URL; pass --state-remote with a remote such as origin`);
  }
  const logger = options.logger ?? silentLogger;
  const repo = options.repo ?? (await openRepo(options.cwd ?? process.cwd(), { logger }));
  return new GitRefStore(repo, ref, remote, logger, options.maxAttempts ?? 30);
}

class GitRefStore implements GitRefStateStore {
  readonly trackingRef: string | null;
  private readonly where: string;
  private known: Known | null = null;
  /** The remote's state commit as last seen (null: it has none); undefined: not asked yet. */
  private remoteHead: string | null | undefined;
  private commitsSinceGc = 0;
  private gcRunning: Promise<unknown> | null = null;
  private readonly queue: WriteQueue;
  /** The plan index's files being read ahead by index() (see readPlanIndex). */
  private planIndexAhead: { head: string; objects: Promise<Map<string, GitObject | null>> } | null = null;

  constructor(
    readonly repo: GitRepo,
    readonly ref: string,
    private readonly remote: string | undefined,
    private readonly logger: Logger,
    private readonly maxAttempts: number,
  ) {
    this.trackingRef = remote === undefined ? null : remoteTrackingRef(ref, remote);
    this.where = `ref ${ref}`;
    this.queue = createWriteQueue(
      async (updates) => {
        await this.writeLocal(updates);
        if (this.remote !== undefined) await this.push();
      },
      // Each write is a couple of git processes (and a push with a remote): at most ~10 a second, and
      // about one a second while a burst of outcomes goes on (starting processes takes the CPU the
      // lanes sending jobs need); an outcome is still stored within about a second.
      { minIntervalMs: remote !== undefined ? 250 : 100, maxIntervalMs: 1000 },
    );
  }

  // ---- the StateStore interface --------------------------------------------------------------

  head(): Promise<string | null> {
    return this.repo.readRef(this.ref);
  }

  async load(): Promise<AppliedState> {
    await this.syncIfRemote();
    return this.readState(await this.repo.readRef(this.ref));
  }

  async index(): Promise<StateIndex> {
    await this.syncIfRemote();
    const head = await this.repo.readRef(this.ref);
    // A plan that asks for the whole index has no snapshot of its own: it will want the plan index
    // too, so git reads it while it lists the site files.
    if (head !== null) this.planIndexAhead = { head, objects: this.readPlanIndexObjects(head) };
    return this.indexAt(head);
  }

  async indexSince(base: Pick<StateIndex, 'head' | 'files'>): Promise<StateIndex> {
    await this.syncIfRemote();
    return this.indexFrom(base, await this.repo.readRef(this.ref));
  }

  loadFiles(index: StateIndex, paths: readonly string[]): Promise<AppliedState> {
    return this.readFiles(index, paths);
  }

  // Issue 18: the plan index (state/plan-index-file.ts), read by plans and written by apply.
  async readPlanIndex(head: string | null): Promise<PlanIndexBucket[] | undefined> {
    if (head === null) return undefined;
    const ahead = this.planIndexAhead?.head === head ? this.planIndexAhead.objects : undefined;
    this.planIndexAhead = null;
    const objects = await (ahead ?? this.readPlanIndexObjects(head));
    const buckets: PlanIndexBucket[] = [];
    for (const o of objects.values()) {
      const b = o?.type === 'blob' ? decodePlanIndexBucket(o.content.toString('utf8')) : undefined;
      if (b) buckets.push(b);
    }
    return buckets;
  }

  /** Every bucket the index can have, by name: one git process, no listing first. */
  private readPlanIndexObjects(head: string): Promise<Map<string, GitObject | null>> {
    const read = this.repo.readObjects(PLAN_INDEX_BUCKETS.map((p) => `${head}:${p}`));
    read.catch(() => {}); // awaited by readPlanIndex, or never needed
    return read;
  }

  writePlanIndex(index: PlanIndexWrite): Promise<void> {
    const files = encodePlanIndex(index);
    return this.queue.exclusive(async () => {
      const wrote = await this.writePlanIndexLocal(files, index.sites.size);
      if (wrote && this.remote !== undefined) await this.push();
    });
  }

  record(updates: readonly StateUpdate[]): Promise<void> {
    try {
      checkUpdates(updates);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.queue.push(updates);
  }

  changeLease(change: LeaseChange): Promise<LeaseResult> {
    return this.queue.exclusive(async () => {
      if (this.remote !== undefined) await this.syncFromRemote();
      const result = await this.writeLocal([], change);
      if (this.remote !== undefined && result.changed) {
        await this.push();
        // A push that raced another clone merged the two leases: the one in the state now decides.
        result.lease = await this.leaseAt(await this.repo.readRef(this.ref));
      }
      return result;
    });
  }

  async readLease(): Promise<Lease | null> {
    await this.syncIfRemote();
    return this.leaseAt(await this.repo.readRef(this.ref));
  }

  async close(): Promise<void> {
    await this.queue.drain();
    await this.gcRunning;
  }

  describe(): string {
    return `ref ${this.ref}${this.remote !== undefined ? ` (${redactCredentials(this.remote)})` : ''}`;
  }

  // ---- reading -------------------------------------------------------------------------------

  private async syncIfRemote(): Promise<void> {
    if (this.remote !== undefined) await this.queue.exclusive(() => this.syncFromRemote());
  }

  private formatOf(text: string | undefined, head: string): number {
    if (text === undefined) {
      throw new InputError(
        `${this.ref} (at ${head.slice(0, 12)}) does not hold a routeros-gitops state (no ${FORMAT_FILE}); pass --state-ref with another ref`,
      );
    }
    let version: unknown;
    try {
      version = (JSON.parse(text) as { version?: unknown }).version;
    } catch {
      version = undefined;
    }
    checkFormatVersion(version, this.where);
    return version as number;
  }

  /** Parse the site files read at `head` into `state` and `sites` (the texts of canonical files). */
  private addSite(
    state: AppliedState,
    sites: Map<string, string | null>,
    path: string,
    text: string | undefined,
    oid: string,
    skipStray: (canonical: string) => boolean,
  ): void {
    if (text === undefined) throw new GitError(`object ${oid} (${path} in ${this.where}) is missing from the repository`, 'git cat-file --batch', 0);
    const site = parseSiteState(text, `${this.where} ${path}`);
    // Only a file at the place the writer uses stands for the site (a stray copy elsewhere, as a
    // hand edit could leave, never shadows it).
    const canonicalPath = siteFilePath(site.site_id);
    const canonical = canonicalPath === path;
    if (!canonical && skipStray(canonicalPath)) return;
    if (canonical || !state.sites[site.site_id]) state.sites[site.site_id] = site;
    if (canonical) sites.set(site.site_id, text);
  }

  /** The whole state at `head`: one ls-tree and one cat-file, whatever the number of sites. */
  private async readState(head: string | null): Promise<AppliedState> {
    if (head === null) {
      this.known = { head, sites: new Map(), format: null };
      return { ...emptyState(), revision: null };
    }
    const entries = await this.repo.listTree(head, '');
    const files = entries.filter((e) => e.type === 'blob' && (e.path === FORMAT_FILE || (e.path.startsWith('sites/') && e.path.endsWith('.json'))));
    const objects = await this.repo.readObjects(files.map((e) => e.oid));
    const text = (oid: string) => objects.get(oid)?.content.toString('utf8');
    const format = this.formatOf(text(files.find((e) => e.path === FORMAT_FILE)?.oid ?? ''), head);
    const state: AppliedState = { ...emptyState(), revision: head };
    const sites = new Map<string, string | null>();
    for (const e of files) if (e.path !== FORMAT_FILE) this.addSite(state, sites, e.path, text(e.oid), e.oid, () => false);
    this.known = { head, sites, format };
    return state;
  }

  /** The site files of the state commit `head` (one ls-tree, nothing read). */
  private async indexAt(head: string | null): Promise<StateIndex> {
    const files = new Map<string, string>();
    if (head !== null) {
      for (const e of await this.repo.listTree(head, 'sites')) if (e.type === 'blob' && e.path.endsWith('.json')) files.set(e.path, e.oid);
    }
    return { head, files, pathOf: siteFilePath };
  }

  /** The index at `head` from an earlier one: its files patched with what changed between the two commits. */
  private async indexFrom(base: Pick<StateIndex, 'head' | 'files'>, head: string | null): Promise<StateIndex> {
    if (head === base.head) return { head, files: base.files, pathOf: siteFilePath };
    if (head === null || base.head === null) return this.indexAt(head);
    // The site files that changed between the two state commits (a few per write): one process.
    const r = await this.repo.run(['diff-tree', '-r', '-z', '--no-renames', base.head, head, '--', 'sites'], { okCodes: [128] });
    if (r.exitCode !== 0) return this.indexAt(head);
    const files = new Map(base.files);
    for (const c of parseDiffTree(r.stdout.toString('utf8'))) {
      if (!c.name.endsWith('.json')) continue;
      if (c.status === 'deleted' || typeOfMode(c.mode) !== 'blob') files.delete(c.name);
      else files.set(c.name, c.oid);
    }
    return { head, files, pathOf: siteFilePath };
  }

  /** The state held by `paths` of `index` (plus a check of the format), read as readState would. */
  private async readFiles(index: StateIndex, paths: readonly string[]): Promise<AppliedState> {
    const { head } = index;
    if (head === null) {
      this.known = { head, sites: new Map(), format: null };
      return { ...emptyState(), revision: null };
    }
    const formatName = `${head}:${FORMAT_FILE}`;
    const wanted = paths.filter((p) => index.files.has(p));
    const objects = await this.repo.readObjects([formatName, ...wanted.map((p) => index.files.get(p)!)]);
    const format = this.formatOf(objects.get(formatName)?.content.toString('utf8'), head);
    const state: AppliedState = { ...emptyState(), revision: head };
    const sites = new Map<string, string | null>();
    for (const path of wanted) {
      const oid = index.files.get(path)!;
      // As in readState: a stray copy never shadows the file at the writer's place, read or not.
      this.addSite(state, sites, path, objects.get(oid)?.content.toString('utf8'), oid, (canonical) => index.files.has(canonical));
    }
    if (this.known?.head !== head) this.known = { head, sites, format };
    else for (const [id, t] of sites) this.known.sites.set(id, t);
    return state;
  }

  /** Make sure `known` covers `ids` and the format, reading only their files (one cat-file for all of them). */
  private async knowSites(ids: readonly string[]): Promise<Known> {
    if (!this.known) this.known = { head: await this.repo.readRef(this.ref), sites: new Map() };
    const k = this.known;
    const missing = ids.filter((id) => !k.sites.has(id));
    if (k.head === null) {
      for (const id of missing) k.sites.set(id, null);
      k.format = null;
    } else if (missing.length > 0 || k.format === undefined) {
      const names = missing.map((id) => `${k.head}:${siteFilePath(id)}`);
      const formatName = `${k.head}:${FORMAT_FILE}`;
      const objects = await this.repo.readObjects([formatName, ...names]);
      k.format = this.formatOf(objects.get(formatName)?.content.toString('utf8'), k.head);
      missing.forEach((id, i) => {
        k.sites.set(id, objects.get(names[i]!)?.content.toString('utf8') ?? null);
      });
    }
    return k;
  }

  private async leaseAt(head: string | null): Promise<Lease | null> {
    if (head === null) return null;
    const name = `${head}:${LEASE_FILE}`;
    const objects = await this.repo.readObjects([name]);
    return parseLease(objects.get(name)?.content.toString('utf8'), this.where);
  }

  // ---- writing locally -------------------------------------------------------------------------

  /** The site files `updates` change at `k` (texts), computed a slice of sites at a time. */
  private async siteChanges(k: Known, updates: readonly StateUpdate[]): Promise<Array<{ id: string; path: string; content: string }>> {
    const bySite = new Map<string, StateUpdate[]>();
    for (const u of updates) {
      const list = bySite.get(u.site_id);
      if (list) list.push(u);
      else bySite.set(u.site_id, [u]);
    }
    const ids = [...bySite.keys()];
    const changes: Array<{ id: string; path: string; content: string }> = [];
    // Sites are independent: read, update and write them down a slice at a time, letting the event
    // loop run in between, so that a large batch (a second of outcomes from 32 lanes) does not hold
    // up the lanes sending jobs for a tenth of a second.
    for (let i = 0; i < ids.length; i += WRITE_SLICE) {
      if (i > 0) await new Promise((r) => setImmediate(r));
      const slice = ids.slice(i, i + WRITE_SLICE);
      const base: AppliedState = emptyState();
      for (const id of slice) {
        const t = k.sites.get(id);
        if (t) base.sites[id] = parseSiteState(t, `${this.where} ${siteFilePath(id)}`);
      }
      const next = applyUpdates(base, slice.length === ids.length ? updates : slice.flatMap((id) => bySite.get(id)!));
      for (const id of slice) {
        const content = stableStringify(next.sites[id]);
        if (content !== k.sites.get(id)) changes.push({ id, path: siteFilePath(id), content });
      }
    }
    return changes;
  }

  /**
   * Commit `updates` (and a lease change) on top of the ref with compare-and-swap, re-reading and
   * retrying on conflict; a lease change is recomputed from the lease found at each attempt.
   */
  private async writeLocal(updates: readonly StateUpdate[], leaseChange?: LeaseChange): Promise<LeaseResult> {
    const ids = [...new Set(updates.map((u) => u.site_id))];
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const k = await this.knowSites(ids);
      const changes = await this.siteChanges(k, updates);
      let lease: Lease | null = null;
      let newLease: Lease | null = null;
      if (leaseChange) {
        lease = await this.leaseAt(k.head);
        newLease = leaseChange(lease);
      }
      const result: LeaseResult = { lease: newLease ?? lease, changed: newLease !== null, basedOn: k.head };
      if (changes.length === 0 && newLease === null) {
        // Nothing to write, provided what we know is still what the ref holds.
        if ((await this.repo.readRef(this.ref)) === k.head) return result;
        this.known = null;
        continue;
      }
      const treeChanges: TreeChange[] = changes.map((c) => ({ path: c.path, content: c.content }));
      if (k.format !== STATE_FORMAT_VERSION) treeChanges.unshift({ path: FORMAT_FILE, content: FORMAT_TEXT });
      if (newLease) treeChanges.push({ path: LEASE_FILE, content: stableStringify(newLease) });
      const message = updates.length
        ? describeUpdates(updates)
        : `lease: ${newLease?.holder ? `held by ${newLease.holder.purpose} ${newLease.holder.id}` : 'released'}\n`;
      const commit = await writeCommit(this.repo, { parents: k.head ? [k.head] : [], message, changes: treeChanges, identity: STATE_IDENTITY });
      if (await this.repo.updateRef(this.ref, commit, k.head, `routeros-gitops: ${message.split('\n')[0]}`)) {
        for (const c of changes) k.sites.set(c.id, c.content);
        k.head = commit;
        k.format = STATE_FORMAT_VERSION;
        this.maybeGc();
        this.logger.debug({ ref: this.ref, commit, updates: updates.length, sites: changes.length, lease: !!newLease, attempt }, 'state recorded');
        return result;
      }
      // Another writer moved the ref: forget what we knew, re-read, re-apply our updates on top.
      this.known = null;
      this.logger.debug({ ref: this.ref, attempt }, 'state ref moved by another writer; retrying');
      await sleep(backoffDelay(attempt));
    }
    throw new StateConflictError(`could not record the applied state in ${this.where}: other writers moved it ${this.maxAttempts} times in a row; try again`);
  }

  /** Commit the plan index's files that differ from the state's (compare-and-swap); false when none did. */
  private async writePlanIndexLocal(files: ReadonlyMap<string, string>, sites: number): Promise<boolean> {
    const format = this.repo.zeroOid.length === 64 ? 'sha256' : 'sha1';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const head = await this.repo.readRef(this.ref);
      if (head === null) return false; // no state yet: nothing the index could stand for
      const current = new Map((await this.repo.listTree(head, PLAN_INDEX_DIR)).map((e) => [e.path, e.oid] as const));
      const changes: TreeChange[] = [];
      for (const [path, text] of files) if (current.get(path) !== blobId(text, format)) changes.push({ path, content: text });
      for (const path of current.keys()) if (!files.has(path)) changes.push({ path, delete: true });
      if (!changes.length) return false;
      const message = `plan index: ${sites} site${sites === 1 ? '' : 's'} with nothing to send (${changes.length} file${changes.length === 1 ? '' : 's'} changed)\n`;
      const commit = await writeCommit(this.repo, { parents: [head], message, changes, identity: STATE_IDENTITY });
      if (await this.repo.updateRef(this.ref, commit, head, `routeros-gitops: ${message.trim()}`)) {
        // The site files are those of `head`: what this process knows of them still holds.
        if (this.known?.head === head) this.known.head = commit;
        this.maybeGc();
        this.logger.debug({ ref: this.ref, commit, sites, files: changes.length, attempt }, 'plan index recorded');
        return true;
      }
      await sleep(backoffDelay(attempt));
    }
    throw new StateConflictError(`could not record the plan index in ${this.where}: other writers moved it ${this.maxAttempts} times in a row; try again`);
  }

  /** Plumbing never runs `git gc --auto` by itself: a long-lived writer (the daemon) asks every GC_EVERY commits. */
  private maybeGc(): void {
    if (++this.commitsSinceGc < GC_EVERY || this.gcRunning) return;
    this.commitsSinceGc = 0;
    this.gcRunning = this.repo
      .run(['gc', '--auto', '--quiet'])
      .catch((e: unknown) => this.logger.warn({ err: (e as Error).message }, 'git gc --auto failed'))
      .finally(() => {
        this.gcRunning = null;
      });
  }

  // ---- the remote --------------------------------------------------------------------------------

  /** Fetch the remote's state into the tracking ref; returns its commit, or null when it has none. */
  private async fetchRemote(): Promise<string | null> {
    const args = [
      'fetch',
      '--no-tags',
      '--no-write-fetch-head',
      '--no-auto-gc',
      '--no-recurse-submodules',
      '--quiet',
      this.remote!,
      `+${this.ref}:${this.trackingRef!}`,
    ];
    const r = await this.repo.run(args, { okCodes: [1, 128] });
    if (r.exitCode !== 0) {
      if (/couldn't find remote ref/i.test(r.stderr)) {
        this.remoteHead = null;
        return null;
      }
      throw gitError(args, r.exitCode, r.stderr);
    }
    this.remoteHead = await this.repo.readRef(this.trackingRef!);
    return this.remoteHead;
  }

  /** Fetch the remote's state and bring the local ref up to it (fast-forward or merge commit). */
  private async syncFromRemote(): Promise<void> {
    const theirs = await this.fetchRemote();
    if (theirs === null) return;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const ours = await this.repo.readRef(this.ref);
      if (ours === theirs) return;
      let target: string;
      if (ours === null) target = theirs;
      else {
        const rel = await this.repo.relation(ours, theirs);
        if (rel === 'same' || rel === 'descendant') return; // we are ahead: the next push publishes it
        target =
          rel === 'ancestor'
            ? theirs
            : await mergeStates({
                repo: this.repo,
                ours,
                theirs,
                identity: STATE_IDENTITY,
                remoteName: redactCredentials(this.remote!),
                logger: this.logger,
                ref: this.ref,
              });
      }
      if (await this.repo.updateRef(this.ref, target, ours, `routeros-gitops: state from ${redactCredentials(this.remote!)}`)) {
        this.known = null;
        this.logger.debug({ ref: this.ref, from: ours, to: target }, 'state updated from the remote');
        return;
      }
      this.known = null;
      await sleep(backoffDelay(attempt));
    }
    throw new StateConflictError(
      `could not bring ${this.where} up to date with ${redactCredentials(this.remote!)}: other writers moved it ${this.maxAttempts} times in a row; try again`,
    );
  }

  /** Publish the local ref with a lease on the remote's ref; on rejection fetch, merge, retry. */
  private async push(): Promise<void> {
    const remote = this.remote!;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const ours = await this.repo.readRef(this.ref);
      if (this.remoteHead === undefined) this.remoteHead = await this.repo.readRef(this.trackingRef!);
      if (ours === null || ours === this.remoteHead) return;
      const args = [
        'push',
        '--no-verify',
        '--porcelain',
        '--no-recurse-submodules',
        remote,
        `${ours}:${this.ref}`,
        `--force-with-lease=${this.ref}:${this.remoteHead ?? ''}`,
      ];
      const r = await this.repo.run(args, { okCodes: [1, 128] });
      if (r.exitCode === 0) {
        await this.repo.run(['update-ref', '-m', 'routeros-gitops: pushed', this.trackingRef!, ours]);
        this.remoteHead = ours;
        this.logger.debug({ ref: this.ref, remote: redactCredentials(remote), commit: ours, attempt }, 'state pushed');
        return;
      }
      const out = `${r.stdout.toString('utf8')}\n${r.stderr}`;
      // Rejected by the lease, or the remote lost a race to update its ref: someone else pushed
      // first. A hook declining the push, or no access, is not something retrying can fix.
      const raced =
        /\[rejected\].*(stale info|fetch first|non-fast-forward)|\[remote rejected\] \((failed to update ref|failed to lock|incorrect old value provided)\)/.test(
          out,
        );
      if (r.exitCode !== 1 || !raced) throw gitError(args, r.exitCode, out);
      // Take their state in, then try again.
      this.logger.debug({ ref: this.ref, attempt }, 'remote state moved; fetching and merging');
      await sleep(backoffDelay(attempt));
      await this.syncFromRemote();
    }
    throw new StateConflictError(
      `could not push the applied state to ${redactCredentials(remote)}: other writers moved it ${this.maxAttempts} times in a row; try again`,
    );
  }
}

/** Where a remote's state ref is mirrored: refs/routeros-gitops/remotes/<remote>/state. */
export function remoteTrackingRef(ref: string, remote: string): string {
  const name =
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(remote) && !remote.endsWith('.lock')
      ? remote
      : `url-${createHash('sha256').update(stripUrlCredentials(remote)).digest('hex').slice(0, 16)}`;
  const rest = ref.startsWith('refs/routeros-gitops/') ? ref.slice('refs/routeros-gitops/'.length) : ref.slice('refs/'.length);
  return `refs/routeros-gitops/remotes/${name}/${rest}`;
}

function checkRefName(ref: string): void {
  const ok =
    ref.startsWith('refs/') &&
    !/[\x00-\x20\x7f~^:?*[\\]|\.\.|@\{|\/\/|\/\.|\.lock(\/|$)/.test(ref) &&
    !ref.endsWith('/') &&
    !ref.endsWith('.') &&
    ref !== 'refs/';
  if (!ref || !ok) throw new InputError(`${JSON.stringify(ref)} is not a usable state ref; pass --state-ref with a full ref name such as ${DEFAULT_STATE_REF}`);
}
