// One core for the three entry points: read the desired fleet at a ref, the applied state, and
// make the plan. Entry points build the adapters (git reader, state store, secrets) and pass them in.
import { InputError, type Problem } from './errors.js';
import type { CommitInfo, CommitRelation, RepoReader, StateIndex, StateStore, TreeEntry } from './ports.js';
import { appliedCommits, type AppliedState } from './state.js';
import { noSecrets, normalizeDir, readFleet, type DesiredFleet, type LintFn, type ParseCache, type SecretSource } from './model.js';
import { renderFleet, type RenderWorkers } from './render-fleet.js';
import { plan, type CleanSite, type Plan } from './plan.js';
import { narrowPlan } from './site-filter.js';
import { typeOfMode } from './ports.js';
import { makeRedactor } from './redact.js';
import { isSiteFolder, snapshotKey, type PlanSnapshot, type SnapshotSite, type SnapshotStore, type TopEntry } from './snapshot.js';
// Issue 18: the plan index kept in the state (a fresh clone plans incrementally).
import { cleanFromPlanIndex, planIndexKeys, type PlanIndexBucket, type PlanIndexWrite } from './plan-index.js';
import { secretScopesClash, secretsKeyInDoubt } from './clean-site-checks.js';

export interface PlanRequest {
  reader: RepoReader;
  state: StateStore | AppliedState;
  ref: string;
  sitesDir: string;
  secrets?: SecretSource;
  lint?: LintFn;
  retryFailed?: boolean;
  /** Read and check every script, not only the changed ones. */
  readAll?: boolean;
  /** Renderings to keep (see RenderOptions.keep). */
  keep?: { display?: boolean; body?: boolean };
  /** Parsed settings files kept between runs; saved once the fleet is read. */
  cache?: ParseCache & { save(opts?: { keepUnused?: boolean }): Promise<void> };
  /**
   * Plan incrementally: take sites that neither changed nor have anything to send from the last
   * plan's snapshot, and save a new one. The result's `desired` and `state` then hold only the sites
   * that were read (`partial`). Used by `plan`; needs a reader with listDir and a store with index.
   */
  snapshot?: SnapshotStore;
  /**
   * Hide the secrets' values in job descriptions (a commit subject may hold one) before they are cut
   * to size: apply sends and reports them. Default false: a plan shows text as committed, since
   * hiding a committer's text that equals a secret would tell them the secret.
   */
  hideSecrets?: boolean;
  /** Issue 14: only the sites matching these names or globs (`--site`); a pattern matching none is an InputError. Default: every site. */
  sitePatterns?: readonly string[];
  /**
   * The caller refuses scripts that use secrets without the state's secrets key, naming them all
   * (apply): an incremental plan then gives way to a full one when a site it did not read uses
   * secrets and the key would be refused. Default: false (plan checks only when given secret values).
   */
  checksSecretsKey?: boolean;
  /** Issue 18: worker threads for the scripts to read (see RenderWorkers). Default: none. */
  workers?: RenderWorkers;
  /** Issue 18: where `lint` keeps its results; saved once the fleet is rendered. */
  checkCache?: { save(): Promise<void> };
}

export interface PlanResult {
  plan: Plan;
  desired: DesiredFleet;
  state: AppliedState;
  warnings: Problem[];
  /** true when `desired` and `state` hold only the sites read (see PlanRequest.snapshot). */
  partial?: boolean;
  /**
   * For an incremental plan: how many sites were taken from the snapshot or the state's plan index
   * (from_state of them from the latter), and how many were read.
   */
  incremental?: { from_snapshot: number; read: number; from_state: number };
  /** For an incremental plan: the plan index this plan would leave in the state (apply writes it; see core/plan-index.ts). */
  planIndex?: PlanIndexWrite;
}

