// The plan in a fresh clone (issue 18): apply leaves a plan index in the state, so a clone that has
// only the repository and the fetched state ref plans incrementally. After every kind of change the
// plan-snapshot suite covers, a fresh clone's plan, a plan spread over worker threads, and a plain
// full plan (no snapshot, no index, no workers) must print exactly the same, as text and as JSON;
// and the fresh clone must take unchanged sites from the state's index. Real repositories, a real
// remote, the state pushed by real applies against the sandbox.
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, SITE_IDS } from './helpers/cli.js';
import { groupFleet } from './helpers/group-fleet.js';
import { runGitIn, type BareRemote, type TempRepo } from './helpers/git-repo.js';
import { sharedSandbox, useLifecycle, type Env } from './helpers/lifecycle.js';
import { createGitRefStateStore } from '../src/state/git-ref-store.js';
import { openRepo } from '../src/git/repo.js';
import { planIndexKeys } from '../src/core/plan-index.js';
import { writeCommit } from '../src/git/commit-writer.js';

const shared = sharedSandbox();
const life = useLifecycle();
const STATE_REF = 'refs/routeros-gitops/state';
const KEY = 'plan-index-test-secrets-key-0123';

const fleet = groupFleet;

interface Stats {
  from_snapshot: number;
  read: number;
  from_state: number;
}

/** The incremental plan's debug line, when there is one. */
function statsOf(stderr: string): Stats | null {
  const line = stderr.split('\n').find((l) => l.includes('"incremental plan'));
  if (!line) return null;
  const j = JSON.parse(line) as Stats;
  return { from_snapshot: j.from_snapshot, read: j.read, from_state: j.from_state };
}

/** How many scripts a plan spread over worker threads, from its debug line (0: none). */
function workerScripts(stderr: string): number {
  const line = stderr.split('\n').find((l) => l.includes('"plan workers'));
  return line ? (JSON.parse(line) as { scripts: number }).scripts : 0;
}

const errorLines = (s: string) => s.split('\n').filter((l) => l && !l.startsWith('{'));

interface Setup {
  remote: BareRemote;
  /** The clone where commits are made and applied (its state is pushed to the remote). */
  r: TempRepo;
  env(extra?: Env): Env;
}

async function setup(files: Record<string, string> = fleet()): Promise<Setup> {
  const remote = await life.remote();
  const r = await remote.clone();
  await r.commit(files, 'fleet');
  await r.git(['push', '-q', 'origin', 'main']);
  return { remote, r, env: (extra = {}) => shared.env({ RGO_LOG_LEVEL: 'debug', ...extra }) };
}

async function push(s: Setup, force = false): Promise<void> {
  await s.r.git(['push', '-q', ...(force ? ['-f'] : []), 'origin', 'main']);
}

async function apply(s: Setup, extra: Env = {}): Promise<void> {
  const res = await cli(['apply', '--format', 'json'], { cwd: s.r.dir, env: s.env(extra) });
  expect(res.code, res.stdout + res.stderr).toBe(0);
}

/** A fresh clone of the remote with the state ref fetched, as a CI job has it. */
async function freshClone(s: Setup): Promise<string> {
  const parent = await mkdtemp(join(tmpdir(), 'rgo-fresh-'));
  life.defer(() => rm(parent, { recursive: true, force: true }));
  const dir = join(parent, 'repo');
  await runGitIn(parent, ['clone', '-q', s.remote.dir, dir]);
  const hasState = (await runGitIn(dir, ['ls-remote', 'origin', STATE_REF])) !== '';
  if (hasState) await runGitIn(dir, ['fetch', '-q', 'origin', `+${STATE_REF}:${STATE_REF}`]);
  return dir;
}

/**
 * In a fresh clone: the plan with its defaults (incremental from the state's index), the plan over
 * worker threads, and a plain full plan, in JSON and in text; all three print the same, byte for
 * byte, and end the same. Returns the fresh clone's stats and its JSON run.
 */
