// The plan through the real CLI on real git repositories: what changed, with stable keys.
import { describe, expect, it } from 'vitest';
import type { TempRepo } from './helpers/git-repo.js';
import { cli, fleetFiles, SITE_IDS } from './helpers/cli.js';
import { sharedSandbox, useLifecycle } from './helpers/lifecycle.js';

interface PlanJson {
  changes: Array<{ site: string; site_id: string; path: string; kind: string; action: string; idempotency_key: string | null }>;
}

const shared = sharedSandbox();
const life = useLifecycle();
const repoWith = (files: Record<string, string>) => life.repo(files);
const env = () => shared.env();
const plan = async (r: TempRepo, extra: string[] = []) => {
  const res = await cli(['plan', '--format', 'json', ...extra], { cwd: r.dir, env: env() });
  expect(res.code, res.stderr).toBe(0);
  return res.json<PlanJson>();
};
const apply = async (r: TempRepo) => {
  const res = await cli(['apply', '--format', 'json'], { cwd: r.dir, env: env() });
  expect(res.code, res.stdout + res.stderr).toBe(0);
  return res.json<{ results: Array<{ path: string; outcome: string; job_id: string }> }>();
};

describe('plan', () => {
  it('plans every script of a new repository as added, in site and file order, with the stable JSON fields', async () => {
    const r = await repoWith(fleetFiles(2));
    const p = await plan(r);
    expect(p.changes.map((c) => [c.site, c.path, c.kind, c.action])).toEqual([
      ['site-1', 'sites/site-1/00-identity.rsc', 'added', 'create'],
      ['site-1', 'sites/site-1/10-dns.rsc', 'added', 'create'],
      ['site-2', 'sites/site-2/00-identity.rsc', 'added', 'create'],
      ['site-2', 'sites/site-2/10-dns.rsc', 'added', 'create'],
    ]);
    for (const c of p.changes) {
      expect(c.site_id).toBe(c.site === 'site-1' ? SITE_IDS[0] : SITE_IDS[1]);
      expect(c.idempotency_key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(p.changes.map((c) => c.idempotency_key)).size).toBe(4);
  });

  it('plans nothing once applied, one modified change for a one-script commit, removed for a deleted script', async () => {
    const r = await repoWith(fleetFiles(2));
    const first = await apply(r);
    expect(first.results.map((x) => x.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect((await plan(r)).changes).toEqual([]);

    await r.commit({ 'sites/site-2/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' }, 'site-2: quad9');
    const p = await plan(r);
    expect(p.changes.map((c) => [c.site, c.path, c.kind])).toEqual([['site-2', 'sites/site-2/10-dns.rsc', 'modified']]);
    await apply(r);

    await r.commit({ 'sites/site-1/10-dns.rsc': null }, 'site-1: drop dns');
    const removed = await plan(r);
    expect(removed.changes.map((c) => [c.site, c.path, c.kind, c.idempotency_key])).toEqual([['site-1', 'sites/site-1/10-dns.rsc', 'removed', null]]);
    // Applying a removal sends nothing and forgets the script.
    const before = shared.sb.stats().jobsCreated;
    const res = await apply(r);
    expect(res.results.map((x) => x.outcome)).toEqual(['skipped']);
    expect(shared.sb.stats().jobsCreated).toBe(before);
    expect((await plan(r)).changes).toEqual([]);
  });

  it('gives the same keys on every rerun, and keeps a pending script key across commits that touch other files', async () => {
    const r = await repoWith(fleetFiles(2));
    await apply(r);
    await r.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers=8.8.8.8\n' }, 'change site-1 dns');
    const a = await plan(r);
    const b = await plan(r);
    expect(b.changes).toEqual(a.changes);
    const key = a.changes[0]!.idempotency_key;
    await r.commit({ 'sites/site-2/00-identity.rsc': '/system identity set name=other\n', 'README.md': 'docs\n' }, 'unrelated');
    const c = await plan(r);
    expect(c.changes.find((x) => x.path === 'sites/site-1/10-dns.rsc')!.idempotency_key).toBe(key);
    // New content gets a new key.
    await r.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers=8.8.4.4\n' }, 'again');
    const d = await plan(r);
    expect(d.changes.find((x) => x.path === 'sites/site-1/10-dns.rsc')!.idempotency_key).not.toBe(key);
  });

  it('reads the committed tree at --ref, never the working directory', async () => {
    const r = await repoWith(fleetFiles(1));
    const first = await r.git(['rev-parse', 'HEAD']);
    await r.commit({ 'sites/site-1/20-new.rsc': '/ip dns set cache-size=4096KiB\n' }, 'add a script');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${r.dir}/sites/site-1/30-uncommitted.rsc`, '/ip dns set servers=1.0.0.1\n');
    expect((await plan(r)).changes.map((c) => c.path)).toEqual(['sites/site-1/00-identity.rsc', 'sites/site-1/10-dns.rsc', 'sites/site-1/20-new.rsc']);
    expect((await plan(r, ['--ref', first])).changes).toHaveLength(2);
  });

  it('prints a table per site for people and Markdown with diffs for pull requests', async () => {
    const r = await repoWith(fleetFiles(2));
    await apply(r);
    await r.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers=8.8.8.8\n' }, 'dns');
    const text = await cli(['plan'], { cwd: r.dir, env: env() });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('site-1');
    expect(text.stdout).toMatch(/~ modified\s+sites\/site-1\/10-dns\.rsc/);
    expect(text.stdout).toContain('no changes (2 scripts)');
    expect(text.stdout).not.toMatch(/\x1b\[/); // no colours off a terminal
    const md = await cli(['plan', '--format', 'markdown'], { cwd: r.dir, env: env() });
    expect(md.stdout).toContain('```diff');
    expect(md.stdout).toContain('-/ip dns set servers=1.1.1.1');
    expect(md.stdout).toContain('+/ip dns set servers=8.8.8.8');
  });

  it('colours only on a terminal and never with NO_COLOR', async () => {
    const r = await repoWith(fleetFiles(1));
    expect((await cli(['plan'], { cwd: r.dir, tty: true })).stdout).toMatch(/\x1b\[/);
    expect((await cli(['plan'], { cwd: r.dir, tty: true, env: { NO_COLOR: '1' } })).stdout).not.toMatch(/\x1b\[/);
  });

  it('status shows per site the last applied commit, outcome and time', async () => {
    const r = await repoWith(fleetFiles(2));
    const head = await r.git(['rev-parse', 'HEAD']);
    expect((await cli(['status'], { cwd: r.dir })).stdout).toContain('Nothing has been applied yet');
    await apply(r);
    const s = await cli(['status', '--format', 'json'], { cwd: r.dir });
    const rows = s.json<{ sites: Array<{ site: string; last_commit: string; outcome: string; at: string }> }>().sites;
    expect(rows.map((x) => [x.site, x.last_commit, x.outcome])).toEqual([
      ['site-1', head, 'succeeded'],
      ['site-2', head, 'succeeded'],
    ]);
    expect(Date.parse(rows[0]!.at)).toBeGreaterThan(0);
  });

  it('--help and --version work everywhere', async () => {
    const r = await repoWith(fleetFiles(1));
    for (const args of [['--help'], ['plan', '--help'], ['apply', '--help'], ['validate', '--help'], ['status', '--help'], ['--version']]) {
      const res = await cli(args, { cwd: r.dir });
      expect(res.code, args.join(' ')).toBe(0);
      expect(res.stdout.length).toBeGreaterThan(3);
    }
    expect((await cli(['--version'], { cwd: r.dir })).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await cli(['plan', '--bogus'], { cwd: r.dir })).code).toBe(2);
    expect((await cli(['frobnicate'], { cwd: r.dir })).code).toBe(2);
  });
});
