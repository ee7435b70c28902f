// The incremental plan (the plan snapshot): after every kind of change, a plan that takes unchanged
// sites from the last plan's snapshot prints exactly what a plan without a snapshot prints, and it
// does take them from it (the debug line says how many), on real repositories and a real state.
import { describe, expect, it } from 'vitest';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TempRepo } from './helpers/git-repo.js';
import { cli, SITE_IDS } from './helpers/cli.js';
import { groupFleet } from './helpers/group-fleet.js';
import { sharedSandbox, useLifecycle, type Env } from './helpers/lifecycle.js';

const shared = sharedSandbox();
const life = useLifecycle();
const env = (extra: Env = {}) => shared.env(extra);

const fleet = groupFleet;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** From the debug line: sites taken unread (from_state of them from the state's plan index), and sites read. */
  stats: { from_snapshot: number; read: number; from_state: number } | null;
}

const snapshotFile = (r: TempRepo) => join(r.dir, '.git', 'routeros-gitops', 'plan-snapshot.json');

async function planRun(r: TempRepo, args: string[], extraEnv: Record<string, string>): Promise<Run> {
  const res = await cli(['plan', '--format', 'json', ...args], { cwd: r.dir, env: env({ RGO_LOG_LEVEL: 'debug', ...extraEnv }) });
  let stats: Run['stats'] = null;
  for (const line of res.stderr.split('\n')) {
    if (!line.includes('incremental plan')) continue;
    const j = JSON.parse(line) as { from_snapshot: number; read: number; from_state: number };
    stats = { from_snapshot: j.from_snapshot, read: j.read, from_state: j.from_state };
  }
  return { code: res.code, stdout: res.stdout, stderr: res.stderr, stats };
}

/** A full plan (RGO_INCREMENTAL=0), then one with the last snapshot (which it leaves updated): both must agree. */
async function both(r: TempRepo, args: string[] = [], extraEnv: Record<string, string> = {}): Promise<Run> {
  const file = snapshotFile(r);
  const saved = `${file}.saved`;
  const had = existsSync(file);
  if (had) await copyFile(file, saved);
  const full = await planRun(r, args, { ...extraEnv, RGO_INCREMENTAL: '0' });
  expect(full.stats, 'a full plan reads every site').toBeNull();
  if (had) await copyFile(saved, file);
  else await rm(file, { force: true });
  const inc = await planRun(r, args, extraEnv);
  expect(inc.code).toBe(full.code);
  expect(inc.stdout).toBe(full.stdout);
  if (full.code !== 0) {
    const errors = (s: string) => s.split('\n').filter((l) => !l.startsWith('{'));
    expect(errors(inc.stderr)).toEqual(errors(full.stderr));
  }
  return inc;
}

const changes = (run: Run) =>
  (JSON.parse(run.stdout) as { changes: Array<{ site: string; path: string; kind: string; action: string }> }).changes.map(
    (c) => `${c.site} ${c.path} ${c.kind} ${c.action}`,
  );

async function apply(r: TempRepo) {
  const res = await cli(['apply', '--format', 'json'], { cwd: r.dir, env: env() });
  expect(res.code, res.stdout + res.stderr).toBe(0);
}