async function compare(s: Setup, args: string[] = [], extra: Env = {}): Promise<{ stats: Stats | null; code: number; stdout: string; stderr: string }> {
  const dir = await freshClone(s);
  const cacheDir = join(dir, '.git', 'routeros-gitops');
  let first: { stats: Stats | null; code: number; stdout: string; stderr: string } | undefined;
  for (const format of ['json', 'text']) {
    const plan = (env: Env) => cli(['plan', '--format', format, ...args], { cwd: dir, env: s.env({ ...extra, ...env }) });
    await rm(cacheDir, { recursive: true, force: true });
    const full = await plan({ RGO_INCREMENTAL: '0', RGO_WORKERS: '0' });
    expect(statsOf(full.stderr), 'a full plan reads every site').toBeNull();
    expect(workerScripts(full.stderr)).toBe(0);
    await rm(cacheDir, { recursive: true, force: true });
    const fresh = await plan({ RGO_WORKERS: '0' });
    await rm(cacheDir, { recursive: true, force: true });
    const workers = await plan({ RGO_INCREMENTAL: '0', RGO_WORKERS: '2' });
    for (const [what, other] of [
      ['the fresh clone', fresh],
      ['the worker plan', workers],
    ] as const) {
      expect(other.code, `${what} (${format}) ends as a full plan does`).toBe(full.code);
      expect(other.stdout, `${what} (${format}) prints what a full plan prints`).toBe(full.stdout);
      expect(errorLines(other.stderr), `${what} (${format}) says what a full plan says`).toEqual(errorLines(full.stderr));
    }
    // Workers run whenever there is a script to read (RGO_WORKERS forces them on small fleets): a
    // change to create (or stale) was read; a failed one skipped, or a job followed, was not.
    const read =
      format === 'json' &&
      full.code === 0 &&
      JSON.parse(full.stdout).changes?.some((c: { kind: string; action: string }) => c.kind !== 'removed' && ['create', 'stale'].includes(c.action));
    if (process.env.NO_WORKER_CHECK === undefined && full.code === 0 && read) {
      expect(workerScripts(workers.stderr), 'the worker plan read its scripts in worker threads').toBeGreaterThan(0);
    }
    first ??= { stats: statsOf(fresh.stderr), code: fresh.code, stdout: fresh.stdout, stderr: fresh.stderr };
  }
  return first!;
}

const changes = (run: { stdout: string }) =>
  (JSON.parse(run.stdout) as { changes: Array<{ site: string; path: string; kind: string; action: string }> }).changes.map(
    (c) => `${c.site} ${c.path} ${c.kind} ${c.action}`,
  );

