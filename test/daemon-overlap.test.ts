// The daemon does not make a new commit wait for an earlier run's jobs. A commit lands while the
// previous run still follows its jobs: a site with nothing in flight gets its job at once, a site
// whose earlier job is still queued gets that job superseded (cancelled, never run), a site whose
// earlier job is running waits only for that job. Per-site order, one job per send and the lease
// all hold, and the earlier run still records its outcomes. The daemon is a real process on a real
// repository; the routers are the sandbox's, one of them offline, one slow.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox, SandboxJob } from '../src/sandbox/sandbox.js';
import { ensureBuilt, eventually, spawnDaemon, type DaemonProcess } from './daemon-harness.js';
import { fleetFiles, SITE_IDS } from './helpers/cli.js';
import type { TempRepo } from './helpers/git-repo.js';
import { recordPosts, sandboxEnv, useLifecycle } from './helpers/lifecycle.js';

const life = useLifecycle('all');
const { posts, inspect } = recordPosts();
const [A, B, C, D] = SITE_IDS as [string, string, string, string];
/** Site-3's router runs a job for this long: the second commit lands while its first job runs. */
const SLOW_RUN_MS = 5000;
let sandbox: Sandbox;
let repo: TempRepo;
let daemon: DaemonProcess;

beforeAll(async () => {
  ensureBuilt();
  sandbox = await life.sandbox({ inspectRequest: inspect, checkinIntervalMs: 100, sites: [{ id: C, runMs: SLOW_RUN_MS, checkinIntervalMs: 50 }] });
  repo = await life.repo(fleetFiles(4));
  life.defer(async () => {
    if (daemon) expect(await daemon.stop()).toBe(0);
  });
  daemon = spawnDaemon(['--retry-interval', '1s'], { cwd: repo.dir, env: sandboxEnv(sandbox) });
});

const finished = (sha: string, timeoutMs = 30_000) =>
  daemon.waitFor((l) => l.event === 'reconcile-finished' && l.commit === sha, { timeoutMs, what: `the run of ${sha.slice(0, 7)}` });

/** Set site scripts' DNS server (and on site-3 its NTP server too: a second script, sent after the first) and commit. */
async function commitDns(server: string, sites: string[]): Promise<{ sha: string; at: number }> {
  for (const s of sites) await writeFile(path.join(repo.dir, 'sites', s, '10-dns.rsc'), `/ip dns set servers=${server}\n`);
  if (sites.includes('site-3')) await writeFile(path.join(repo.dir, 'sites', 'site-3', '20-ntp.rsc'), `/system ntp client set servers=${server}\n`);
  await repo.git(['add', '-A']);
  await repo.git(['commit', '-qam', `dns ${server} on ${sites.join(', ')}`, '--no-verify']);
  return { sha: await repo.git(['rev-parse', 'HEAD']), at: performance.now() };
}

const jobOf = (site: string, server: string, menu = '/ip dns'): SandboxJob | undefined =>
  sandbox.jobs(site).find((j) => j.script.includes(menu) && j.script.includes(`servers=${server}`));
const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Number.NaN);