/** Build the plan, or throw InputError listing every problem of the input at once. */
export async function makePlan(req: PlanRequest): Promise<PlanResult> {
  // --site: the whole fleet's plan, narrowed (core/site-filter.ts).
  if (req.sitePatterns?.length) {
    const whole = await makePlan({ ...req, sitePatterns: undefined });
    return { ...whole, plan: narrowPlan(whole.plan, req.sitePatterns) };
  }
  if (req.snapshot && !req.readAll && 'load' in req.state) {
    const incremental = await makeIncrementalPlan(req, req.state, req.snapshot);
    if (incremental) return incremental;
  }
  const commit = await req.reader.resolveCommit(req.ref);
  const state = 'load' in req.state ? await req.state.load() : req.state;
  const model = await readFleet(req.reader, commit, req.sitesDir, req.cache);
  await req.cache?.save();
  const desired = await renderFleet(req.reader, model, state, {
    secrets: req.secrets,
    lint: req.lint,
    readAll: req.readAll,
    retryFailed: req.retryFailed,
    keep: req.keep,
    workers: req.workers,
  });
  await req.checkCache?.save();
  if (desired.problems.length) throw new InputError(desired.problems);
  const relations = await relationsOf(req.reader, commit, appliedCommits(state));
  const p = plan(desired, state, { ref: req.ref, relations, retryFailed: req.retryFailed, redact: secretsRedactor(req) });
  return { plan: p, desired, state, warnings: desired.warnings };
}

async function relationsOf(reader: RepoReader, commit: CommitInfo, lasts: Iterable<string | null | undefined>): Promise<Record<string, CommitRelation>> {
  const relations: Record<string, CommitRelation> = {};
  const distinct = new Set([...lasts].filter((c): c is string => !!c));
  await Promise.all(
    [...distinct].map(async (last) => {
      relations[last] = await reader.relation(commit.sha, last);
    }),
  );
  return relations;
}

/**
 * The plan read incrementally (see PlanRequest.snapshot), or null when it cannot be (the reader or
 * the store lacks the means, the secrets cannot be identified, or a site id moved between a
 * snapshot site and a read one): the caller then makes a full plan.
 */