describe('the plan in a fresh clone (the state carries a plan index)', () => {
  it('after every kind of change, prints what a full plan prints, reading only what changed', async () => {
    const s = await setup();

    // No state yet: everything is read (and the worker plan agrees).
    let run = await compare(s);
    expect(changes(run)).toHaveLength(10);
    expect(run.stats).toEqual({ from_snapshot: 0, read: 4, from_state: 0 });

    // After an apply, the state's index vouches for every site.
    await apply(s);
    run = await compare(s);
    expect(changes(run)).toEqual([]);
    expect(run.stats).toEqual({ from_snapshot: 4, read: 0, from_state: 4 });

    // One site's script: only that site is read.
    await s.r.commit({ 'sites/site-3/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' }, 'site-3 dns');
    await push(s);
    run = await compare(s);
    expect(changes(run)).toEqual(['site-3 sites/site-3/10-dns.rsc modified create']);
    expect(run.stats).toEqual({ from_snapshot: 3, read: 1, from_state: 3 });
    await apply(s);
    run = await compare(s);
    expect(changes(run)).toEqual([]);
    expect(run.stats).toEqual({ from_snapshot: 4, read: 0, from_state: 4 });

    // A shared script, the fleet settings, a stray file: the index is of another key; all is read.
    await s.r.commit(
      { 'sites/_groups/core/20-firewall.rsc': '/ip firewall filter add chain=forward action=accept in-interface=${{ vars.bridge }} comment=v2\n' },
      'firewall v2',
    );
    await push(s);
    run = await compare(s);
    expect(changes(run)).toEqual(['site-1 sites/_groups/core/20-firewall.rsc modified create', 'site-2 sites/_groups/core/20-firewall.rsc modified create']);
    expect(run.stats).toEqual({ from_snapshot: 0, read: 4, from_state: 0 });
    await apply(s);
    run = await compare(s);
    expect(run.stats).toEqual({ from_snapshot: 4, read: 0, from_state: 4 });
    await s.r.commit({ 'sites/routeros-gitops.yaml': 'vars:\n  dns: 8.8.8.8\ngroups:\n  core:\n    vars:\n      bridge: bridge-lan\n' }, 'dns everywhere');
    await push(s);
    run = await compare(s);
    expect(changes(run)).toHaveLength(3); // site-3 sets its own servers
    expect(run.stats?.from_snapshot).toBe(0);
    await apply(s);
    await s.r.commit({ 'sites/README.md': 'Sites.\n' }, 'readme');
    await push(s);
    run = await compare(s);
    expect(run.stats).toEqual({ from_snapshot: 0, read: 4, from_state: 0 });
    await apply(s); // nothing to send; it still leaves the index for this commit
    run = await compare(s);
    expect(run.stats).toEqual({ from_snapshot: 4, read: 0, from_state: 4 });

    // Script check findings, and a script with a problem (the plan refuses the fleet): read, checked
    // and worded the same by every plan, worker threads included.
    await s.r.commit({ 'sites/site-2/20-bad.rsc': '/system reset-configuration no-defaults=yes\n/ip dns set servers="1.1.1.1\n' }, 'findings');
    await push(s);
    run = await compare(s);
    expect(run.code).toBe(2); // apply would refuse the check error (issue 14)
    const findings = (JSON.parse(run.stdout) as { changes: Array<{ path: string; findings: Array<{ rule: string }> }> }).changes.find(
      (c) => c.path === 'sites/site-2/20-bad.rsc',
    )?.findings;
    expect(findings?.map((f) => f.rule)).toContain('unterminated-string');
    expect(run.stats).toEqual({ from_snapshot: 3, read: 1, from_state: 3 });
    await s.r.commit({ 'sites/site-1/30-undefined.rsc': '/ip dns set servers=${{ vars.nope }}\n' }, 'a variable nobody defined');
    await push(s);
    run = await compare(s);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the variable "nope" is not defined for site site-1');
    await s.r.commit({ 'sites/site-2/20-bad.rsc': null, 'sites/site-1/30-undefined.rsc': null }, 'back');
    await push(s);
    run = await compare(s);
    expect(run.stats).toEqual({ from_snapshot: 4, read: 0, from_state: 4 });

    // Secrets supplied that no script uses: the index still holds (a site's plan does not depend on
    // them); values without their key: no incremental plan at all.
    run = await compare(s, [], { RGO_SECRET_WIFI: 'hunter2', RGO_SECRETS_KEY: KEY });
    expect(run.stats).toEqual({ from_snapshot: 4, read: 0, from_state: 4 });
    run = await compare(s, [], { RGO_SECRET_WIFI: 'hunter3' });
    expect(run.stats).toBeNull();

    // A site's state changed by a run at another commit, its folder unchanged: it is read again.
    const main = await s.r.git(['rev-parse', 'HEAD']);
    await s.r.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers=4.4.4.4\n' }, 'experiment');
    await push(s);
    await apply(s);
    await s.r.git(['reset', '-q', '--hard', main]);
    await push(s, true);
    run = await compare(s);
    expect(changes(run)).toEqual(['site-1 sites/site-1/10-dns.rsc modified stale']);
    expect(run.stats).toEqual({ from_snapshot: 3, read: 1, from_state: 3 });
    await s.r.commit({ 'sites/site-2/00-identity.rsc': '/system identity set name=${{ site.name }}-2\n' }, 'after the experiment');
    await push(s);
    run = await compare(s);
    expect(changes(run)).toEqual(['site-1 sites/site-1/10-dns.rsc modified create', 'site-2 sites/site-2/00-identity.rsc modified create']);
    expect(run.stats).toEqual({ from_snapshot: 2, read: 2, from_state: 2 });
    await apply(s);

    // A site folder removed: its scripts are removed changes; the others come from the index.
    await s.r.commit({ 'sites/site-4/site.yaml': null, 'sites/site-4/00-identity.rsc': null, 'sites/site-4/10-dns.rsc': null }, 'site-4 gone');
    await push(s);
    run = await compare(s);
    expect(changes(run)).toEqual(['site-4 sites/site-4/00-identity.rsc removed none', 'site-4 sites/site-4/10-dns.rsc removed none']);
    expect(run.stats).toEqual({ from_snapshot: 3, read: 0, from_state: 3 });

    // A new site with the id of one the index vouches for: the same error as a full plan.
    await s.r.commit({ 'sites/site-5/site.yaml': `id: ${SITE_IDS[0]}\n`, 'sites/site-5/00-a.rsc': '/log info a\n' }, 'copy of site-1');
    await push(s);
    run = await compare(s);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`the site id ${SITE_IDS[0]} is also the id of sites/site-1/site.yaml`);

    // An older commit: never-backwards statuses are worked out again for the sites taken unread.
    await s.r.commit({ 'sites/site-5/site.yaml': null, 'sites/site-5/00-a.rsc': null }, 'no site-5');
    await push(s);
    await compare(s);
    run = await compare(s, ['--ref', 'HEAD~6']);
    const stale = (JSON.parse(run.stdout) as { sites: Array<{ site: string; status: string }> }).sites.filter((x) => x.status === 'stale').map((x) => x.site);
    expect(stale.length).toBeGreaterThan(0);
  }, 300_000);

  it('a script that uses a secret: its site is taken from the index only under the same secrets', async () => {
    const files = fleet();
    files['sites/site-4/30-wifi.rsc'] = '/interface wifi security set sec1 passphrase="${{ secrets.wifi }}"\n';
    const s = await setup(files);
    const secrets = { RGO_SECRET_WIFI: 'correct-horse-battery', RGO_SECRETS_KEY: KEY };
    await apply(s, secrets);
    let run = await compare(s, [], secrets);
    expect(changes(run)).toEqual([]);
    expect(run.stats).toEqual({ from_snapshot: 4, read: 0, from_state: 4 });
    // A rotated value: its site is read (and shows the change); the others are not.
    run = await compare(s, [], { ...secrets, RGO_SECRET_WIFI: 'correct-horse-staple' });
    expect(changes(run)).toEqual(['site-4 sites/site-4/30-wifi.rsc modified create']);
    expect(run.stats).toEqual({ from_snapshot: 3, read: 1, from_state: 3 });
    // No secrets at all (a fork's pull request): the same.
    run = await compare(s);
    expect(run.stats).toEqual({ from_snapshot: 3, read: 1, from_state: 3 });
    // The index never holds a value.
    const dir = await freshClone(s);
    const tree = await runGitIn(dir, ['ls-tree', '-r', '--name-only', STATE_REF]);
    for (const path of tree.split('\n').filter((p) => p.startsWith('plan-index/'))) {
      expect(await runGitIn(dir, ['cat-file', '-p', `${STATE_REF}:${path}`])).not.toContain('correct-horse');
    }
  }, 120_000);

  it('after two writers raced and their states were merged, no index entry vouches for a site file it was not made for', async () => {
    const s = await setup();
    await apply(s);
    // Writer B keeps an index of its own (made under other secrets) and pushes it first; writer A,
    // still at the state before it, records a failure of site-1's script, and so has to merge.
    const a = await freshClone(s);
    const b = await freshClone(s);
    const storeA = await createGitRefStateStore({ repo: await openRepo(a), remote: 'origin' });
    const storeB = await createGitRefStateStore({ repo: await openRepo(b), remote: 'origin' });
    const indexB = await storeB.index();
    const bucketsB = (await storeB.readPlanIndex(indexB.head)) ?? [];
    const sites = new Map(bucketsB.flatMap((x) => [...x.sites]));
    expect(sites.size).toBe(4);
    const keys = { ...bucketsB[0]!.keys, secrets: planIndexKeys({ sitesDir: 'sites', shared: [], secrets: 'other', retryFailed: false }).secrets };
    const stateA = await storeA.load();
    await storeB.writePlanIndex({ keys, sites });
    await storeB.close();
    const site1 = stateA.sites[SITE_IDS[0]!]!;
    const record = site1.scripts['10-dns.rsc']!;
    await storeA.record([
      {
        site_id: site1.site_id,
        site: site1.site,
        file: '10-dns.rsc',
        record: { ...record, generation: record.generation + 1, phase: 'failed', at: new Date().toISOString(), key: '0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f' },
      },
    ]);
    await storeA.close();
    const merges = await runGitIn(a, ['rev-list', '--merges', '--count', STATE_REF]);
    expect(Number(merges), 'writer A merged B state').toBeGreaterThan(0);
    // B's bucket (taken by the merge) still names site-1's old state file: site-1 is read.
    const run = await compare(s);
    expect(changes(run)).toEqual(['site-1 sites/site-1/10-dns.rsc added skip-failed']);
    expect(run.stats).toEqual({ from_snapshot: 3, read: 1, from_state: 3 });
  }, 120_000);

  it('an index that does not read right is no index: everything is read, as in a full plan', async () => {
    const s = await setup();
    await apply(s);
    // Break every bucket file (as a hand edit or a foreign tool could) and push that state.
    const dir = await freshClone(s);
    const repo = await openRepo(dir);
    const head = (await repo.readRef(STATE_REF))!;
    const paths = (await repo.listTree(head, 'plan-index')).map((e) => e.path);
    expect(paths.length).toBeGreaterThan(0);
    const broken = await writeCommit(repo, {
      parents: [head],
      message: 'hand edit\n',
      changes: paths.map((path, i) => ({
        path,
        content: i % 2 ? '{"format": 1, "sites": [[' : '{"format":1,"version":"0.0.0","keys":{},"settings":[],"sites":[]}\n',
      })),
      identity: { name: 'someone', email: 'someone@example.invalid' },
    });
    await runGitIn(dir, ['push', '-q', 'origin', `${broken}:${STATE_REF}`]);
    const run = await compare(s);
    expect(changes(run)).toEqual([]);
    expect(run.stats).toEqual({ from_snapshot: 0, read: 4, from_state: 0 });
  }, 120_000);
});
