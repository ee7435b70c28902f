// Apply through the CLI against the sandbox over loopback: exactly once, whatever fails.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { TempRepo } from './helpers/git-repo.js';
import { cli, fleetFiles, SITE_IDS } from './helpers/cli.js';
import { useLifecycle, type Fleet } from './helpers/lifecycle.js';
import { createSpecValidator, waitFor } from './helpers/sandbox.js';
import type { Sandbox, SandboxOptions } from '../src/sandbox/sandbox.js';

const SECRETS_KEY = 'k3y-of-the-secrets-0123456789';
const life = useLifecycle();
const setup = (files: Record<string, string>, opts: SandboxOptions = {}): Promise<Fleet> => life.fleet(files, opts, { RGO_POLL_MAX_MS: '60' });

type ApplyJson = {
  results: Array<{ site: string; path: string; outcome: string; job_id: string | null; idempotency_key: string; reason: string | null }>;
  summary: Record<string, number>;
  requests: number;
  retries: Record<string, number>;
};

const apply = async (r: TempRepo, env: Record<string, string>, extra: string[] = []) => {
  const res = await cli(['apply', '--format', 'json', ...extra], { cwd: r.dir, env });
  return { code: res.code, out: res.json<ApplyJson>(), stderr: res.stderr };
};

function expectExactlyOnce(sb: Sandbox) {
  const counts = sb.createdCounts();
  expect(counts.filter((c) => c.count !== 1)).toEqual([]);
  return counts.length;
}

/** Many sites, several scripts each. */
function bigFleet(sites: number, scripts: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let s = 0; s < sites; s++) {
    const id = `aaaaaaaa-bbbb-4ccc-8ddd-${s.toString(16).padStart(12, '0')}`;
    files[`sites/s${s}/site.yaml`] = `id: ${id}\n`;
    for (let n = 0; n < scripts; n++) files[`sites/s${s}/${n}0-x.rsc`] = `/ip dns set servers=10.0.${s}.${n}\n`;
  }
  return files;
}