async function makeIncrementalPlan(req: PlanRequest, store: StateStore, snapshots: SnapshotStore): Promise<PlanResult | null> {
  const { reader } = req;
  const secrets = req.secrets ?? noSecrets;
  if (!reader.listDir || !store.index || !store.loadFiles) return null;
  const identity = secrets.identity?.();
  if (identity === undefined && secrets.values().length) return null;
  const commit = await reader.resolveCommit(req.ref);
  const dir = normalizeDir(req.sitesDir);
  const previous = await snapshots.load();
  // How the planned commit relates to the commits sites were last applied from: asked as soon as
  // one is known (those of the snapshot's sites now, while git lists what changed).
  const relationTo = relationAsker(reader, commit.sha);
  if (previous) for (const s of previous.sites.values()) if (s.last_commit) relationTo(s.last_commit);
  const seen = previous?.seen;
  const indexing = seen && store.indexSince ? store.indexSince(stateIndexOf(previous!)) : store.index();
  // No snapshot (a fresh clone): the state's plan index is read while git lists the sites directory.
  const stored = previous ? undefined : readPlanIndex(store, indexing);
  // No snapshot and no plan index either: every site will be read, so the whole listing is started
  // as soon as that is known (not before: parsing it would slow down a plan that does not need it).
  const everything = stored?.then((b) => (b?.length ? undefined : reader.listTree(commit.sha, dir)));
  everything?.catch(() => {}); // awaited below, or not needed when there is no sites directory
  const [top, index] = await Promise.all([topSince(reader, previous, commit.sha, dir), indexing]);
  if (!top.length) return null; // no sites directory: the full plan says so
  const folders = top.filter(isSiteFolder);
  const shared = top.filter((e) => !isSiteFolder(e));
  const key = snapshotKey({ sitesDir: dir, shared, secrets: identity ?? '', store: store.describe(), retryFailed: !!req.retryFailed });
  const indexKeys = planIndexKeys({ sitesDir: dir, shared, secrets: identity ?? '', retryFailed: !!req.retryFailed });

  const clean = cleanSitesOf(previous, key, folders, index);
  // Sites the snapshot cannot vouch for (none, another key, state files another clone changed):
  // the state's plan index may, when there are more than a few (else reading them costs less).
  const buckets = stored ? await stored : folders.length - clean.size > FEW_SITES ? await readPlanIndex(store, Promise.resolve(index)) : undefined;
  const fromState = cleanFromPlanIndex(buckets ?? [], indexKeys, folders, index.files, index.pathOf, new Set(clean.keys()));
  for (const [name, s] of fromState) clean.set(name, s);
  if (clean.size && secretScopesClash(folders, secrets)) return null;
  const cleanIds = new Set([...clean.values()].map((s) => s.id));
  const cleanPaths = new Set([...clean.values()].map((s) => s.state_path));
  const dirty = folders.filter((e) => !clean.has(e.path.slice(e.path.lastIndexOf('/') + 1)));
  const entries = await entriesToRead(reader, commit.sha, dir, { clean, dirty, shared, everything });
  const statePaths: string[] = [];
  for (const p of index.files.keys()) if (!cleanPaths.has(p)) statePaths.push(p);
  const [model, state] = await Promise.all([readFleet(reader, commit, dir, req.cache, { partial: { entries } }), store.loadFiles(index, statePaths)]);
  await req.cache?.save({ keepUnused: clean.size > 0 });
  // A site id now in a read site (or a state file) that a snapshot site also has: let the full plan
  // sort it out (and word any problem exactly as it does).
  if (model.sites.some((s) => cleanIds.has(s.id)) || Object.keys(state.sites).some((id) => cleanIds.has(id))) return null;
  if (secretsKeyInDoubt(clean, secrets, state, !!req.checksSecretsKey)) return null;
  const desired = await renderFleet(reader, model, state, { secrets, lint: req.lint, retryFailed: req.retryFailed, keep: req.keep, workers: req.workers });
  await req.checkCache?.save();
  if (desired.problems.length) throw new InputError(desired.problems);
  const cleanSites: CleanSite[] = [...clean].map(([name, s]) => ({
    site: name,
    site_id: s.id,
    last_commit: s.last_commit,
    settings: s.settings,
    scripts: s.scripts,
  }));
  const relations: Record<string, CommitRelation> = {};
  const lasts = new Set([...appliedCommits(state), ...cleanSites.map((c) => c.last_commit)]);
  await Promise.all([...lasts].map(async (last) => last && (relations[last] = await relationTo(last))));
  const p = plan(desired, state, { ref: req.ref, relations, retryFailed: req.retryFailed, clean: cleanSites, redact: secretsRedactor(req) });
  const next = nextSnapshot({ key, commit: commit.sha, dir, top, folders, clean, index, plan: p, desired, state });
  if (!sameSnapshot(previous, next)) await snapshots.save(next);
  return {
    plan: p,
    desired,
    state,
    warnings: desired.warnings,
    partial: true,
    incremental: { from_snapshot: clean.size, read: desired.sites.length, from_state: fromState.size },
    planIndex: { keys: indexKeys, sites: next.sites },
  };
}

/** How the planned commit relates to an applied one, asked once per commit (the first ask starts it; a failure surfaces when awaited). */
function relationAsker(reader: RepoReader, sha: string): (last: string) => Promise<CommitRelation> {
  const asked = new Map<string, Promise<CommitRelation>>();
  return (last) => {
    let r = asked.get(last);
    if (!r) {
      r = reader.relation(sha, last);
      r.catch(() => {}); // awaited later when still needed
      asked.set(last, r);
    }
    return r;
  };
}

