// The applied state stored in the repository itself, on a dedicated ref. Each write is a commit
// whose parent is the previous state commit (the ref's history is the audit log), made without
// touching the index, the working tree or HEAD, and published with compare-and-swap
// (`update-ref <ref> <new> <old>`). With a remote, the ref is fetched and merged before reading
// and pushed with a lease after each write, so every clone converges on one state.
//
// Tree of a state commit:
//   format.json                {"version": 1}
//   sites/<xx>/<site_id>.json  one SiteState per site, stable pretty JSON, in 256 buckets
// so recording one job's outcome rewrites one small blob and three small trees, whatever the
// size of the fleet (see siteFilePath).
//
// Crash safety: every object of a commit is written (fast-import has exited) before update-ref
// moves the ref, and update-ref is atomic, so a writer killed at any point leaves the old state or
// the new one. On power loss the objects are as durable as `git commit` makes them (core.fsync).
import { createHash } from 'node:crypto';
import { GitError, InputError, StateConflictError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import type { StateIndex, StateStore } from '../core/ports.js';
import {
  applyUpdates,
  emptyState,
  mergeRecord,
  STATE_FORMAT_VERSION,
  type AppliedState,
  type ScriptRecord,
  type SiteState,
  type StateUpdate,
} from '../core/state.js';
import { writeCommit, type Identity, type TreeChange } from '../git/commit-writer.js';
// Issue 13: one redactor (core/redact.ts); a remote's identity strips credentials without a marker.
import { redactCredentials, stripUrlCredentials } from '../core/redact.js';
import { openRepo, parseDiffTree, type GitRepo } from '../git/repo.js';
import { typeOfMode } from '../core/ports.js';
import { gitError } from '../git/run.js';
import { backoffDelay, checkUpdates, describeUpdates, parseSiteState, siteFilePath, sleep, stableStringify } from './encoding.js';
import { createWriteQueue } from './write-queue.js';

export const DEFAULT_STATE_REF = 'refs/routeros-gitops/state';

/** Who state commits are by: set explicitly so that writing works on machines with no git identity. */
export const STATE_IDENTITY: Identity = { name: 'routeros-gitops', email: 'noreply@routeros-gitops.invalid' };

const FORMAT_FILE = 'format.json';
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
}

/** What this process knows to be in the state commit `head` (valid while the ref is at `head`). */
interface Known {
  head: string | null;
  /** Site id -> its file's text at `head`, or null when the site has no file. */
  sites: Map<string, string | null>;
}

