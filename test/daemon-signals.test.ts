// The daemon as a service: one per repository, SIGTERM in the middle of an apply then a restart
// (nothing lost, nothing sent twice), SIGHUP reloading the secrets, and jobs left pending by a run
// followed to their outcome without a new commit. Real processes, real repositories, the sandbox.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TempRepo } from './helpers/git-repo.js';
import { cli, fleetFiles, SITE_IDS } from './helpers/cli.js';
import { useLifecycle } from './helpers/lifecycle.js';
import type { SandboxOptions } from '../src/sandbox/sandbox.js';
import { ensureBuilt, eventually, spawnDaemon, type DaemonProcess } from './daemon-harness.js';

const life = useLifecycle();
beforeAll(() => ensureBuilt());

async function setup(files: Record<string, string>, sandboxOptions: SandboxOptions = {}) {
  const { r: repo, sb: sandbox, env } = await life.fleet(files, sandboxOptions, { RGO_SECRETS_KEY: 'daemon-test-secrets-key-0123' });
  const start = (args: string[] = []) => {
    const d = spawnDaemon(args, { cwd: repo.dir, env });
    life.defer(async () => {
      if (d.child.exitCode === null && d.child.signalCode === null) await d.stop();
    });
    return d;
  };
  return { sandbox, repo, start };
}

const finished = (d: DaemonProcess, sha: string, from = 0, timeoutMs = 10_000) =>
  d.waitFor((l) => l.event === 'reconcile-finished' && l.commit === sha, { from, timeoutMs, what: `the run of ${sha.slice(0, 7)}` });

type StatusJson = { sites: Array<{ site: string; scripts: Array<{ path: string; phase: string; job_id: string | null }> }> };
const scriptsOf = async (repo: TempRepo) =>
  (await cli(['status', '--format', 'json'], { cwd: repo.dir })).json<StatusJson>().sites.flatMap((s) => s.scripts.map((x) => ({ site: s.site, ...x })));