describe('watch: a new commit while earlier jobs are followed', () => {
  it('sends at once where nothing is in flight, supersedes a queued job, waits only for a running one', { timeout: 120_000 }, async () => {
    expect((await finished(await repo.git(['rev-parse', 'HEAD']))).result).toBe('succeeded');

    // Commit 1 on sites 1-3; site-2's router goes offline first (its job stays queued).
    sandbox.setOnline(B, false);
    const c1 = await commitDns('10.0.0.1', ['site-1', 'site-2', 'site-3']);
    await eventually(() => jobOf(B, '10.0.0.1'), 10_000, "site-2's queued job of commit 1");
    await eventually(() => jobOf(C, '10.0.0.1')?.started_at, 10_000, "site-3's running job of commit 1");
    expect(jobOf(C, '10.0.0.1')!.completed_at).toBeNull();

    // Commit 2 on sites 2-4, while commit 1's run follows site-2's queued job and site-3's running one.
    const before = posts.length;
    const c2 = await commitDns('10.0.0.2', ['site-2', 'site-3', 'site-4']);
    const postD = await eventually(
      () => posts.slice(before).find((p) => p.site === D && p.body.includes('10.0.0.2')),
      10_000,
      "site-4's POST of commit 2",
    ).catch((e) => {
      console.log(
        daemon.logs
          .slice(-40)
          .map((l) => JSON.stringify(l).slice(0, 300))
          .join('\n'),
      );
      throw e;
    });
    console.log(`commit-to-job while earlier jobs are followed: ${Math.round(postD.at - c2.at)} ms`);
    const d2 = await eventually(() => jobOf(D, '10.0.0.2'), 5000, "site-4's job of commit 2");
    // Site-4 had nothing in flight: its job did not wait for site-3's running job of commit 1.
    const c1OnC = jobOf(C, '10.0.0.1')!;
    expect(c1OnC.completed_at === null || ms(d2.created_at) < ms(c1OnC.completed_at)).toBe(true);

    // Site-2: its queued job of commit 1 is cancelled before commit 2's is created; it never ran.
    await eventually(() => jobOf(B, '10.0.0.2'), 10_000, "site-2's job of commit 2");
    sandbox.setOnline(B, true);
    const r1 = await finished(c1.sha, 60_000);
    const r2 = await finished(c2.sha, 60_000);

    const b1 = jobOf(B, '10.0.0.1')!;
    const b2 = jobOf(B, '10.0.0.2')!;
    expect(b1.cancelled).toBe(true);
    expect(b1.started_at).toBeNull();
    expect(b2.completed_at).not.toBeNull();

    // Site-3: commit 2's job was created only once commit 1's had finished (per-site order).
    const c3a = jobOf(C, '10.0.0.1')!;
    const c3b = jobOf(C, '10.0.0.2')!;
    expect(c3a.completed_at).not.toBeNull();
    expect(ms(c3b.created_at)).toBeGreaterThanOrEqual(ms(c3a.completed_at));
    expect(c3b.completed_at).not.toBeNull();
    // Its second script: commit 1's run was following the first job when it handed the site over,
    // so commit 1's NTP content was never sent after (or instead of) commit 2's.
    const ntp1 = jobOf(C, '10.0.0.1', '/system ntp');
    expect(ntp1 === undefined || (ntp1.cancelled && ntp1.started_at === null)).toBe(true);
    const ntp2 = jobOf(C, '10.0.0.2', '/system ntp')!;
    expect(ms(ntp2.created_at)).toBeGreaterThanOrEqual(ms(c3b.completed_at));
    expect(ntp2.completed_at).not.toBeNull();

    // The earlier run recorded its own outcomes, and handed site-2 over: not a failure.
    expect(['succeeded', 'pending']).toContain(r1.result);
    expect((r1.summary as { succeeded: number }).succeeded).toBeGreaterThanOrEqual(2); // sites 1 and 3
    expect(r2.result).toBe('succeeded');

    // One job per send, and each router ran HEAD's content last.
    expect(sandbox.createdCounts().filter((x) => x.count > 1)).toEqual([]);
    for (const [site, server, menu] of [
      [A, '10.0.0.1', '/ip dns'],
      [B, '10.0.0.2', '/ip dns'],
      [C, '10.0.0.2', '/ip dns'],
      [C, '10.0.0.2', '/system ntp'],
      [D, '10.0.0.2', '/ip dns'],
    ] as const) {
      const ran = sandbox
        .jobs(site)
        .filter((j) => j.script.includes(menu) && j.completed_at)
        .sort((x, y) => ms(x.completed_at) - ms(y.completed_at));
      expect(ran.at(-1)!.script).toContain(`servers=${server}`);
    }
    // The lease was released once both runs ended.
    const lease = JSON.parse(await repo.git(['show', 'refs/routeros-gitops/state:lease.json'])) as { holder: unknown };
    expect(lease.holder).toBeNull();
  });
});