export async function createGitRefStateStore(options: GitRefStateStoreOptions): Promise<GitRefStateStore> {
  const logger = options.logger ?? silentLogger;
  const ref = options.ref ?? DEFAULT_STATE_REF;
  checkRefName(ref);
  const remote = options.remote === '' ? undefined : options.remote;
  if (remote !== undefined && (remote.startsWith('-') || /[\s\0]/.test(remote))) {
    throw new InputError(`${JSON.stringify(redactCredentials(remote))} is not a remote name or URL; pass --state-remote with a remote such as origin`);
  }
  const repo = options.repo ?? (await openRepo(options.cwd ?? process.cwd(), { logger }));
  const maxAttempts = options.maxAttempts ?? 30;
  const trackingRef = remote === undefined ? null : remoteTrackingRef(ref, remote);
  const where = `ref ${ref}`;

  let known: Known | null = null;
  // Plumbing never runs `git gc --auto` by itself: a long-lived writer (the daemon) would pile up
  // loose objects, so it asks for one every GC_EVERY commits (git decides whether it is due).
  let commitsSinceGc = 0;
  let gcRunning: Promise<unknown> | null = null;
  const maybeGc = () => {
    if (++commitsSinceGc < GC_EVERY || gcRunning) return;
    commitsSinceGc = 0;
    gcRunning = repo
      .run(['gc', '--auto', '--quiet'])
      .catch((e: unknown) => logger.warn({ err: (e as Error).message }, 'git gc --auto failed'))
      .finally(() => (gcRunning = null));
  };
  /** The remote's state commit as last seen (null: it has none); undefined: not asked yet. */
  let remoteHead: string | null | undefined;

  // ---- reading -------------------------------------------------------------------------------

  const checkFormat = (text: string | undefined, head: string) => {
    if (text === undefined) {
      throw new InputError(`${ref} (at ${head.slice(0, 12)}) does not hold a routeros-gitops state (no ${FORMAT_FILE}); pass --state-ref with another ref`);
    }
    let version: unknown;
    try {
      version = (JSON.parse(text) as { version?: unknown }).version;
    } catch {
      version = undefined;
    }
    if (version !== STATE_FORMAT_VERSION) {
      throw new Error(
        `the applied state in ${where} has format version ${JSON.stringify(version)}, this routeros-gitops reads version ${STATE_FORMAT_VERSION}; upgrade routeros-gitops`,
      );
    }
  };

  /** The whole state at `head`: one ls-tree and one cat-file, whatever the number of sites. */
  const readState = async (head: string | null): Promise<AppliedState> => {
    if (head === null) {
      known = { head, sites: new Map() };
      return emptyState();
    }
    const entries = await repo.listTree(head, '');
    const files = entries.filter((e) => e.type === 'blob' && (e.path === FORMAT_FILE || (e.path.startsWith('sites/') && e.path.endsWith('.json'))));
    const objects = await repo.readObjects(files.map((e) => e.oid));
    const text = (oid: string) => objects.get(oid)?.content.toString('utf8');
    checkFormat(text(files.find((e) => e.path === FORMAT_FILE)?.oid ?? ''), head);
    const state = emptyState();
    const sites = new Map<string, string | null>();
    for (const e of files) {
      if (e.path === FORMAT_FILE) continue;
      const t = text(e.oid);
      if (t === undefined) throw new GitError(`object ${e.oid} (${e.path} in ${where}) is missing from the repository`, 'git cat-file --batch', 0);
      const site = parseSiteState(t, `${where} ${e.path}`);
      // Only a file at the place the writer uses stands for the site (a stray copy elsewhere, as
      // a hand edit could leave, never shadows it).
      const canonical = siteFilePath(site.site_id) === e.path;
      if (canonical || !state.sites[site.site_id]) state.sites[site.site_id] = site;
      if (canonical) sites.set(site.site_id, t);
    }
    known = { head, sites };
    return state;
  };

  /** The site files of the state commit `head` (one ls-tree, nothing read). */
  const indexAt = async (head: string | null): Promise<StateIndex> => {
    const files = new Map<string, string>();
    if (head !== null) {
      for (const e of await repo.listTree(head, 'sites')) if (e.type === 'blob' && e.path.endsWith('.json')) files.set(e.path, e.oid);
    }
    return { head, files, pathOf: siteFilePath };
  };

  /** The index at `head` from an earlier one: its files patched with what changed between the two commits. */
  const indexFrom = async (base: Pick<StateIndex, 'head' | 'files'>, head: string | null): Promise<StateIndex> => {
    if (head === base.head) return { head, files: base.files, pathOf: siteFilePath };
    if (head === null || base.head === null) return indexAt(head);
    // The site files that changed between the two state commits (a few per write): one process.
    const r = await repo.run(['diff-tree', '-r', '-z', '--no-renames', base.head, head, '--', 'sites'], { okCodes: [128] });
    if (r.exitCode !== 0) return indexAt(head);
    const files = new Map(base.files);
    for (const c of parseDiffTree(r.stdout.toString('utf8'))) {
      if (!c.name.endsWith('.json')) continue;
      if (c.status === 'deleted' || typeOfMode(c.mode) !== 'blob') files.delete(c.name);
      else files.set(c.name, c.oid);
    }
    return { head, files, pathOf: siteFilePath };
  };

  /** The state held by `paths` of `index` (plus a check of the format), read as readState would. */
  const readFiles = async (index: StateIndex, paths: readonly string[]): Promise<AppliedState> => {
    const { head } = index;
    if (head === null) {
      known = { head, sites: new Map() };
      return emptyState();
    }
    const formatName = `${head}:${FORMAT_FILE}`;
    const wanted = paths.filter((p) => index.files.has(p));
    const objects = await repo.readObjects([formatName, ...wanted.map((p) => index.files.get(p)!)]);
    checkFormat(objects.get(formatName)?.content.toString('utf8'), head);
    const state = emptyState();
    const sites = new Map<string, string | null>();
    for (const path of wanted) {
      const oid = index.files.get(path)!;
      const t = objects.get(oid)?.content.toString('utf8');
      if (t === undefined) throw new GitError(`object ${oid} (${path} in ${where}) is missing from the repository`, 'git cat-file --batch', 0);
      const site = parseSiteState(t, `${where} ${path}`);
      const canonicalPath = siteFilePath(site.site_id);
      const canonical = canonicalPath === path;
      // As in readState: a stray copy never shadows the file at the writer's place, read or not.
      if (!canonical && index.files.has(canonicalPath)) continue;
      if (canonical || !state.sites[site.site_id]) state.sites[site.site_id] = site;
      if (canonical) sites.set(site.site_id, t);
    }
    if (known?.head !== head) known = { head, sites };
    else for (const [id, t] of sites) known.sites.set(id, t);
    return state;
  };

  /** Make sure `known` covers `ids`, reading only their files (one cat-file for all of them). */
  const knowSites = async (ids: readonly string[]): Promise<Known> => {
    if (!known) known = { head: await repo.readRef(ref), sites: new Map() };
    const k = known;
    const missing = ids.filter((id) => !k.sites.has(id));
    if (k.head === null) {
      for (const id of missing) k.sites.set(id, null);
    } else if (missing.length > 0) {
      const names = missing.map((id) => `${k.head}:${siteFilePath(id)}`);
      const formatName = `${k.head}:${FORMAT_FILE}`;
      const objects = await repo.readObjects([formatName, ...names]);
      checkFormat(objects.get(formatName)?.content.toString('utf8'), k.head);
      missing.forEach((id, i) => {
        k.sites.set(id, objects.get(names[i]!)?.content.toString('utf8') ?? null);
      });
    }
    return k;
  };

  // ---- writing locally -------------------------------------------------------------------------

  /** Commit `updates` on top of the ref with compare-and-swap, re-reading and retrying on conflict. */
  const writeLocal = async (updates: StateUpdate[]): Promise<void> => {
    const bySite = new Map<string, StateUpdate[]>();
    for (const u of updates) {
      const list = bySite.get(u.site_id);
      if (list) list.push(u);
      else bySite.set(u.site_id, [u]);
    }
    const ids = [...bySite.keys()];
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const k = await knowSites(ids);
      const changes: Array<{ id: string; path: string; content: string }> = [];
      // Sites are independent: read, update and write them down a slice at a time, letting the event
      // loop run in between, so that a large batch (a second of outcomes from 32 lanes) does not
      // hold up the lanes sending jobs for a tenth of a second.
      for (let i = 0; i < ids.length; i += WRITE_SLICE) {
        if (i > 0) await new Promise((r) => setImmediate(r));
        const slice = ids.slice(i, i + WRITE_SLICE);
        const base: AppliedState = emptyState();
        for (const id of slice) {
          const t = k.sites.get(id);
          if (t) base.sites[id] = parseSiteState(t, `${where} ${siteFilePath(id)}`);
        }
        const next = applyUpdates(base, slice.length === ids.length ? updates : slice.flatMap((id) => bySite.get(id)!));
        for (const id of slice) {
          const content = stableStringify(next.sites[id]);
          if (content !== k.sites.get(id)) changes.push({ id, path: siteFilePath(id), content });
        }
      }
      if (changes.length === 0) {
        // Nothing to write, provided what we know is still what the ref holds.
        if ((await repo.readRef(ref)) === k.head) return;
        known = null;
        continue;
      }
      const treeChanges: TreeChange[] = changes.map((c) => ({ path: c.path, content: c.content }));
      if (k.head === null) treeChanges.unshift({ path: FORMAT_FILE, content: FORMAT_TEXT });
      const message = describeUpdates(updates);
      const commit = await writeCommit(repo, { parents: k.head ? [k.head] : [], message, changes: treeChanges, identity: STATE_IDENTITY });
      if (await repo.updateRef(ref, commit, k.head, `routeros-gitops: ${message.split('\n')[0]}`)) {
        for (const c of changes) k.sites.set(c.id, c.content);
        k.head = commit;
        maybeGc();
        logger.debug({ ref, commit, updates: updates.length, sites: changes.length, attempt }, 'state recorded');
        return;
      }
      // Another writer moved the ref: forget what we knew, re-read, re-apply our updates on top.
      known = null;
      logger.debug({ ref, attempt }, 'state ref moved by another writer; retrying');
      await sleep(backoffDelay(attempt));
    }
    throw new StateConflictError(`could not record the applied state in ${where}: other writers moved it ${maxAttempts} times in a row; try again`);
  };

  // ---- the remote --------------------------------------------------------------------------------

  /** Fetch the remote's state into the tracking ref; returns its commit, or null when it has none. */
  const fetchRemote = async (): Promise<string | null> => {
    const args = ['fetch', '--no-tags', '--no-write-fetch-head', '--no-auto-gc', '--no-recurse-submodules', '--quiet', remote!, `+${ref}:${trackingRef!}`];
    const r = await repo.run(args, { okCodes: [1, 128] });
    if (r.exitCode !== 0) {
      if (/couldn't find remote ref/i.test(r.stderr)) {
        remoteHead = null;
        return null;
      }
      throw gitError(args, r.exitCode, r.stderr);
    }
    remoteHead = await repo.readRef(trackingRef!);
    return remoteHead;
  };

  /** Fetch the remote's state and bring the local ref up to it (fast-forward or merge commit). */
  const syncFromRemote = async (): Promise<void> => {
    const theirs = await fetchRemote();
    if (theirs === null) return;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const ours = await repo.readRef(ref);
      if (ours === theirs) return;
      let target: string;
      if (ours === null) target = theirs;
      else {
        const rel = await repo.relation(ours, theirs);
        if (rel === 'same' || rel === 'descendant') return; // we are ahead: the next push publishes it
        target = rel === 'ancestor' ? theirs : await mergeStates(ours, theirs);
      }
      if (await repo.updateRef(ref, target, ours, `routeros-gitops: state from ${redactCredentials(remote!)}`)) {
        known = null;
        logger.debug({ ref, from: ours, to: target }, 'state updated from the remote');
        return;
      }
      known = null;
      await sleep(backoffDelay(attempt));
    }
    throw new StateConflictError(
      `could not bring ${where} up to date with ${redactCredentials(remote!)}: other writers moved it ${maxAttempts} times in a row; try again`,
    );
  };

  /**
   * A merge commit of two diverged state commits. Per site file, three-way against their merge
   * base: a side that did not change a site takes the other side's; when both changed it, the
   * scripts are merged the same way (a script only one side changed takes that side, and when
   * both changed it, mergeRecord decides, as applyUpdates would).
   */
  const mergeStates = async (ours: string, theirs: string): Promise<string> => {
    const mb = await repo.run(['merge-base', ours, theirs], { okCodes: [1] });
    const base = mb.exitCode === 0 ? mb.stdout.toString('utf8').trim() : null;
    const listing = async (c: string | null) =>
      new Map(c === null ? [] : (await repo.listTree(c, 'sites')).filter((e) => e.type === 'blob').map((e) => [e.path, e.oid] as const));
    const [b, o, t] = await Promise.all([listing(base), listing(ours), listing(theirs)]);
    const changes: TreeChange[] = [];
    const both: Array<{ path: string; b?: string; o?: string; t?: string }> = [];
    for (const p of new Set([...o.keys(), ...t.keys()])) {
      const bo = b.get(p);
      const oo = o.get(p);
      const to = t.get(p);
      if (oo === to || to === bo) continue; // same on both sides, or only we changed it
      if (oo === bo) changes.push(to === undefined ? { path: p, delete: true } : { path: p, oid: to });
      else both.push({ path: p, b: bo, o: oo, t: to });
    }
    if (both.length > 0) {
      const objects = await repo.readObjects(both.flatMap((x) => [x.b, x.o, x.t].filter((v): v is string => v !== undefined)));
      const site = (oid: string | undefined, p: string, side: string) =>
        oid === undefined ? undefined : parseSiteState(objects.get(oid)?.content.toString('utf8') ?? 'null', `${side} ${p}`);
      for (const x of both) {
        const merged = await mergeSite(site(x.b, x.path, 'base'), site(x.o, x.path, 'local'), site(x.t, x.path, 'remote'));
        changes.push({ path: x.path, content: stableStringify(merged) });
      }
    }
    const message = `merge state from ${redactCredentials(remote!)}: ${changes.length - both.length} site(s) taken, ${both.length} merged\n`;
    const commit = await writeCommit(repo, { parents: [ours, theirs], message, changes, identity: STATE_IDENTITY });
    logger.info({ ref, ours, theirs, commit, taken: changes.length - both.length, merged: both.length }, 'merged diverged state');
    return commit;
  };

  const mergeSite = async (b: SiteState | undefined, o: SiteState | undefined, t: SiteState | undefined): Promise<SiteState> => {
    // A site deleted on one side and changed on the other keeps the change: never lose a record of a job.
    if (!o) return t!;
    if (!t) return o;
    const same = (x: unknown, y: unknown) => stableStringify(x ?? null) === stableStringify(y ?? null);
    const scripts: Record<string, ScriptRecord> = {};
    for (const path of new Set([...Object.keys(o.scripts), ...Object.keys(t.scripts)])) {
      const bs = b?.scripts[path];
      const os = o.scripts[path];
      const ts = t.scripts[path];
      let pick: ScriptRecord | undefined;
      if (same(os, ts) || same(ts, bs)) pick = os;
      else if (same(os, bs)) pick = ts;
      else if (!os || !ts) pick = os ?? ts;
      else pick = mergeRecord(os, ts);
      if (pick) scripts[path] = pick;
    }
    let lastCommit = o.last_commit;
    if (o.last_commit !== t.last_commit) {
      if (o.last_commit === (b?.last_commit ?? null) || o.last_commit === null) lastCommit = t.last_commit;
      else if (t.last_commit !== (b?.last_commit ?? null) && t.last_commit !== null) {
        // Both moved: the newer commit (the descendant) wins; unrelated ones keep ours.
        if ((await repo.relation(o.last_commit, t.last_commit)) === 'ancestor') lastCommit = t.last_commit;
      }
    }
    return { site: o.site === (b?.site ?? o.site) ? t.site : o.site, site_id: o.site_id, last_commit: lastCommit, scripts };
  };

  /** Publish the local ref with a lease on the remote's ref; on rejection fetch, merge, retry. */
  const push = async (): Promise<void> => {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const ours = await repo.readRef(ref);
      if (remoteHead === undefined) remoteHead = await repo.readRef(trackingRef!);
      if (ours === null || ours === remoteHead) return;
      const args = [
        'push',
        '--no-verify',
        '--porcelain',
        '--no-recurse-submodules',
        remote!,
        `${ours}:${ref}`,
        `--force-with-lease=${ref}:${remoteHead ?? ''}`,
      ];
      const r = await repo.run(args, { okCodes: [1, 128] });
      if (r.exitCode === 0) {
        await repo.run(['update-ref', '-m', 'routeros-gitops: pushed', trackingRef!, ours]);
        remoteHead = ours;
        logger.debug({ ref, remote: redactCredentials(remote!), commit: ours, attempt }, 'state pushed');
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
      logger.debug({ ref, attempt }, 'remote state moved; fetching and merging');
      await sleep(backoffDelay(attempt));
      await syncFromRemote();
    }
    throw new StateConflictError(
      `could not push the applied state to ${redactCredentials(remote!)}: other writers moved it ${maxAttempts} times in a row; try again`,
    );
  };

  const queue = createWriteQueue(
    async (updates) => {
      await writeLocal(updates);
      if (remote !== undefined) await push();
    },
    // Each write is a couple of git processes (and a push with a remote): at most ~10 a second, and
    // about one a second while a burst of outcomes goes on (starting processes takes the CPU the
    // lanes sending jobs need); an outcome is still stored within about a second.
    { minIntervalMs: remote !== undefined ? 250 : 100, maxIntervalMs: 1000 },
  );

  return {
    ref,
    repo,
    trackingRef,
    head: () => repo.readRef(ref),
    async load() {
      if (remote !== undefined) await queue.exclusive(syncFromRemote);
      return readState(await repo.readRef(ref));
    },
    async index() {
      if (remote !== undefined) await queue.exclusive(syncFromRemote);
      return indexAt(await repo.readRef(ref));
    },
    async indexSince(base) {
      if (remote !== undefined) await queue.exclusive(syncFromRemote);
      return indexFrom(base, await repo.readRef(ref));
    },
    loadFiles: readFiles,
    record(updates) {
      try {
        checkUpdates(updates);
      } catch (e) {
        return Promise.reject(e);
      }
      return queue.push(updates);
    },
    async close() {
      await queue.drain();
      await gcRunning;
    },
    describe: () => `ref ${ref}${remote !== undefined ? ` (${redactCredentials(remote)})` : ''}`,
  };
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
  if (!ok) throw new InputError(`${JSON.stringify(ref)} is not a usable state ref; pass --state-ref with a full ref name such as ${DEFAULT_STATE_REF}`);
}
