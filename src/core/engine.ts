// One core for the three entry points: read the desired fleet at a ref, the applied state, and
// make the plan. Entry points build the adapters (git reader, state store, secrets) and pass them in.
import { InputError, type Problem } from './errors.js';
import type { CommitInfo, CommitRelation, RepoReader, StateStore } from './ports.js';
import type { AppliedState } from './state.js';
import { noSecrets, normalizeDir, readFleet, renderFleet, type DesiredFleet, type LintFn, type ParseCache, type SecretSource } from './model.js';
import { plan, type CleanSite, type Plan } from './plan.js';
import { isSiteFolder, snapshotKey, type PlanSnapshot, type SnapshotSite, type SnapshotStore } from './snapshot.js';

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
}

export interface PlanResult {
  plan: Plan;
  desired: DesiredFleet;
  state: AppliedState;
  warnings: Problem[];
  /** true when `desired` and `state` hold only the sites read (see PlanRequest.snapshot). */
  partial?: boolean;
  /** For an incremental plan: how many sites were taken from the snapshot, and how many were read. */
  incremental?: { from_snapshot: number; read: number };
}

/** Build the plan, or throw InputError listing every problem of the input at once. */
export async function makePlan(req: PlanRequest): Promise<PlanResult> {
  if (req.snapshot && !req.readAll && 'load' in req.state) {
    const incremental = await makeIncrementalPlan(req, req.state, req.snapshot);
    if (incremental) return incremental;
  }
  const commit = await req.reader.resolveCommit(req.ref);
  const state = 'load' in req.state ? await req.state.load() : req.state;
  const model = await readFleet(req.reader, commit, req.sitesDir, req.cache);
  await req.cache?.save();
  const desired = await renderFleet(req.reader, model, state, { secrets: req.secrets, lint: req.lint, readAll: req.readAll, retryFailed: req.retryFailed, keep: req.keep });
  if (desired.problems.length) throw new InputError(desired.problems);
  const relations: Record<string, CommitRelation> = {};
  const lasts = new Set(Object.values(state.sites).map((s) => s.last_commit).filter((c): c is string => !!c));
  await Promise.all(
    [...lasts].map(async (last) => {
      relations[last] = await req.reader.relation(commit.sha, last);
    }),
  );
  const p = plan(desired, state, { ref: req.ref, relations, retryFailed: req.retryFailed });
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
  if (!secrets.identity && secrets.values().length) return null;
  const commit = await reader.resolveCommit(req.ref);
  const dir = normalizeDir(req.sitesDir);
  const topAndIndex = Promise.all([reader.listDir(commit.sha, dir), store.index()]);
  const previous = await snapshots.load();
  // No snapshot: every site will be read, so the whole listing is started at once.
  const everything = previous ? undefined : reader.listTree(commit.sha, dir);
  everything?.catch(() => {}); // awaited below, or not needed when there is no sites directory
  const [top, index] = await topAndIndex;
  if (!top.length) return null; // no sites directory: the full plan says so
  const folders = top.filter(isSiteFolder);
  const shared = top.filter((e) => !isSiteFolder(e));
  const key = snapshotKey({ sitesDir: dir, shared, secrets: secrets.identity?.() ?? '', store: store.describe(), retryFailed: !!req.retryFailed });

  // Sites whose folder, state file and key are what the snapshot found with nothing to send.
  const clean = new Map<string, SnapshotSite>();
  if (previous?.key === key) {
    for (const e of folders) {
      const name = e.path.slice(e.path.lastIndexOf('/') + 1);
      const s = Object.hasOwn(previous.sites, name) ? previous.sites[name] : undefined;
      if (s && s.tree === e.oid && (index.files.get(s.state_path) ?? null) === s.state) clean.set(name, s);
    }
  }
  const cleanIds = new Set([...clean.values()].map((s) => s.id));
  const cleanPaths = new Set([...clean.values()].map((s) => s.state_path));
  const dirty = folders.filter((e) => !clean.has(e.path.slice(e.path.lastIndexOf('/') + 1)));
  // A long list of paths costs git more than listing everything.
  const entries =
    clean.size === 0 || dirty.length > 200
      ? (await (everything ?? reader.listTree(commit.sha, dir))).filter((e) => !clean.has(e.path.slice(dir ? dir.length + 1 : 0).split('/')[0]!))
      : await reader.listTree(commit.sha, dir, [...shared.filter((e) => !e.path.slice(e.path.lastIndexOf('/') + 1).startsWith('.')).map((e) => e.path), ...dirty.map((e) => e.path)]);
  const [model, state] = await Promise.all([
    readFleet(reader, commit, dir, req.cache, { partial: { entries } }),
    store.loadFiles(
      index,
      [...index.files.keys()].filter((p) => !cleanPaths.has(p)),
    ),
  ]);
  await req.cache?.save({ keepUnused: clean.size > 0 });
  // A site id now in a read site (or a state file) that a snapshot site also has: let the full plan
  // sort it out (and word any problem exactly as it does).
  if (model.sites.some((s) => cleanIds.has(s.id)) || Object.keys(state.sites).some((id) => cleanIds.has(id))) return null;
  const desired = await renderFleet(reader, model, state, { secrets, lint: req.lint, retryFailed: req.retryFailed, keep: req.keep });
  if (desired.problems.length) throw new InputError(desired.problems);
  const cleanSites: CleanSite[] = [...clean].map(([name, s]) => ({ site: name, site_id: s.id, last_commit: s.last_commit, settings: s.settings, scripts: s.scripts }));
  const relations = await relationsOf(reader, commit, [...Object.values(state.sites).map((s) => s.last_commit), ...cleanSites.map((c) => c.last_commit)]);
  const p = plan(desired, state, { ref: req.ref, relations, retryFailed: req.retryFailed, clean: cleanSites });

  // The next snapshot: every site (read or not) with nothing to send and nothing to warn about.
  const treeOf = new Map(folders.map((e) => [e.path.slice(e.path.lastIndexOf('/') + 1), e.oid]));
  const warned = new Set<string>();
  for (const w of desired.warnings) {
    if (w.site) warned.add(w.site);
    const rel = dir ? (w.file.startsWith(`${dir}/`) ? w.file.slice(dir.length + 1) : null) : w.file;
    if (rel !== null) warned.add(rel.split('/')[0]!);
  }
  const read = new Map(desired.sites.map((s) => [s.name, s]));
  const next: PlanSnapshot = { key, sites: {} };
  for (const sp of p.sites) {
    if (sp.changes.length || warned.has(sp.site)) continue;
    const tree = treeOf.get(sp.site);
    if (tree === undefined) continue;
    const kept = clean.get(sp.site);
    if (kept) next.sites[sp.site] = kept;
    else if (read.has(sp.site)) {
      const statePath = index.pathOf(sp.site_id);
      next.sites[sp.site] = {
        tree,
        state_path: statePath,
        state: index.files.get(statePath) ?? null,
        id: sp.site_id,
        last_commit: state.sites[sp.site_id]?.last_commit ?? null,
        settings: sp.settings,
        scripts: sp.scripts,
      };
    }
  }
  if (!sameSnapshot(previous, next)) await snapshots.save(next);
  return { plan: p, desired, state, warnings: desired.warnings, partial: true, incremental: { from_snapshot: clean.size, read: desired.sites.length } };
}

function sameSnapshot(a: PlanSnapshot | undefined, b: PlanSnapshot): boolean {
  if (!a || a.key !== b.key) return false;
  const names = Object.keys(b.sites);
  if (names.length !== Object.keys(a.sites).length) return false;
  for (const n of names) {
    const x = a.sites[n];
    const y = b.sites[n]!;
    if (x !== y && (!x || x.tree !== y.tree || x.state !== y.state || x.state_path !== y.state_path || x.id !== y.id || x.last_commit !== y.last_commit || x.scripts !== y.scripts || JSON.stringify(x.settings) !== JSON.stringify(y.settings))) return false;
  }
  return true;
}
