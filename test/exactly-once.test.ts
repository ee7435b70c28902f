// Exactly once under real use: the eleven sequences of issue 12, each against the sandbox, each
// checked on what the simulated routers ran (test/helpers/routers.ts): the last body every router
// executed per script is the rendering at HEAD, and no key was ever sent twice.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { openRepo } from '../src/git/repo.js';
import { openStateStore } from '../src/state/open-store.js';
import { createSdxClient } from '../src/sdx/client.js';
import type { Sandbox, SandboxOptions } from '../src/sandbox/sandbox.js';
import type { ScriptRecord } from '../src/core/state.js';
import { cli, SITE_IDS, type CliRun } from './helpers/cli.js';
import type { TempRepo } from './helpers/git-repo.js';
import { sandboxEnv, useLifecycle, type Env } from './helpers/lifecycle.js';
import { waitFor } from './helpers/sandbox.js';
import { duplicateSends, executions, lastBodies } from './helpers/routers.js';
import { CLI, ensureBuilt } from './daemon-harness.js';

const [ID, ID2, ID3] = SITE_IDS as [string, string, string];
const KEY1 = 'first-secrets-key-0123456789';
const KEY2 = 'second-secrets-key-987654321';

const life = useLifecycle();

async function sandbox(opts: SandboxOptions = {}): Promise<{ sb: Sandbox; env: Env }> {
  const sb = await life.sandbox(opts);
  return { sb, env: sandboxEnv(sb, { RGO_POLL_MAX_MS: '60' }) };
}

const repo = (files: Record<string, string>): Promise<TempRepo> => life.repo(files);

type Result = {
  site: string;
  site_id: string;
  path: string;
  kind: string;
  action: string;
  outcome: string;
  idempotency_key: string | null;
  reason: string | null;
};
const apply = async (dir: string, env: Record<string, string | undefined>, extra: string[] = []) => {
  const res = await cli(['apply', '--format', 'json', ...extra], { cwd: dir, env });
  return { ...res, results: res.code === 2 ? [] : res.json<{ results: Result[] }>().results };
};
const planJson = async (dir: string, env: Record<string, string | undefined>, extra: string[] = []) => {
  const res = await cli(['plan', '--format', 'json', ...extra], { cwd: dir, env });
  return { ...res, doc: res.json<{ changes: Result[]; moves: Array<{ from: string; to: string }> }>() };
};
const outcomes = (r: { results: Result[] }) => r.results.map((x) => `${x.path.split('/').slice(-2).join('/')}:${x.outcome}`);
const ok = (res: CliRun) => expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);