describe('incremental plan (the plan snapshot)', () => {
  it('takes only unchanged sites with nothing to send from the snapshot, and prints what a full plan prints', async () => {
    const r = await life.repo(fleet());

    // Nothing applied: every site has changes, so none is kept.
    let run = await both(r);
    expect(changes(run)).toHaveLength(10);
    expect(run.stats).toEqual({ from_snapshot: 0, read: 4, from_state: 0 });
    await apply(r);
    // Every state file changed, and apply planned once more after its jobs (issue 18): that plan
    // read them and left the snapshot (and the state's plan index) up to date.
    run = await both(r);
    expect(run.stats).toEqual({ from_snapshot: 4, read: 0, from_state: 0 });
    run = await both(r);
    expect(changes(run)).toEqual([]);
    expect(run.stats).toEqual({ from_snapshot: 4, read: 0, from_state: 0 });

    // One site's script: that site is read.
    await r.commit({ 'sites/site-3/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' }, 'site-3 dns');
    run = await both(r);
    expect(changes(run)).toEqual(['site-3 sites/site-3/10-dns.rsc modified create']);
    expect(run.stats).toEqual({ from_snapshot: 3, read: 1, from_state: 0 });

    // Its apply changes only its state file: only it is read again (by apply's own plan after its jobs).
    await apply(r);
    run = await both(r);
    expect(changes(run)).toEqual([]);
    expect(run.stats).toEqual({ from_snapshot: 4, read: 0, from_state: 0 });
    run = await both(r);
    expect(run.stats).toEqual({ from_snapshot: 4, read: 0, from_state: 0 });

    // A shared script, the fleet settings, a stray file: every site is read.
    await r.commit(
      { 'sites/_groups/core/20-firewall.rsc': '/ip firewall filter add chain=forward action=accept in-interface=${{ vars.bridge }} comment=v2\n' },
      'firewall v2',
    );
    run = await both(r);
    expect(changes(run)).toEqual(['site-1 sites/_groups/core/20-firewall.rsc modified create', 'site-2 sites/_groups/core/20-firewall.rsc modified create']);
    expect(run.stats).toEqual({ from_snapshot: 0, read: 4, from_state: 0 });
    await apply(r);
    await both(r);
    await r.commit({ 'sites/routeros-gitops.yaml': 'vars:\n  dns: 8.8.8.8\ngroups:\n  core:\n    vars:\n      bridge: bridge-lan\n' }, 'dns everywhere');
    run = await both(r);
    expect(changes(run)).toHaveLength(3); // site-3 sets its own servers
    expect(run.stats?.from_snapshot).toBe(0);
    await apply(r);
    await both(r);
    await r.commit({ 'sites/README.md': 'Sites.\n' }, 'readme');
    run = await both(r);
    expect(run.stats).toEqual({ from_snapshot: 0, read: 4, from_state: 0 });
    run = await both(r);
    expect(run.stats).toEqual({ from_snapshot: 4, read: 0, from_state: 0 });

    // Secrets supplied change what a site would render: nothing is taken from a snapshot made without them.
    const KEY = 'snapshot-test-secrets-key-0123';
    run = await both(r, [], { RGO_SECRET_WIFI: 'hunter2', RGO_SECRETS_KEY: KEY });
    expect(run.stats).toEqual({ from_snapshot: 0, read: 4, from_state: 0 });
    run = await both(r, [], { RGO_SECRET_WIFI: 'hunter2', RGO_SECRETS_KEY: KEY });
    expect(run.stats).toEqual({ from_snapshot: 4, read: 0, from_state: 0 });
    expect(await readFile(snapshotFile(r), 'utf8')).not.toContain('hunter2');
    run = await both(r, [], { RGO_SECRET_WIFI: 'hunter3', RGO_SECRETS_KEY: KEY });
    expect(run.stats).toEqual({ from_snapshot: 0, read: 4, from_state: 0 });
    // Values without the key cannot be identified without a guessable digest: no snapshot is used.
    run = await both(r, [], { RGO_SECRET_WIFI: 'hunter3' });
    expect(run.stats).toBeNull();
    await both(r);

    // A site's state changed by a run at another commit, its folder unchanged: it is read again.
    const main = await r.git(['rev-parse', 'HEAD']);
    await r.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers=4.4.4.4\n' }, 'experiment');
    await apply(r);
    await r.git(['reset', '-q', '--hard', main]);
    run = await both(r);
    expect(run.stats).toEqual({ from_snapshot: 3, read: 1, from_state: 0 });
    expect(changes(run)).toEqual(['site-1 sites/site-1/10-dns.rsc modified stale']);
    await r.commit({ 'sites/site-2/00-identity.rsc': '/system identity set name=${{ site.name }}-2\n' }, 'after the experiment');
    run = await both(r);
    expect(changes(run)).toEqual(['site-1 sites/site-1/10-dns.rsc modified create', 'site-2 sites/site-2/00-identity.rsc modified create']);
    await apply(r);
    await both(r);

    // A site folder removed: its scripts are removed changes; the others stay in the snapshot.
    await r.commit({ 'sites/site-4/site.yaml': null, 'sites/site-4/00-identity.rsc': null, 'sites/site-4/10-dns.rsc': null }, 'site-4 gone');
    run = await both(r);
    expect(changes(run)).toEqual(['site-4 sites/site-4/00-identity.rsc removed none', 'site-4 sites/site-4/10-dns.rsc removed none']);
    expect(run.stats).toEqual({ from_snapshot: 3, read: 0, from_state: 0 });

    // A new site with the id of a kept one: the same error as a full plan.
    await r.commit({ 'sites/site-5/site.yaml': `id: ${SITE_IDS[0]}\n`, 'sites/site-5/00-a.rsc': '/log info a\n' }, 'copy of site-1');
    run = await both(r);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`the site id ${SITE_IDS[0]} is also the id of sites/site-1/site.yaml`);

    // An older commit: statuses (never backwards) are worked out again for kept sites too.
    await r.commit({ 'sites/site-5/site.yaml': null, 'sites/site-5/00-a.rsc': null }, 'no site-5');
    await both(r);
    run = await both(r, ['--ref', 'HEAD~6']);
    const stale = (JSON.parse(run.stdout) as { sites: Array<{ site: string; status: string }> }).sites.filter((s) => s.status === 'stale').map((s) => s.site);
    expect(stale.length).toBeGreaterThan(0);

    // A broken snapshot is no snapshot: the sites come from the state's plan index (issue 18), which
    // the last apply left; without it either, everything is read.
    await writeFile(snapshotFile(r), '{"format": 1, "sites": [[');
    run = await both(r);
    expect(run.stats).toEqual({ from_snapshot: 3, read: 0, from_state: 3 });
    await writeFile(snapshotFile(r), '{"format": 1, "sites": [[');
    run = await planRun(r, ['--state-ref', 'refs/routeros-gitops/none'], {});
    expect(run.code).toBe(0);
    expect(run.stats?.from_snapshot).toBe(0);
  }, 120_000);

  it('apply plans incrementally too: after a one-script commit it reads one site and sends one job', async () => {
    const r = await life.repo(fleet());
    const applyRun = async () => {
      const res = await cli(['apply', '--format', 'json'], { cwd: r.dir, env: env({ RGO_LOG_LEVEL: 'debug' }) });
      expect(res.code, res.stdout + res.stderr).toBe(0);
      const line = res.stderr.split('\n').find((l) => l.includes('incremental plan'));
      const stats = line ? (JSON.parse(line) as { from_snapshot: number; read: number }) : null;
      return {
        results: (JSON.parse(res.stdout) as { results: Array<{ path: string; outcome: string }> }).results,
        stats: stats && { from_snapshot: stats.from_snapshot, read: stats.read },
      };
    };
    expect((await applyRun()).results).toHaveLength(10);
    await both(r); // every site's state changed: all read, all kept
    await r.commit({ 'sites/site-2/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' }, 'site-2 dns');
    const before = shared.sb.stats().jobsCreated;
    const run = await applyRun();
    expect(run.stats).toEqual({ from_snapshot: 3, read: 1 });
    expect(run.results.map((x) => `${x.path} ${x.outcome}`)).toEqual(['sites/site-2/10-dns.rsc succeeded']);
    expect(shared.sb.stats().jobsCreated).toBe(before + 1);
    // Nothing left to send, by a plan with or without a snapshot.
    expect(changes(await both(r))).toEqual([]);
    const again = await applyRun();
    expect(again.results).toEqual([]);
    expect(shared.sb.stats().jobsCreated).toBe(before + 1);
  }, 120_000);
});