/** The tree entries of the sites to read and the shared files: listed by path, or (many paths cost git more) all listed and filtered. */
async function entriesToRead(
  reader: RepoReader,
  sha: string,
  dir: string,
  sites: {
    clean: ReadonlyMap<string, unknown>;
    dirty: readonly TreeEntry[];
    shared: readonly TreeEntry[];
    everything: Promise<TreeEntry[] | undefined> | undefined;
  },
): Promise<TreeEntry[]> {
  const { clean, dirty, shared } = sites;
  if (clean.size === 0 || dirty.length > 200) {
    const all = (await sites.everything) ?? (await reader.listTree(sha, dir));
    return all.filter((e) => !clean.has(e.path.slice(dir ? dir.length + 1 : 0).split('/')[0]!));
  }
  return reader.listTree(sha, dir, [
    ...shared.filter((e) => !e.path.slice(e.path.lastIndexOf('/') + 1).startsWith('.')).map((e) => e.path),
    ...dirty.map((e) => e.path),
  ]);
}

/** The template secrets' values hidden in job descriptions (apply: PlanRequest.hideSecrets), or undefined. */
function secretsRedactor(req: PlanRequest): ((text: string) => string) | undefined {
  if (!req.hideSecrets) return undefined;
  const values = req.secrets?.values() ?? [];
  return values.length ? makeRedactor(values) : undefined;
}

/** Below this many sites to read, reading them costs less than reading the state's plan index. */
const FEW_SITES = 16;

/** The state's plan index at the index's head, or undefined when the store keeps none or it cannot be read. */
function readPlanIndex(store: StateStore, indexing: Promise<StateIndex>): Promise<PlanIndexBucket[] | undefined> {
  if (!store.readPlanIndex) return Promise.resolve(undefined);
  const read = store.readPlanIndex;
  // Losing the index costs only time: a failure to read it is no index.
  return indexing.then((i) => read.call(store, i.head)).catch(() => undefined);
}

/** Sites whose folder, state file and key are what the snapshot found with nothing to send. */
function cleanSitesOf(previous: PlanSnapshot | undefined, key: string, folders: TreeEntry[], index: StateIndex): Map<string, SnapshotSite> {
  const clean = new Map<string, SnapshotSite>();
  if (previous?.key !== key) return clean;
  for (const e of folders) {
    const name = e.path.slice(e.path.lastIndexOf('/') + 1);
    const s = previous.sites.get(name);
    if (s && s.tree === e.oid && (index.files.get(s.state_path) ?? null) === s.state) clean.set(name, s);
  }
  return clean;
}

interface SnapshotInput {
  key: string;
  commit: string;
  dir: string;
  /** The entries directly in the sites directory, and the site folders among them. */
  top: TreeEntry[];
  folders: TreeEntry[];
  clean: Map<string, SnapshotSite>;
  index: StateIndex;
  plan: Plan;
  desired: DesiredFleet;
  state: AppliedState;
}

/** The next snapshot: every site (read or not) with nothing to send and nothing to warn about. */
function nextSnapshot(input: SnapshotInput): PlanSnapshot {
  const { dir, index, clean, desired, state } = input;
  const treeOf = new Map(input.folders.map((e) => [e.path.slice(e.path.lastIndexOf('/') + 1), e.oid]));
  const warned = new Set<string>();
  for (const w of desired.warnings) {
    if (w.site) warned.add(w.site);
    const rel = dir ? (w.file.startsWith(`${dir}/`) ? w.file.slice(dir.length + 1) : null) : w.file;
    if (rel !== null) warned.add(rel.split('/')[0]!);
  }
  const read = new Set(desired.sites.map((s) => s.name));
  const usesSecrets = new Set(desired.sites.filter((s) => s.scripts.some((sc) => sc.uses.secrets.length > 0)).map((s) => s.name));
  const next: PlanSnapshot = { key: input.key, sites: new Map() };
  // A site whose scripts moved (or whose folder was renamed) has state still to record: not clean.
  const moved = new Set(input.plan.moves.map((m) => m.site_id));
  for (const sp of input.plan.sites) {
    if (sp.changes.length || warned.has(sp.site) || sp.renamed_from || moved.has(sp.site_id)) continue;
    const tree = treeOf.get(sp.site);
    if (tree === undefined) continue;
    const kept = clean.get(sp.site);
    if (kept) next.sites.set(sp.site, kept);
    else if (read.has(sp.site)) {
      const statePath = index.pathOf(sp.site_id);
      next.sites.set(sp.site, {
        tree,
        state_path: statePath,
        state: index.files.get(statePath) ?? null,
        id: sp.site_id,
        last_commit: state.sites[sp.site_id]?.last_commit ?? null,
        settings: sp.settings,
        scripts: sp.scripts,
        secrets: usesSecrets.has(sp.site),
      });
    }
  }
  // What this plan saw besides the kept sites: the next plan then asks git only for what changed.
  const keptPaths = new Set<string>();
  for (const s of next.sites.values()) if (s.state !== null) keptPaths.add(s.state_path);
  const stateOthers = new Map<string, string>();
  for (const [path, oid] of index.files) if (!keptPaths.has(path)) stateOthers.set(path, oid);
  next.seen = {
    commit: input.commit,
    others: input.top.flatMap((e) => {
      const name = e.path.slice(e.path.lastIndexOf('/') + 1);
      return next.sites.get(name)?.tree === e.oid && e.type === 'tree' ? [] : [{ name, mode: e.mode, type: e.type, oid: e.oid }];
    }),
    state_head: index.head,
    state_others: stateOthers,
  };
  return next;
}