describe('exactly once under real use', () => {
  it('1. a script removed and re-added (A, B, removed, A again) is sent again with a new key; so after a folder renamed away and back, and an id changed and back', async () => {
    const { sb, env } = await sandbox();
    const A = '/ip dns set servers=192.0.2.1\n';
    const B = '/ip dns set servers=192.0.2.2\n';
    const r = await repo({ 'sites/hq/site.yaml': `id: ${ID}\n`, 'sites/hq/00-id.rsc': '/system identity set name=${{ site.name }}\n', 'sites/hq/10-a.rsc': A });
    ok(await apply(r.dir, env));
    await r.commit({ 'sites/hq/10-a.rsc': B });
    ok(await apply(r.dir, env));
    await r.commit({ 'sites/hq/10-a.rsc': null });
    const removed = await apply(r.dir, env);
    expect(outcomes(removed)).toEqual(['hq/10-a.rsc:skipped']);
    await r.commit({ 'sites/hq/10-a.rsc': A });
    const readd = await planJson(r.dir, env);
    expect(readd.doc.changes.map((c) => [c.kind, c.action])).toEqual([['added', 'create']]);
    const back = await apply(r.dir, env);
    expect(outcomes(back)).toEqual(['hq/10-a.rsc:succeeded']);
    expect(lastBodies(sb).get(`${ID}|10-a.rsc`)).toBe(A);
    expect(
      executions(sb)
        .get(`${ID}|10-a.rsc`)!
        .map((e) => e.script),
    ).toEqual([A, B, A]);

    // The folder renamed away and back: only the script that renders the name changes, each time.
    await r.git(['mv', 'sites/hq', 'sites/core']);
    await r.commit({}, 'rename hq to core');
    expect(outcomes(await apply(r.dir, env))).toEqual(['core/00-id.rsc:succeeded']);
    await r.git(['mv', 'sites/core', 'sites/hq']);
    await r.commit({}, 'and back');
    expect(outcomes(await apply(r.dir, env))).toEqual(['hq/00-id.rsc:succeeded']);
    expect(lastBodies(sb).get(`${ID}|00-id.rsc`)).toBe('/system identity set name=hq\n');

    // The id changed (a new router) and back: each time the router the folder names gets every script.
    await r.commit({ 'sites/hq/site.yaml': `id: ${ID2}\n` });
    const moved = await apply(r.dir, env);
    expect(moved.results.map((x) => `${x.site_id.slice(0, 2)} ${x.kind} ${x.outcome}`).sort()).toEqual(
      ['11 removed skipped', '11 removed skipped', '22 added succeeded', '22 added succeeded'].sort(),
    );
    await r.commit({ 'sites/hq/site.yaml': `id: ${ID}\n` });
    const returned = await apply(r.dir, env);
    expect(returned.results.filter((x) => x.site_id === ID).map((x) => `${x.kind} ${x.outcome}`)).toEqual(['added succeeded', 'added succeeded']);
    expect(lastBodies(sb).get(`${ID}|10-a.rsc`)).toBe(A);
    expect(executions(sb).get(`${ID}|10-a.rsc`)!).toHaveLength(4);
    expect(duplicateSends(sb)).toEqual([]);
    expect((await apply(r.dir, env)).results).toEqual([]);
  });

  it('2. a secret rotated v1, v2, v1, v2 at one commit: four sends, four keys, and the router holds v2', async () => {
    const { sb, env } = await sandbox();
    const r = await repo({ 'sites/hq/site.yaml': `id: ${ID}\n`, 'sites/hq/10-pw.rsc': '/ppp secret set [find name=isp] password="${{ secrets.pw }}"\n' });
    for (const v of ['pass-one', 'pass-two', 'pass-one', 'pass-two']) {
      const res = await apply(r.dir, { ...env, RGO_SECRET_PW: v, RGO_SECRETS_KEY: KEY1 });
      ok(res);
      expect(outcomes(res)).toEqual(['hq/10-pw.rsc:succeeded']);
    }
    expect(
      executions(sb)
        .get(`${ID}|10-pw.rsc`)!
        .map((e) => /password="([^"]+)"/.exec(e.script)![1]),
    ).toEqual(['pass-one', 'pass-two', 'pass-one', 'pass-two']);
    expect(new Set(sb.jobs().map((j) => j.idempotency_key)).size).toBe(4);
    expect(duplicateSends(sb)).toEqual([]);
  });

  describe('3. never backwards across clones that share the state', () => {
    async function twoClones() {
      const remote = await life.remote();
      const a = await remote.clone();
      await a.commit({ 'sites/hq/site.yaml': `id: ${ID}\n`, 'sites/hq/10-a.rsc': '/ip dns set servers=192.0.2.1\n' }, 'v1');
      const older = await a.git(['rev-parse', 'HEAD']);
      await a.commit({ 'sites/hq/10-a.rsc': '/ip dns set servers=192.0.2.2\n' }, 'v2');
      await a.git(['push', '-q', 'origin', 'main']);
      const b = await remote.clone();
      return { a, b, older };
    }

    it('the run at the older commit waits for the lease, plans again, and sends nothing; the next run sends nothing either', async () => {
      const { sb, env } = await sandbox({ checkinIntervalMs: 600 });
      const { a, b, older } = await twoClones();
      const newer = apply(a.dir, env);
      await waitFor(() => sb.stats().posts > 0, 10_000, 'the newer run to send');
      const old = await apply(b.dir, env, ['--ref', older]);
      const done = await newer;
      ok(done);
      ok(old);
      expect(old.stderr).toMatch(/waiting up to 300 s for the apply lease, held by pid \d+ on host .* \(apply at [0-9a-f]{7}/);
      expect(old.results.map((x) => x.outcome)).toEqual(['stale']);
      expect(old.results[0]!.reason).toMatch(/is older than [0-9a-f]{7}, which the fleet was last applied at; nothing is sent \(never backwards\)/);
      expect(lastBodies(sb).get(`${ID}|10-a.rsc`)).toBe('/ip dns set servers=192.0.2.2\n');
      expect(sb.stats().jobsCreated).toBe(1);
      expect((await apply(b.dir, env)).results).toEqual([]);
      expect((await apply(a.dir, env)).results).toEqual([]);
    });

    it('when the older run gets the lease first, the newer one runs after it: the router ends on the newer script', async () => {
      const { sb, env } = await sandbox({ checkinIntervalMs: 600 });
      const { a, b, older } = await twoClones();
      const old = apply(b.dir, env, ['--ref', older]);
      await waitFor(() => sb.stats().posts > 0, 10_000, 'the older run to send');
      const newer = await apply(a.dir, env);
      ok(await old);
      ok(newer);
      expect(
        executions(sb)
          .get(`${ID}|10-a.rsc`)!
          .map((e) => e.script),
      ).toEqual(['/ip dns set servers=192.0.2.1\n', '/ip dns set servers=192.0.2.2\n']);
      expect((await apply(b.dir, env, ['--ref', older])).results.map((x) => x.outcome)).toEqual(['stale']);
    });
  });

  describe('4. a job SDX lost or cancelled is sent again by the next run, with a new key, and blocks nothing beyond its run', () => {
    const files = {
      'sites/hq/site.yaml': `id: ${ID}\n`,
      'sites/hq/10-a.rsc': '/ip dns set servers=192.0.2.1\n',
      'sites/hq/20-b.rsc': '/ip dns set cache-size=4096KiB\n',
    };

    it('cancelled in SDX (404 afterwards), then a sandbox restart', async () => {
      const { sb, env } = await sandbox();
      const r = await repo(files);
      sb.setOnline(ID, false);
      const first = await apply(r.dir, env, ['--timeout', '1']);
      expect(outcomes(first)).toEqual(['hq/10-a.rsc:timed_out', 'hq/20-b.rsc:blocked']);
      const job = sb.jobs(ID)[0]!;
      expect(sb.cancelJob(job.id)).toBe(true);
      const lost = await apply(r.dir, env, ['--timeout', '1']);
      expect(lost.code).toBe(1);
      expect(outcomes(lost)).toEqual(['hq/10-a.rsc:lost', 'hq/20-b.rsc:blocked']);
      expect(lost.results[0]!.reason).toMatch(/no longer knows job .* never ran/);
      sb.setOnline(ID, true);
      const again = await apply(r.dir, env);
      ok(again);
      expect(outcomes(again)).toEqual(['hq/10-a.rsc:succeeded', 'hq/20-b.rsc:succeeded']);
      expect(again.results[0]!.idempotency_key).not.toBe(job.idempotency_key);

      // The whole sandbox restarted (it forgets every job) while a job was pending.
      await r.commit({ 'sites/hq/10-a.rsc': '/ip dns set servers=192.0.2.9\n' });
      sb.setOnline(ID, false);
      expect(outcomes(await apply(r.dir, env, ['--timeout', '1']))).toEqual(['hq/10-a.rsc:timed_out']);
      sb.reset();
      expect(outcomes(await apply(r.dir, env, ['--timeout', '2']))).toEqual(['hq/10-a.rsc:lost']);
      ok(await apply(r.dir, env));
      expect(lastBodies(sb).get(`${ID}|10-a.rsc`)).toBe('/ip dns set servers=192.0.2.9\n');
      expect((await apply(r.dir, env)).results).toEqual([]);
    });

    it('an API that lists cancelled jobs: the outcome is cancelled', async () => {
      const { sb, env } = await sandbox({ cancelledJobs: 'listed' });
      const r = await repo(files);
      sb.setOnline(ID, false);
      await apply(r.dir, env, ['--timeout', '1']);
      sb.cancelJob(sb.jobs(ID)[0]!.id);
      const res = await apply(r.dir, env, ['--timeout', '1']);
      expect(outcomes(res)).toEqual(['hq/10-a.rsc:cancelled', 'hq/20-b.rsc:blocked']);
      sb.setOnline(ID, true);
      ok(await apply(r.dir, env));
      expect(duplicateSends(sb)).toEqual([]);
    });
  });

  it('5. a removed site that SDX deleted (404) is cleaned up in its own lane; the other sites are sent and recorded', async () => {
    const { sb, env } = await sandbox();
    const files: Record<string, string> = {};
    const sites: Array<[string, string]> = [
      ['a', ID],
      ['b', ID2],
      ['c', ID3],
    ];
    for (const [n, id] of sites) {
      files[`sites/${n}/site.yaml`] = `id: ${id}\n`;
      files[`sites/${n}/10-x.rsc`] = `/ip dns set servers=192.0.2.${n.charCodeAt(0)}\n`;
    }
    const r = await repo(files);
    sb.setOnline(ID, false);
    await apply(r.dir, env, ['--timeout', '1']);
    // Site a leaves the repository and SDX while its job is pending; b and c change.
    sb.removeSite(ID);
    await r.commit({ 'sites/a': null, 'sites/b/10-x.rsc': '/ip dns set servers=198.51.100.2\n', 'sites/c/10-x.rsc': '/ip dns set servers=198.51.100.3\n' });
    const res = await apply(r.dir, env);
    ok(res);
    expect(outcomes(res).sort()).toEqual(['a/10-x.rsc:skipped', 'b/10-x.rsc:succeeded', 'c/10-x.rsc:succeeded']);
    expect((await apply(r.dir, env)).results).toEqual([]);
    const status = (await cli(['status', '--format', 'json'], { cwd: r.dir, env })).json<{ sites: Array<{ site_id: string; outcome: string }> }>();
    expect(status.sites.find((s) => s.site_id === ID)!.outcome).toBe('removed');
  });

  it('6. history rewritten under the state (a force-push purged the applied commit): plan and apply exit 1, accept-history re-anchors, never backwards holds after', async () => {
    const { sb, env } = await sandbox();
    const r = await repo({ 'sites/hq/site.yaml': `id: ${ID}\n`, 'sites/hq/10-a.rsc': '/ip dns set servers=192.0.2.1\n' });
    const c1 = await r.git(['rev-parse', 'HEAD']);
    ok(await apply(r.dir, env));
    const c2 = await r.commit({ 'sites/hq/10-a.rsc': '/ip dns set servers=192.0.2.2\n' }, 'with a leaked password');
    ok(await apply(r.dir, env));
    await r.git(['reset', '-q', '--hard', c1]);
    await r.commit({ 'sites/hq/10-a.rsc': '/ip dns set servers=192.0.2.3\n' }, 'clean');
    await r.git(['reflog', 'expire', '--expire=now', '--all']);
    await r.git(['gc', '-q', '--prune=now']);
    const posts = sb.stats().posts;
    const p = await cli(['plan'], { cwd: r.dir, env });
    expect(p.code).toBe(1);
    expect(p.stderr).toContain(c2.slice(0, 12));
    expect(p.stderr).toMatch(/not in this repository.*accept-history/s);
    const refused = await apply(r.dir, env);
    expect(refused.code).toBe(1);
    expect(refused.results.map((x) => x.outcome)).toEqual(['stale']);
    expect(sb.stats().posts).toBe(posts);
    expect((await cli(['state', 'accept-history', '--at', 'HEAD'], { cwd: r.dir, env })).code).toBe(2); // no terminal, no --yes
    ok(await cli(['state', 'accept-history', '--at', 'HEAD', '--yes'], { cwd: r.dir, env }));
    const sent = await apply(r.dir, env);
    ok(sent);
    expect(outcomes(sent)).toEqual(['hq/10-a.rsc:succeeded']);
    const postsNow = sb.stats().posts;
    expect((await apply(r.dir, env, ['--ref', c1])).results.map((x) => x.outcome)).toEqual(['stale']);
    expect((await planJson(r.dir, env, ['--ref', c1])).doc.changes.map((c) => c.action)).toEqual(['stale']);
    expect(sb.stats().posts).toBe(postsNow);
    expect(lastBodies(sb).get(`${ID}|10-a.rsc`)).toBe('/ip dns set servers=192.0.2.3\n');
  });

  it('7. the secrets key: apply refuses without it and under another one (nothing sent twice); state rekey moves to a new key', async () => {
    const { sb, env } = await sandbox();
    const r = await repo({ 'sites/hq/site.yaml': `id: ${ID}\n`, 'sites/hq/10-pw.rsc': '/ppp secret set [find name=isp] password="${{ secrets.pw }}"\n' });
    const withKey = (key?: string) => ({ ...env, RGO_SECRET_PW: 'pass-one', ...(key && { RGO_SECRETS_KEY: key }) });
    const none = await apply(r.dir, withKey());
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/RGO_SECRETS_KEY is not set.*openssl rand/s);
    ok(await apply(r.dir, withKey(KEY1)));
    const other = await apply(r.dir, withKey(KEY2));
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/not the key the applied state was written with.*state rekey/s);
    for (let i = 0; i < 3; i++) expect((await apply(r.dir, withKey(KEY1))).results).toEqual([]);
    ok(await cli(['state', 'rekey', '--yes'], { cwd: r.dir, env: { ...withKey(KEY2), RGO_OLD_SECRETS_KEY: KEY1 } }));
    expect((await apply(r.dir, withKey(KEY2))).results).toEqual([]);
    expect((await apply(r.dir, withKey(KEY1))).code).toBe(2);
    expect(sb.stats().jobsCreated).toBe(1);
  });

  it('8. a script is its site id and file name: a renamed folder, or a group script moved into an identical site override, sends nothing and the plan says what moved', async () => {
    const { sb, env } = await sandbox();
    const fw = '/ip firewall filter add chain=forward action=accept connection-state=established,related\n';
    const r = await repo({
      'sites/_groups/branch/20-fw.rsc': fw,
      'sites/lisbon/site.yaml': `id: ${ID}\ngroups: [branch]\n`,
      'sites/lisbon/10-a.rsc': '/ip dns set servers=192.0.2.1\n',
    });
    ok(await apply(r.dir, env));
    await r.git(['mv', 'sites/lisbon', 'sites/lisboa']);
    await r.commit({}, 'rename');
    const renamed = await planJson(r.dir, env);
    expect(renamed.doc.changes).toEqual([]);
    expect(renamed.doc.moves.map((m) => `${m.from} -> ${m.to}`)).toEqual(['sites/lisbon/10-a.rsc -> sites/lisboa/10-a.rsc']);
    expect((await cli(['plan'], { cwd: r.dir, env })).stdout).toMatch(/moved.*sites\/lisbon\/10-a\.rsc.*sites\/lisboa\/10-a\.rsc/);
    ok(await apply(r.dir, env));
    await r.commit({ 'sites/lisboa/20-fw.rsc': fw, 'sites/lisboa/site.yaml': `id: ${ID}\n` }, 'override the group script');
    const override = await planJson(r.dir, env);
    expect(override.doc.changes).toEqual([]);
    expect(override.doc.moves.map((m) => `${m.from} -> ${m.to}`)).toEqual(['sites/_groups/branch/20-fw.rsc -> sites/lisboa/20-fw.rsc']);
    ok(await apply(r.dir, env));
    expect(sb.stats().jobsCreated).toBe(2);
    expect((await apply(r.dir, env)).results).toEqual([]);
  });

  it('9. an intent older than idempotency_retention is looked up in the job list before it is sent again (SDX forgot its key)', async () => {
    const { sb, env } = await sandbox({ keyRetentionMs: 200 });
    const r = await repo({
      'sites/routeros-gitops.yaml': 'idempotency_retention: 60\n',
      'sites/hq/site.yaml': `id: ${ID}\n`,
      'sites/hq/10-a.rsc': '/ip dns set servers=192.0.2.1\n',
    });
    const planned = (await planJson(r.dir, env)).doc.changes[0]!;
    const head = await r.git(['rev-parse', 'HEAD']);
    // A run recorded its intent two minutes ago, POSTed, and died before recording the job.
    const old = new Date(Date.now() - 120_000).toISOString();
    const record = {
      path: planned.path,
      generation: 1,
      fingerprint: (planned as unknown as { fingerprint: string }).fingerprint,
      commit: head,
      key: planned.idempotency_key!,
      job_id: null,
      phase: 'intent',
      at: old,
      intended_at: old,
      source: { blob: '', inputs: '' },
    } satisfies ScriptRecord;
    const store = await openStateStore({ cwd: r.dir, repo: await openRepo(r.dir), stateRemote: false });
    await store.record([{ site_id: ID, site: 'hq', file: '10-a.rsc', record, last_commit: head }]);
    await store.close();
    const client = createSdxClient({ baseUrl: sb.url, token: sb.token, requestsPerMinute: 0 });
    const crashed = await client.createJob({
      siteId: ID,
      idempotencyKey: record.key,
      description: 'gitops hq: sites/hq/10-a.rsc @0000000',
      script: '/ip dns set servers=192.0.2.1\n',
      needsAck: true,
      backup: false,
      express: false,
    });
    await new Promise((res) => setTimeout(res, 300));
    // The sandbox has forgotten the key: a POST with it now would be a second execution.
    const probe = await client.createJob({
      siteId: ID2,
      idempotencyKey: record.key,
      description: 'probe job',
      script: ':put probe\n',
      needsAck: true,
      backup: false,
      express: false,
    });
    await new Promise((res) => setTimeout(res, 300));
    const again = await client.createJob({
      siteId: ID2,
      idempotencyKey: record.key,
      description: 'probe job',
      script: ':put probe\n',
      needsAck: true,
      backup: false,
      express: false,
    });
    expect(again.job.id).not.toBe(probe.job.id);
    await client.close();
    const res = await apply(r.dir, env);
    ok(res);
    expect(res.results.map((x) => [x.outcome, x.idempotency_key])).toEqual([['succeeded', record.key]]);
    expect(sb.jobs(ID).map((j) => j.id)).toEqual([crashed.job.id]);
  });

  it('10. apply stopped with SIGTERM while waiting on the rate limit sends no new job after 1 s and exits non-zero within 10 s; a rerun sends the rest exactly once', async () => {
    ensureBuilt();
    const posts: number[] = [];
    const { sb, env } = await sandbox({ inspectRequest: (req) => void (req.method === 'POST' && posts.push(Date.now())) });
    const files: Record<string, string> = {};
    for (let s = 0; s < 80; s++) {
      const id = `aaaaaaaa-bbbb-4ccc-8ddd-${s.toString(16).padStart(12, '0')}`;
      files[`sites/s${s}/site.yaml`] = `id: ${id}\n`;
      files[`sites/s${s}/10-x.rsc`] = `/ip dns set servers=10.0.0.${s}\n`;
    }
    const r = await repo(files);
    const child = spawn(process.execPath, [CLI, 'apply', '-C', r.dir, '--concurrency', '64'], {
      env: { ...process.env, ...env, RGO_RATE_LIMIT: '120', RGO_LOG_LEVEL: 'error' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    await waitFor(() => posts.length >= 3, 20_000, 'three POSTs');
    const stoppedAt = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    const took = Date.now() - stoppedAt;
    expect(code).not.toBe(0);
    expect(took).toBeLessThan(10_000);
    expect(posts.filter((t) => t > stoppedAt + 1000)).toEqual([]);
    const rest = await apply(r.dir, env);
    ok(rest);
    expect(duplicateSends(sb)).toEqual([]);
    for (let s = 0; s < 80; s++) expect(executions(sb).get(`aaaaaaaa-bbbb-4ccc-8ddd-${s.toString(16).padStart(12, '0')}|10-x.rsc`)).toHaveLength(1);
  });

  it('11. a second apply while another holds the lease waits, then exits 1 naming the holder, in text and in JSON', async () => {
    const { sb, env } = await sandbox({ checkinIntervalMs: 2500 });
    const r = await repo({ 'sites/hq/site.yaml': `id: ${ID}\n`, 'sites/hq/10-a.rsc': '/ip dns set servers=192.0.2.1\n' });
    const first = apply(r.dir, env);
    await waitFor(() => sb.stats().posts > 0, 10_000, 'the first run to send');
    const text = await cli(['apply', '--lease-timeout', '1'], { cwd: r.dir, env });
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(
      /another run holds the apply lease of ref refs\/routeros-gitops\/state: pid \d+ on host \S+ \(apply at [0-9a-f]{7}, since .*\); waited 1 s.*state break-lease/s,
    );
    const json = await cli(['apply', '--lease-timeout', '0', '--format', 'json'], { cwd: r.dir, env });
    expect(json.code).toBe(1);
    const doc = json.json<{ error: { kind: string; holder: { purpose: string; pid: number } }; results: unknown[] }>();
    expect(doc.error.kind).toBe('lease-busy');
    expect(doc.error.holder.purpose).toBe('apply');
    expect(doc.results).toEqual([]);
    ok(await first);
    expect(sb.stats().jobsCreated).toBe(1);
  });
});
