// The daemon in local mode, as a real process on a real repository against the sandbox: a commit
// reaches the API within 2 s (the latency is measured and printed), a burst of commits is one run
// per settled head, and the three endpoints answer as the README documents.
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TempRepo } from './helpers/git-repo.js';
import { fleetFiles, SITE_IDS } from './helpers/cli.js';
import { recordPosts, sandboxEnv, useLifecycle } from './helpers/lifecycle.js';
import type { Sandbox } from '../src/sandbox/sandbox.js';
import { ensureBuilt, eventually, spawnDaemon, type DaemonProcess } from './daemon-harness.js';

const life = useLifecycle('all');
/** Every POST the sandbox received: when, and for which site. */
const { posts, inspect } = recordPosts();
let sandbox: Sandbox;
let repo: TempRepo;
let daemon: DaemonProcess;
let base: string;

beforeAll(async () => {
  ensureBuilt();
  sandbox = await life.sandbox({ inspectRequest: inspect });
  repo = await life.repo(fleetFiles(2));
  life.defer(async () => {
    if (daemon) expect(await daemon.stop()).toBe(0);
  });
  daemon = spawnDaemon(['--listen', '127.0.0.1:0', '--retry-interval', '1s'], { cwd: repo.dir, env: sandboxEnv(sandbox) });
  base = await daemon.url();
});

const finishedAt = (sha: string, from = 0) =>
  daemon.waitFor((l) => l.event === 'reconcile-finished' && l.commit === sha, { from, timeoutMs: 10_000, what: `the run of ${sha.slice(0, 7)}` });

/** Change one script and commit; returns the sha and the time `git commit` returned. */
async function commitDns(server: string, site = 'site-1') {
  await writeFile(path.join(repo.dir, 'sites', site, '10-dns.rsc'), `/ip dns set servers=${server}\n`);
  await repo.git(['add', '-A']);
  await repo.git(['commit', '-q', '--no-verify', '-m', `dns ${server}`]);
  const committedAt = performance.now();
  return { sha: await repo.git(['rev-parse', 'HEAD']), committedAt };
}