describe('watch as a service', () => {
  it('a second daemon on the same repository refuses to start, naming the first one', async () => {
    const { sandbox, repo, start } = await setup(fleetFiles(1));
    const first = start();
    await finished(first, await repo.git(['rev-parse', 'HEAD']));
    const posts = sandbox.stats().posts;

    const second = start();
    expect(await Promise.race([second.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))])).toBe(1);
    expect(second.text.join('\n')).toContain(`pid ${first.pid}`);
    expect(second.text.join('\n')).toMatch(/already watching this repository/);
    expect(second.events('reconcile-started')).toEqual([]);
    expect(sandbox.stats().posts).toBe(posts);

    // The first one is unaffected, and once it is gone a new one starts.
    expect(await first.stop()).toBe(0);
    const third = start();
    await third.waitFor((l) => l.event === 'watching', { what: 'the third daemon to start' });
    expect(await third.stop()).toBe(0);
  });

  it('SIGTERM in the middle of an apply, then a restart: every script applied by exactly one job', async () => {
    // Slow routers, acknowledgement on: each site's scripts go one after another.
    const scripts = {
      '00-identity.rsc': '/system identity set name=${{ site.name }}\n',
      '10-dns.rsc': '/ip dns set servers=1.1.1.1\n',
      '20-ntp.rsc': '/system ntp client set enabled=yes\n',
    };
    const { sandbox, repo, start } = await setup(fleetFiles(4, scripts), { checkinIntervalMs: 150, runMs: 100 });
    const head = await repo.git(['rev-parse', 'HEAD']);

    const first = start(['--shutdown-timeout', '10s']);
    await first.waitFor((l) => l.msg === 'job created', { what: 'the first job' });
    const t0 = Date.now();
    expect(await first.stop()).toBe(0);
    console.log(`SIGTERM mid-apply: exited 0 in ${Date.now() - t0} ms`);
    expect(first.events('stopped')).toHaveLength(1);
    expect(first.events('reconcile-finished').at(-1)!.result).toBe('interrupted');
    const createdBeforeStop = sandbox.jobs();
    expect(createdBeforeStop.length).toBeGreaterThan(0);
    expect(createdBeforeStop.length).toBeLessThan(12);
    // Every job created before the stop is in the state (its outcome, or that it is pending).
    const recorded = new Set((await scriptsOf(repo)).map((s) => s.job_id));
    for (const j of createdBeforeStop) expect(recorded.has(j.id), `job ${j.id} recorded`).toBe(true);

    const second = start();
    const done = await finished(second, head, 0, 20_000);
    expect(done.result).toBe('succeeded');
    expect(await second.stop()).toBe(0);

    // Nothing lost: all 12 scripts succeeded. Nothing duplicated: one job per key, 12 jobs.
    const after = await scriptsOf(repo);
    expect(after).toHaveLength(12);
    expect(after.every((s) => s.phase === 'succeeded')).toBe(true);
    const jobs = sandbox.jobs();
    expect(jobs).toHaveLength(12);
    expect(sandbox.createdCounts().every((c) => c.count === 1)).toBe(true);
    expect(new Set(after.map((s) => s.job_id))).toEqual(new Set(jobs.map((j) => j.id)));
    // The jobs the first process left pending were followed, not created again.
    const pendingAtStop = createdBeforeStop.filter((j) => !j.completed_at && !j.failed_at).length;
    expect(second.logs.filter((l) => l.msg === 'following an existing job').length).toBeGreaterThanOrEqual(pendingAtStop > 0 ? 1 : 0);
  });

  it('SIGHUP re-reads the secrets file and reconciles the head again', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rgo-secrets-'));
    life.defer(() => rm(dir, { recursive: true, force: true }));
    const secrets = path.join(dir, 'secrets.yaml');
    await writeFile(secrets, 'fleet:\n  dns: 192.0.2.1\n');
    const posts: string[] = [];
    const { repo, start } = await setup(fleetFiles(1, { '10-dns.rsc': '/ip dns set servers=${{ secrets.dns }}\n' }), {
      inspectRequest: (r) => void (r.method === 'POST' && posts.push(r.body)),
    });
    const head = await repo.git(['rev-parse', 'HEAD']);
    const d = start(['--secrets-file', secrets]);
    await finished(d, head);
    expect(posts).toEqual(['/ip dns set servers=192.0.2.1\n']);

    await writeFile(secrets, 'fleet:\n  dns: 192.0.2.2\n');
    const mark = d.logs.length;
    d.child.kill('SIGHUP');
    await d.waitFor((l) => l.event === 'reloaded', { from: mark, what: 'the reload' });
    expect((await finished(d, head, mark)).result).toBe('succeeded');
    expect(posts).toEqual(['/ip dns set servers=192.0.2.1\n', '/ip dns set servers=192.0.2.2\n']);
    // Secret values never reach the logs.
    expect(JSON.stringify(d.logs)).not.toMatch(/192\.0\.2\.[12]/);
    expect(await d.stop()).toBe(0);
  });

  it('follows a job still pending after a run to its outcome, without a new commit and without a second job', async () => {
    const { sandbox, repo, start } = await setup(
      { ...fleetFiles(1), 'sites/routeros-gitops.yaml': 'timeout: 1\n' },
      { sites: [{ id: SITE_IDS[0]!, online: false }] },
    );
    const head = await repo.git(['rev-parse', 'HEAD']);
    const d = start(['--retry-interval', '300ms', '--listen', '127.0.0.1:0']);
    const firstRun = await finished(d, head);
    expect(firstRun.result).toBe('pending');
    expect(firstRun.follow_up).toBe(true);
    const health = (await (await fetch(`${await d.url()}/healthz`)).json()) as { pending_jobs: number; next_retry_at: string | null };
    expect(health.pending_jobs).toBeGreaterThan(0);

    sandbox.setOnline(SITE_IDS[0]!, true);
    const mark = d.logs.length;
    const done = await eventually(
      () => d.events('reconcile-finished', mark).find((l) => l.result === 'succeeded'),
      10_000,
      'a follow-up run that records success',
    );
    expect(done.commit).toBe(head);
    expect(sandbox.stats().jobsCreated).toBe(2);
    expect(sandbox.createdCounts().every((c) => c.count === 1)).toBe(true);
    expect((await scriptsOf(repo)).map((s) => s.phase)).toEqual(['succeeded', 'succeeded']);
    expect(await d.stop()).toBe(0);
  });
});