/**
 * The entries directly in the sites directory at `commit`: from the snapshot's and what changed
 * since the commit it saw (one small diff), or listed whole when there is no such snapshot or git
 * cannot diff the two commits.
 */
async function topSince(reader: RepoReader, previous: PlanSnapshot | undefined, commit: string, dir: string): Promise<TreeEntry[]> {
  const seen = previous?.seen;
  const changes = seen && reader.diffDir ? await reader.diffDir(seen.commit, commit, dir) : null;
  if (!seen || changes === null) return reader.listDir!(commit, dir);
  const entries = new Map<string, TopEntry>();
  for (const [name, s] of previous!.sites) entries.set(name, { name, mode: '040000', type: 'tree', oid: s.tree });
  for (const o of seen.others) entries.set(o.name, o);
  for (const c of changes) {
    if (c.status === 'deleted') entries.delete(c.name);
    else entries.set(c.name, { name: c.name, mode: c.mode, type: typeOfMode(c.mode), oid: c.oid });
  }
  return [...entries.values()].map((e) => ({ path: dir ? `${dir}/${e.name}` : e.name, mode: e.mode, type: e.type, oid: e.oid, size: 0 }));
}

/** The state index a snapshot saw: its kept sites' files and the others. */
function stateIndexOf(previous: PlanSnapshot): Pick<StateIndex, 'head' | 'files'> {
  const seen = previous.seen!;
  const files = new Map(seen.state_others);
  for (const s of previous.sites.values()) if (s.state !== null) files.set(s.state_path, s.state);
  return { head: seen.state_head, files };
}

function sameSnapshot(a: PlanSnapshot | undefined, b: PlanSnapshot): boolean {
  if (!a || a.key !== b.key || a.sites.size !== b.sites.size) return false;
  for (const [n, y] of b.sites) {
    const x = a.sites.get(n);
    if (
      x !== y &&
      (!x ||
        x.tree !== y.tree ||
        x.state !== y.state ||
        x.state_path !== y.state_path ||
        x.id !== y.id ||
        x.last_commit !== y.last_commit ||
        x.scripts !== y.scripts ||
        x.secrets !== y.secrets ||
        JSON.stringify(x.settings) !== JSON.stringify(y.settings))
    )
      return false;
  }
  const sa = a.seen;
  const sb = b.seen;
  if (!sa || !sb) return sa === sb;
  if (sa.commit !== sb.commit || sa.state_head !== sb.state_head || sa.others.length !== sb.others.length || sa.state_others.size !== sb.state_others.size)
    return false;
  const others = new Map(sa.others.map((o) => [o.name, `${o.mode} ${o.oid}`]));
  if (sb.others.some((o) => others.get(o.name) !== `${o.mode} ${o.oid}`)) return false;
  for (const [path, oid] of sb.state_others) if (sa.state_others.get(path) !== oid) return false;
  return true;
}