describe('watch (local mode)', () => {
  it('applies the head it finds at start', async () => {
    const head = await repo.git(['rev-parse', 'HEAD']);
    const done = await finishedAt(head);
    expect(done.result).toBe('succeeded');
    expect(sandbox.stats().jobsCreated).toBe(4);
  });

  it('sends a new commit to the API within 2 seconds (commit-to-job latency over 10 commits)', async () => {
    const latencies: number[] = [];
    for (let i = 1; i <= 10; i++) {
      const before = posts.length;
      const mark = daemon.logs.length;
      const { sha, committedAt } = await commitDns(`10.0.0.${i}`);
      const post = await eventually(() => posts.slice(before).find((p) => p.body.includes(`10.0.0.${i}`)), 5000, `the POST of commit ${i}`);
      latencies.push(post.at - committedAt);
      expect((await finishedAt(sha, mark)).result).toBe('succeeded');
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const ms = (n: number) => Math.round(n);
    console.log(
      `commit-to-job latency, local mode, ${latencies.length} commits (ms): min ${ms(sorted[0]!)}, median ${ms(sorted[Math.floor(sorted.length / 2)]!)}, max ${ms(sorted.at(-1)!)}; all: ${latencies.map(ms).join(', ')}`,
    );
    expect(Math.max(...latencies)).toBeLessThan(2000);
  });

  it('turns 20 commits made in quick succession into one run per settled head, not 20', async () => {
    const mark = daemon.logs.length;
    const postsBefore = posts.length;
    const dns = path.join(repo.dir, 'sites', 'site-1', '10-dns.rsc');
    const t0 = performance.now();
    for (let i = 1; i <= 20; i++) {
      await writeFile(dns, `/ip dns set servers=10.1.0.${i}\n`);
      await repo.git(['commit', '-qam', `dns ${i}`, '--no-verify']);
    }
    const burstMs = performance.now() - t0;
    const last = await repo.git(['rev-parse', 'HEAD']);
    await finishedAt(last, mark);
    // Nothing else is queued behind it.
    await new Promise((r) => setTimeout(r, 400));
    const runs = daemon.events('reconcile-started', mark).map((l) => String(l.commit));
    console.log(`20 commits in ${Math.round(burstMs)} ms -> ${runs.length} run(s)`);
    expect(runs.length).toBeGreaterThanOrEqual(1);
    // The refs settle after the burst: one run then. While they keep moving, the debounce still
    // looks once a second (its longest wait), so a slow machine's longer burst may add one a second.
    expect(runs.length).toBeLessThanOrEqual(2 + Math.floor(burstMs / 1000));
    expect(runs.length).toBeLessThan(20);
    expect(runs.at(-1)).toBe(last);
    expect(new Set(runs).size).toBe(runs.length);
    // One job per run (one script changed), the last with the newest content.
    const sent = posts.slice(postsBefore);
    expect(sent.length).toBe(runs.length);
    expect(sent.at(-1)!.body).toContain('10.1.0.20');
  });

  it('answers /healthz, /metrics and /status as documented', async () => {
    const head = await repo.git(['rev-parse', 'HEAD']);
    const h = await fetch(`${base}/healthz`);
    expect(h.status).toBe(200);
    const health = (await h.json()) as Record<string, unknown> & { last_reconcile: Record<string, unknown> };
    expect(health).toMatchObject({
      status: 'ready',
      ready: true,
      mode: 'local',
      ref: 'refs/heads/main',
      head,
      last_applied_revision: head,
      reconciling: false,
      pending_jobs: 0,
    });
    expect(health.last_reconcile).toMatchObject({ commit: head, result: 'succeeded' });
    expect(Date.parse(String(health.last_reconcile.finished_at))).toBeGreaterThan(0);

    const m = await fetch(`${base}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await m.text();
    // Valid exposition: comments, or `name{labels} number`.
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[\d.e+]+)$/);
    const metric = (name: string) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const runs = daemon.events('reconcile-finished');
    expect(metric('routeros_gitops_reconciles_total{result="succeeded"}')).toBe(runs.filter((l) => l.result === 'succeeded').length);
    expect(metric('routeros_gitops_reconciles_total{result="error"}')).toBe(0);
    expect(metric('routeros_gitops_jobs_total{outcome="succeeded"}')).toBe(sandbox.stats().jobsCreated);
    expect(metric('routeros_gitops_sdx_requests_total{status="201"}')).toBe(sandbox.stats().byMethodStatus['POST 201']);
    expect(metric('routeros_gitops_pending_jobs')).toBe(0);
    expect(metric('routeros_gitops_ready')).toBe(1);
    const commitTime = Date.parse(await repo.git(['log', '-1', '--format=%cI']));
    expect(metric('routeros_gitops_last_applied_commit_timestamp_seconds')).toBe(commitTime / 1000);
    expect(metric('routeros_gitops_reconcile_duration_seconds_count')).toBe(runs.length);

    const s = await fetch(`${base}/status`);
    expect(s.status).toBe(200);
    const status = (await s.json()) as {
      daemon: Record<string, unknown>;
      state: string;
      sites: Array<{ site: string; site_id: string; last_commit: string; outcome: string }>;
    };
    expect(status.state).toBe('ref refs/routeros-gitops/state');
    expect(status.daemon).toMatchObject({ status: 'ready', head, last_applied_revision: head });
    expect(status.sites.map((x) => [x.site, x.site_id, x.last_commit, x.outcome])).toEqual([
      ['site-1', SITE_IDS[0], head, 'succeeded'],
      ['site-2', SITE_IDS[1], await repo.git(['rev-list', '--max-parents=0', 'HEAD']), 'succeeded'],
    ]);

    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('follows the branch checked out at start: a checkout and commits elsewhere are not applied', async () => {
    const mark = daemon.logs.length;
    const jobs = sandbox.stats().jobsCreated;
    await repo.git(['checkout', '-q', '-b', 'experiment']);
    await commitDns('203.0.113.1');
    // The refs moved (a new branch, HEAD): give the watcher time to look, and see it do nothing.
    await new Promise((r) => setTimeout(r, 800));
    expect(daemon.events('reconcile-started', mark)).toEqual([]);
    expect(sandbox.stats().jobsCreated).toBe(jobs);
    // Merging it into main is a new commit on main: applied.
    await repo.git(['checkout', '-q', 'main']);
    await repo.git(['merge', '-q', '--ff-only', 'experiment']);
    const merged = await repo.git(['rev-parse', 'HEAD']);
    expect((await finishedAt(merged, mark)).result).toBe('succeeded');
    expect(posts.at(-1)!.body).toContain('203.0.113.1');
  });
});