describe('apply', () => {
  it('creates exactly one job per change, none on a rerun, one for a one-script commit; every request matches the spec', async () => {
    const validator = await createSpecValidator();
    const { r, sb, env } = await setup(fleetFiles(3), { inspectRequest: (req) => validator.inspect(req) });
    const first = await apply(r, env);
    expect(first.code).toBe(0);
    expect(first.out.results.map((x) => x.outcome)).toEqual(Array(6).fill('succeeded'));
    expect(sb.stats().jobsCreated).toBe(6);
    expect(expectExactlyOnce(sb)).toBe(6);
    // The jobs carry the scripts, rendered, with the description and the plan's key.
    const job = sb.jobs(SITE_IDS[0]).find((j) => j.script.startsWith('/system identity'))!;
    expect(job.script).toBe('/system identity set name=site-1\n');
    expect(job.description).toMatch(/^gitops site-1: sites\/site-1\/00-identity\.rsc @[0-9a-f]{7}$/);
    expect(first.out.results.find((x) => x.job_id === job.id)!.idempotency_key).toBe(job.idempotency_key);

    const again = await apply(r, env);
    expect(again.out.results).toEqual([]);
    expect(sb.stats().jobsCreated).toBe(6);

    await r.commit({ 'sites/site-3/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' }, 'one script');
    const third = await apply(r, env);
    expect(third.out.results.map((x) => [x.site, x.outcome])).toEqual([['site-3', 'succeeded']]);
    expect(sb.stats().jobsCreated).toBe(7);
    expect(validator.seen()).toBeGreaterThan(10);
    expect(validator.violations).toEqual([]);
    // Few requests: one POST and a few GETs per change.
    expect(third.out.requests).toBeLessThanOrEqual(4);
  });

  it('a failing script blocks only its own site; the failure is not resent unless --retry-failed, with a new key', async () => {
    const files = fleetFiles(2, {
      '00-a.rsc': '/ip dns set servers=1.1.1.1\n',
      '10-b.rsc': '/ip dns set cache-size=4096KiB\n',
      '20-c.rsc': '/ip dns set allow-remote-requests=no\n',
    });
    files['sites/site-1/10-b.rsc'] = '/ip dns set cache-size=4096KiB\n:error "sandbox-fail"\n';
    const { r, sb, env } = await setup(files);
    const res = await apply(r, env);
    expect(res.code).toBe(1);
    expect(res.out.results.map((x) => [x.site, x.path.split('/').pop(), x.outcome])).toEqual([
      ['site-1', '00-a.rsc', 'succeeded'],
      ['site-1', '10-b.rsc', 'failed'],
      ['site-1', '20-c.rsc', 'blocked'],
      ['site-2', '00-a.rsc', 'succeeded'],
      ['site-2', '10-b.rsc', 'succeeded'],
      ['site-2', '20-c.rsc', 'succeeded'],
    ]);
    expect(sb.stats().jobsCreated).toBe(5);
    const failedKey = res.out.results[1]!.idempotency_key;
    // Not resent by itself.
    const again = await apply(r, env);
    expect(again.out.results.map((x) => x.outcome)).toEqual(['skipped', 'blocked']);
    expect(sb.stats().jobsCreated).toBe(5);
    // Retried on request, with a new key (and it fails again: the script still has the marker).
    const retry = await apply(r, env, ['--retry-failed']);
    expect(retry.out.results[0]!.outcome, JSON.stringify(retry.out.results)).toBe('failed');
    expect(retry.out.results[0]!.idempotency_key).not.toBe(failedKey);
    expect(sb.stats().jobsCreated).toBe(6);
    // Fixing the script sends it and unblocks the rest.
    await r.commit({ 'sites/site-1/10-b.rsc': '/ip dns set cache-size=4096KiB\n' }, 'fix');
    const fixed = await apply(r, env);
    expect(fixed.code).toBe(0);
    expect(fixed.out.results.map((x) => x.outcome)).toEqual(['succeeded', 'succeeded']);
  });

  it("an offline router's jobs stay queued without holding up the others, and the next run follows them", async () => {
    const { r, sb, env } = await setup(fleetFiles(3));
    sb.setOnline(SITE_IDS[1]!, false);
    const res = await apply(r, env, ['--timeout', '1']);
    expect(res.code).toBe(1);
    const bySite = (site: string) => res.out.results.filter((x) => x.site === site).map((x) => x.outcome);
    expect(bySite('site-1')).toEqual(['succeeded', 'succeeded']);
    expect(bySite('site-3')).toEqual(['succeeded', 'succeeded']);
    expect(bySite('site-2')).toEqual(['timed_out', 'blocked']);
    expect(sb.jobs(SITE_IDS[1]).map((j) => j.started_at)).toEqual([null]);
    const status = await cli(['status', '--format', 'json'], { cwd: r.dir });
    expect(status.json<{ sites: Array<{ site: string; outcome: string }> }>().sites.find((s) => s.site === 'site-2')!.outcome).toBe('pending');
    // Back online: the next run follows the same job (no second one) and sends the rest.
    sb.setOnline(SITE_IDS[1]!, true);
    const next = await apply(r, env);
    expect(next.code, JSON.stringify(next.out.results)).toBe(0);
    expect(next.out.results.map((x) => [x.site, x.outcome])).toEqual([
      ['site-2', 'succeeded'],
      ['site-2', 'succeeded'],
    ]);
    expect(expectExactlyOnce(sb)).toBe(6);
  });

  it('a run at an older commit sends nothing for the sites applied from a newer one', async () => {
    const { r, sb, env } = await setup(fleetFiles(2));
    const old = await r.git(['rev-parse', 'HEAD']);
    await r.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' }, 'newer');
    expect((await apply(r, env)).code).toBe(0);
    const jobs = sb.stats().jobsCreated;
    const res = await apply(r, env, ['--ref', old]);
    expect(res.code).toBe(0);
    // site-2 is the same at both commits: nothing to do there; site-1 is stale.
    expect(res.out.results.map((x) => [x.site, x.outcome])).toEqual([['site-1', 'stale']]);
    expect(res.out.results[0]!.reason).toMatch(/older than .*never backwards/);
    expect(sb.stats().jobsCreated).toBe(jobs);
    const plan = await cli(['plan'], { cwd: r.dir, env, tty: false });
    expect(plan.stdout).toContain('No changes');
  });

  it('never backwards for the whole fleet: an older run sends nothing even to a site the newer run did not change', async () => {
    const { r, sb, env } = await setup(fleetFiles(2));
    expect((await apply(r, env)).code).toBe(0); // c1: everything applied
    const c2 = await r.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' }, 'c2: site-1 changes (never applied on its own)');
    // c3 reverts site-1 and changes site-2: site-1 has nothing to send at c3, so only site-2 is applied.
    await r.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers=1.1.1.1\n', 'sites/site-2/10-dns.rsc': '/ip dns set servers=8.8.8.8\n' }, 'c3');
    const third = await apply(r, env);
    expect(third.out.results.map((x) => x.site)).toEqual(['site-2']);
    const jobs = sb.stats().jobsCreated;
    // An out-of-order run at c2 would send site-1's 9.9.9.9, which c3 undid: it is stale everywhere.
    const late = await apply(r, env, ['--ref', c2]);
    expect(late.out.results.map((x) => [x.site, x.outcome])).toEqual([
      ['site-1', 'stale'],
      ['site-2', 'stale'],
    ]);
    expect(late.out.results[0]!.reason).toMatch(/which the fleet was last applied at/);
    expect(sb.stats().jobsCreated).toBe(jobs);
    const status = await cli(['status', '--format', 'json'], { cwd: r.dir });
    expect(status.json<{ sites: Array<{ site: string }> }>().sites.map((s) => s.site)).toEqual(['site-1', 'site-2']);
  });

  it('a newer commit supersedes a queued job of an older one: cancelled before the new one is created', async () => {
    const { r, sb, env } = await setup(fleetFiles(1));
    sb.setOnline(SITE_IDS[0]!, false);
    const first = await apply(r, env, ['--no-wait']);
    expect(first.out.results.map((x) => x.outcome)).toEqual(['queued', 'queued']);
    await r.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' }, 'newer dns');
    const second = await apply(r, env, ['--no-wait']);
    expect(second.code).toBe(0);
    sb.setOnline(SITE_IDS[0]!, true);
    const third = await apply(r, env);
    expect(third.code, JSON.stringify(third.out.results)).toBe(0);
    const jobs = sb.jobs(SITE_IDS[0]);
    expect(jobs).toHaveLength(3);
    const dns = jobs.filter((j) => j.script.includes('servers='));
    expect(dns.map((j) => [j.script.trim(), j.cancelled])).toEqual([
      ['/ip dns set servers=1.1.1.1', true],
      ['/ip dns set servers=9.9.9.9', false],
    ]);
    expect(dns[1]!.completed_at).not.toBeNull();
  });

  it('with 30% of requests failing (5xx, 429, resets, lost responses, stalls) every change is applied exactly once and the run ends', async () => {
    const { r, sb, env } = await setup(bigFleet(20, 5), {
      faults: {
        probability: 0.3,
        seed: 7,
        stallMs: 300,
        retryAfterSeconds: 0,
        kinds: ['error500', 'html502', 'unavailable503', 'throttle429', 'throttle429NoRetryAfter', 'resetBefore', 'lostAfter', 'stall'],
      },
    });
    const res = await cli(['apply', '--format', 'json', '--concurrency', '8'], { cwd: r.dir, env: { ...env, RGO_POLL_MAX_MS: '40' } });
    const out = res.json<ApplyJson>();
    // Some changes may end failed when a request ran out of retries; none is ever sent twice, and a
    // rerun finishes the rest.
    let runs = 1;
    let last = out;
    while (last.results.some((x) => x.outcome !== 'succeeded') && runs < 5) {
      last = (await apply(r, env)).out;
      runs++;
    }
    expect(last.results.every((x) => x.outcome === 'succeeded')).toBe(true);
    expect(expectExactlyOnce(sb)).toBe(100);
    const faults = Object.values(sb.stats().faults).reduce((a, b) => a + b, 0);
    expect(faults).toBeGreaterThan(30);
    expect(Object.keys(out.retries).length).toBeGreaterThan(0); // the report says what was retried
    const plan = await cli(['plan', '--format', 'json'], { cwd: r.dir, env });
    expect(plan.json<{ changes: unknown[] }>().changes).toEqual([]);
  }, 120_000);

  it('a run killed (SIGKILL) after some POSTs, then run again (also at a later commit touching other scripts), creates no second job', async () => {
    const posts: number[] = [];
    const { r, sb, env } = await setup(bigFleet(6, 3), {
      checkinIntervalMs: 150,
      runMs: 20,
      inspectRequest: (req) => req.method === 'POST' && posts.push(Date.now()),
    });
    const child = spawn(process.execPath, ['build/cli.js', 'apply', '-C', r.dir, '--concurrency', '6'], {
      env: { ...process.env, ...env, RGO_LOG_LEVEL: 'error' },
      stdio: 'ignore',
    });
    const exited = new Promise((res) => child.on('exit', res));
    await waitFor(() => posts.length >= 5, 20_000, '5 POSTs');
    child.kill('SIGKILL');
    await exited;
    const postsAtKill = posts.length;
    expect(postsAtKill).toBeLessThan(18);
    // A later commit that touches other scripts (a new one and an unrelated file).
    await r.commit({ 'sites/s0/90-new.rsc': '/ip dns set servers=8.8.8.8\n', 'README.md': 'x\n' }, 'later');
    const res = await apply(r, env);
    expect(res.code, JSON.stringify(res.out.results.filter((x) => x.outcome !== 'succeeded'))).toBe(0);
    expect(res.out.results.every((x) => x.outcome === 'succeeded')).toBe(true);
    expect(expectExactlyOnce(sb)).toBe(19);
    expect(sb.stats().replays).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('secrets never appear in any output, log, report or the state', async () => {
    const files = fleetFiles(1, { '00-a.rsc': '/ppp secret set [find name=isp] password="${{ secrets.isp_password }}"\n' });
    const { r, sb, env } = await setup(files);
    const secret = 'S3cr3t-Passw0rd-xyz';
    const token = `tok-${'q'.repeat(30)}`;
    sb.configure({});
    const run = await cli(['apply', '--format', 'json', '--log-level', 'debug'], {
      cwd: r.dir,
      env: { ...env, SDX_API_TOKEN: sb.token, RGO_SECRET_ISP_PASSWORD: secret, GITHUB_TOKEN: token, RGO_SECRETS_KEY: SECRETS_KEY },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(sb.jobs()[0]!.script).toContain(secret); // the job body is the only place it goes
    const outputs = [run.stdout, run.stderr];
    for (const cmd of [
      ['plan', '--format', 'markdown'],
      ['plan', '--format', 'json'],
      ['status', '--format', 'json'],
    ]) {
      const x = await cli(cmd, { cwd: r.dir, env: { ...env, RGO_SECRET_ISP_PASSWORD: secret, RGO_SECRETS_KEY: SECRETS_KEY } });
      outputs.push(x.stdout, x.stderr);
    }
    const state = await r.git(['log', '-p', 'refs/routeros-gitops/state']);
    outputs.push(state);
    for (const o of outputs) {
      expect(o).not.toContain(secret);
      expect(o).not.toContain(sb.token);
      expect(o).not.toContain(token);
      expect(o).not.toContain(SECRETS_KEY);
    }
  });
});
