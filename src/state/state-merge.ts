// Merging two diverged histories of the state ref (two clones wrote it concurrently): per site
// file, three-way against their merge base. A side that did not change a site takes the other
// side's; when both changed it, its scripts are merged the same way (a script only one side
// changed takes that side; when both changed it, mergeRecord decides, as applyUpdates would). The
// lease follows mergeLease. Nothing recorded by either side is lost.
import type { Logger } from '../core/logger.js';
import { mergeLease, parseLease } from '../core/lease.js';
import { MAX_FLEET_HEADS, mergeRecord, type ScriptRecord, type SiteState } from '../core/state.js';
import { writeCommit, type Identity, type TreeChange } from '../git/commit-writer.js';
import type { GitRepo } from '../git/repo.js';
import { parseSiteState, stableStringify } from './encoding.js';

export const LEASE_FILE = 'lease.json';
export const FORMAT_FILE = 'format.json';

export interface MergeInput {
  repo: GitRepo;
  ours: string;
  theirs: string;
  identity: Identity;
  /** For the commit message (credentials already removed). */
  remoteName: string;
  logger: Logger;
  ref: string;
}

/** A merge commit of two diverged state commits (parents: ours, theirs). */
export async function mergeStates(m: MergeInput): Promise<string> {
  const { repo, ours, theirs } = m;
  const mb = await repo.run(['merge-base', ours, theirs], { okCodes: [1] });
  const base = mb.exitCode === 0 ? mb.stdout.toString('utf8').trim() : null;
  const listing = async (c: string | null) =>
    new Map(c === null ? [] : (await repo.listTree(c, '')).filter((e) => e.type === 'blob').map((e) => [e.path, e.oid] as const));
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
    const text = (oid: string | undefined) => (oid === undefined ? undefined : (objects.get(oid)?.content.toString('utf8') ?? 'null'));
    for (const x of both) {
      if (x.path === LEASE_FILE) {
        const lease = mergeLease(parseLease(text(x.o), 'local'), parseLease(text(x.t), 'remote'));
        changes.push({ path: x.path, content: stableStringify(lease) });
      } else if (x.path === FORMAT_FILE) {
        // Both upgraded (or one did): the newer format wins.
        const v = (oid?: string) => (oid ? Number((JSON.parse(text(oid) ?? '{}') as { version?: number }).version ?? 0) : 0);
        changes.push({ path: x.path, oid: v(x.o) >= v(x.t) ? x.o! : x.t! });
      } else if (x.path.startsWith('sites/')) {
        const site = (oid: string | undefined, side: string) => (oid === undefined ? undefined : parseSiteState(text(oid)!, `${side} ${x.path}`));
        const merged = await mergeSite(repo, site(x.b, 'base'), site(x.o, 'local'), site(x.t, 'remote'));
        changes.push({ path: x.path, content: stableStringify(merged) });
      } else if (x.t !== undefined) {
        // Anything else, the plan index's buckets included: theirs. An index entry names the site
        // file it holds for, so whichever side's bucket is kept, no entry can vouch for a site file
        // this merge made or took from the other side (core/plan-index.ts).
        changes.push({ path: x.path, oid: x.t });
      }
    }
  }
  const message = `merge state from ${m.remoteName}: ${changes.length - both.length} file(s) taken, ${both.length} merged\n`;
  const commit = await writeCommit(repo, { parents: [ours, theirs], message, changes, identity: m.identity });
  m.logger.info({ ref: m.ref, ours, theirs, commit, taken: changes.length - both.length, merged: both.length }, 'merged diverged state');
  return commit;
}

/** One site changed on both sides: merged script by script; the newer last commit wins. */
export async function mergeSite(repo: GitRepo, b: SiteState | undefined, o: SiteState | undefined, t: SiteState | undefined): Promise<SiteState> {
  // A site deleted on one side and changed on the other keeps the change: never lose a record of a job.
  if (!o) return t!;
  if (!t) return o;
  const same = (x: unknown, y: unknown) => stableStringify(x ?? null) === stableStringify(y ?? null);
  const scripts: Record<string, ScriptRecord> = {};
  for (const file of new Set([...Object.keys(o.scripts), ...Object.keys(t.scripts)])) {
    const bs = b?.scripts[file];
    const os = o.scripts[file];
    const ts = t.scripts[file];
    let pick: ScriptRecord | undefined;
    if (same(os, ts) || same(ts, bs)) pick = os;
    else if (same(os, bs)) pick = ts;
    else if (!os || !ts) pick = os ?? ts;
    else pick = mergeRecord(os, ts);
    if (pick) scripts[file] = pick;
  }
  let lastCommit = o.last_commit;
  if (o.last_commit !== t.last_commit) {
    if (o.last_commit === (b?.last_commit ?? null) || o.last_commit === null) lastCommit = t.last_commit;
    else if (t.last_commit !== (b?.last_commit ?? null) && t.last_commit !== null) {
      // Both moved: the newer commit (the descendant) wins; unrelated ones keep ours.
      if ((await repo.relation(o.last_commit, t.last_commit)) === 'ancestor') lastCommit = t.last_commit;
    }
  }
  const pickField = <K extends keyof SiteState>(k: K): SiteState[K] => (same(o[k], b?.[k]) ? t[k] : o[k]);
  const merged: SiteState = { site: pickField('site'), site_id: o.site_id, last_commit: lastCommit, scripts };
  const removedAt = pickField('removed_at');
  if (removedAt !== undefined) merged.removed_at = removedAt;
  const check = pickField('secrets_key_check');
  if (check !== undefined) merged.secrets_key_check = check;
  // The version read last wins (each side wrote it only when it saw it change).
  const versions = [o.reported_version, t.reported_version].filter((v) => !!v);
  if (versions.length) merged.reported_version = versions.reduce((a, b) => (b!.seen_at > a!.seen_at ? b : a));
  if (o.heads || t.heads) {
    // Both sides' frontiers: every head either knew, newest first (a head one side has moved past is
    // still an applied commit; keeping it only makes never-backwards stricter).
    const all = new Map([...(o.heads ?? []), ...(t.heads ?? [])].map((h) => [h.sha, h] as const));
    merged.heads = [...all.values()].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, MAX_FLEET_HEADS);
  }
  return merged;
}
