// The committed dist/index.js, run the way the runner runs it: a child process with INPUT_*
// variables, GITHUB_EVENT_PATH holding GitHub's own example payloads (repository and shas
// patched), GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_API_URL pointing at the GitHub double, a
// workspace checked out like actions/checkout does (depth 1) from a bare origin, and the sandbox
// as SDX.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBareRemote, type BareRemote, type TempRepo } from './helpers/git-repo.js';
import { fleetFiles, SITE_IDS } from './helpers/cli.js';
import { startGitHubDouble, type GitHubDouble } from './helpers/github-double.js';
import { startSandbox, type Sandbox } from '../src/sandbox/sandbox.js';
import { startRawServer } from './helpers/sandbox.js';
import { MAX_COMMENT_LENGTH, PLAN_MARKER } from '../src/github/pr-comment.js';
import { INPUT_SPEC, inputName } from '../src/action/inputs.js';
import {
  type ActionRun,
  type ActionRunOptions,
  BUNDLE,
  checkout as checkoutIn,
  example,
  pullRequestEvent,
  pushEvent,
  repository,
  ROOT,
  runActionBundle,
} from './helpers/action-runner.js';

const SDX_TOKEN = 'sdx-Secret-Token-4f9a2c';
const FAIL = ':error "sandbox-fail"';

let sandbox: Sandbox;
let github: GitHubDouble;
const cleanup: Array<() => unknown> = [];
const defer = (fn: () => unknown) => void cleanup.push(fn);
beforeAll(async () => {
  expect(existsSync(BUNDLE), 'dist/index.js is missing: run `node scripts/build.mjs action`').toBe(true);
  sandbox = await startSandbox({ autoSites: true, checkinIntervalMs: 20, expressDelayMs: 5, runMs: 5, token: SDX_TOKEN });
  github = await startGitHubDouble();
});
afterAll(async () => {
  await sandbox?.close();
  await github?.close();
});
afterEach(async () => {
  github.reset();
  sandbox.reset();
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

/** A bare origin with `files` as main's first commit, and a working clone to make commits. */
async function origin(files: Record<string, string>): Promise<{ remote: BareRemote; work: TempRepo; first: string }> {
  const remote = await createBareRemote();
  cleanup.push(() => remote.cleanup());
  const work = await remote.clone();
  const first = await work.commit(files, 'fleet');
  await work.git(['push', '-q', 'origin', 'main']);
  return { remote, work, first };
}

/** A workspace as actions/checkout makes it, cleaned up after the test. */
const checkout = (remote: BareRemote, sha: string, dest?: string) => checkoutIn(remote, sha, defer, dest);

/** The bundle, with the sandbox as SDX, the GitHub double as GitHub, and fast polling. */
function runAction(opts: Omit<ActionRunOptions, 'defer'>): Promise<ActionRun> {
  return runActionBundle({
    ...opts,
    inputs: { sites: 'sites', comment: 'true', 'github-token': github.writeToken, ...opts.inputs },
    env: {
      GITHUB_API_URL: github.url,
      SDX_API_URL: sandbox.url,
      SDX_WEB_URL: 'https://sdx.example/',
      RGO_POLL_INITIAL_MS: '20',
      RGO_POLL_MAX_MS: '50',
      RGO_RATE_LIMIT: '0',
      RGO_GITHUB_WRITE_INTERVAL_MS: '5',
      RGO_GITHUB_NOTIFY_INTERVAL_MS: '5',
      ...opts.env,
    },
    defer,
  });
}

const apply = (workspace: string, before: string, sha: string, inputs: Record<string, string> = {}, env: Record<string, string> = {}) =>
  runAction({ workspace, event: 'push', payload: pushEvent(before, sha), sha, inputs: { command: 'apply', 'sdx-api-token': SDX_TOKEN, ...inputs }, env });

const ZERO = '0'.repeat(40);

const TEMPLATE_SECRET = 'radius-Secret-7731';

/** No token or secret in anything the run wrote, nor in what it sent to GitHub, nor in the state (and its history) on origin. */
async function expectNoSecrets(run: ActionRun, remote?: BareRemote): Promise<void> {
  let all = (await run.everything()) + JSON.stringify(github.statuses()) + JSON.stringify(github.comments());
  if (remote) all += await remote.git(['log', '-p', '--all']);
  for (const secret of [SDX_TOKEN, github.writeToken, github.readToken, TEMPLATE_SECRET])
    expect(all.includes(secret), `a secret leaked: ${secret}`).toBe(false);
}

/**
 * A pull request as GitHub keeps it in the repository: refs/pull/N/head (the branch's commit on
 * top of main) and refs/pull/N/merge (a merge commit of GitHub's making, GITHUB_SHA of the run).
 */
async function openPullRequest(
  _remote: BareRemote,
  work: TempRepo,
  n: number,
  files: Record<string, string | null>,
  message = 'change',
): Promise<{ head: string; merge: string; base: string }> {
  await work.git(['fetch', '-q', 'origin']);
  const base = await work.git(['rev-parse', 'origin/main']);
  const exists = await work.git(['rev-parse', '--verify', '-q', `refs/heads/pr-${n}`]).then(
    () => true,
    () => false,
  );
  await work.git(['checkout', '-q', ...(exists ? [`pr-${n}`] : ['-b', `pr-${n}`, base])]);
  const head = await work.commit(files, message);
  await work.git(['checkout', '-q', '--detach', base]);
  await work.git(['merge', '-q', '--no-ff', '--no-edit', head]);
  const merge = await work.git(['rev-parse', 'HEAD']);
  await work.git(['push', '-q', '-f', 'origin', `${head}:refs/pull/${n}/head`, `${merge}:refs/pull/${n}/merge`]);
  await work.git(['checkout', '-q', 'main']);
  return { head, merge, base };
}

const plan = async (remote: BareRemote, pr: { head: string; merge: string; base: string }, n: number, inputs: Record<string, string> = {}, fork = false) => {
  const ws = await checkout(remote, pr.merge, `refs/remotes/pull/${n}/merge`);
  return runAction({
    workspace: ws,
    event: 'pull_request',
    payload: pullRequestEvent(n, pr.head, pr.base, fork),
    sha: pr.merge,
    inputs: { command: 'plan', ...inputs },
  });
};

const mine = (issue: number) => github.comments(issue).filter((c) => c.body.startsWith(PLAN_MARKER));

describe('the Action on push: apply with commit statuses', () => {
  it('posts pending then success per site and a roll-up on the pushed commit, never re-posting an unchanged status', async () => {
    const { remote, first } = await origin(fleetFiles(2));
    const ws = await checkout(remote, first);
    const run = await apply(ws, ZERO, first);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    await expectNoSecrets(run, remote);

    const posted = github.statuses(first);
    const site1 = posted.filter((s) => s.context === 'routeros-gitops/site-1').map((s) => s.state);
    expect(site1).toEqual(['pending', 'success']);
    const now = github.current(first);
    expect(now.get('routeros-gitops/site-1')?.state).toBe('success');
    expect(now.get('routeros-gitops/site-2')?.state).toBe('success');
    expect(now.get('routeros-gitops')).toMatchObject({
      state: 'success',
      description: '2 applied, 0 failed, 0 pending',
      target_url: 'https://github.example/acme/fleet/actions/runs/4242',
    });
    expect(now.get('routeros-gitops/site-1')?.target_url).toMatch(/^https:\/\/sdx\.example\/logs\?/);
    for (const s of posted) expect([...(s.description ?? '')].length).toBeLessThanOrEqual(140);
    // Success only after the router reported: every success comes after its site's jobs completed.
    expect(sandbox.jobs().every((j) => j.completed_at)).toBe(true);
    expect(run.outputs).toMatchObject({ changes: '4', 'failed-sites': '', 'pending-sites': '' });
    expect(readFileSync(run.outputs.report!, 'utf8')).toContain('routeros-gitops apply at');
    expect(run.summary).toContain('4 succeeded');
    expect(github.maxConcurrentWrites).toBe(1);

    // The state ref went to origin.
    expect(await remote.git(['rev-parse', '--verify', 'refs/routeros-gitops/state'])).toMatch(/^[0-9a-f]{40}$/);

    // The workflow run again at the same commit: nothing to send, and nothing posted (the statuses stand).
    const before = github.requests().length;
    const again = await apply(await checkout(remote, first), ZERO, first);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.outputs.changes).toBe('0');
    expect(
      github
        .requests()
        .slice(before)
        .map((r) => r.method),
    ).toEqual(['GET']);
    expect(github.statuses(first)).toHaveLength(posted.length);
  });
});

describe('the Action on pull requests: plan', () => {
  it('keeps exactly one plan comment, found across pages, updated by a second run and left alone when unchanged; findings become annotations', async () => {
    const { remote, work, first } = await origin(fleetFiles(2));
    // Apply main first, so the pull request is planned against an applied state.
    expect((await apply(await checkout(remote, first), ZERO, first)).code).toBe(0);
    // 150 comments by people come first: the plan comment lands on the second page of 100.
    for (let i = 0; i < 150; i++) github.addComment(7, `comment ${i}${i === 3 ? ` quoting ${PLAN_MARKER}` : ''}`);

    const pr1 = await openPullRequest(
      remote,
      work,
      7,
      { 'sites/site-2/10-dns.rsc': '/ip dns set servers=9.9.9.9\n/ip dns static add name=nas.lan address=10.0.0.9\n' },
      'site-2: quad9',
    );
    const r1 = await plan(remote, pr1, 7);
    expect(r1.code, r1.stdout + r1.stderr).toBe(0);
    await expectNoSecrets(r1);
    expect(mine(7)).toHaveLength(1);
    const c1 = mine(7)[0]!;
    expect(c1.body).toContain('sites/site-2/10-dns.rsc');
    expect(c1.body).toContain('modified');
    expect(c1.body).toContain('+/ip dns set servers=9.9.9.9');
    expect(r1.outputs).toMatchObject({ changes: '1', 'to-send': '1' });
    expect(r1.outputs['comment-url']).toContain(`#issuecomment-${c1.id}`);
    expect(r1.summary).toContain('sites/site-2/10-dns.rsc');
    expect(r1.summary).not.toContain(PLAN_MARKER);
    // The unguarded add is advice: a warning at its file and line.
    expect(r1.stdout).toMatch(
      /^::warning title=routeros-gitops%3A unguarded-add,file=sites\/site-2\/10-dns\.rsc,line=2,col=1::this add to \/ip dns static has no guard/m,
    );
    // The head was fetched (the merge checkout lacks it) and history deepened to order it against main.
    expect(r1.stdout).toContain('fetching the commit to plan from origin');
    // Nothing was sent and no status written by a plan.
    expect(sandbox.stats().jobsCreated).toBe(4);
    expect(github.statuses(pr1.head)).toEqual([]);

    // A second push to the pull request: the same comment is edited.
    const pr2 = await openPullRequest(remote, work, 7, { 'sites/site-1/10-dns.rsc': '/ip dns set servers=8.8.8.8\n' }, 'site-1: google');
    const r2 = await plan(remote, pr2, 7);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    expect(mine(7)).toHaveLength(1);
    expect(mine(7)[0]!.id).toBe(c1.id);
    expect(mine(7)[0]!.body).toContain('sites/site-1/10-dns.rsc');
    expect(r2.outputs.changes).toBe('2');
    const patches = () => github.requests().filter((r) => r.method === 'PATCH').length;
    const posts = () => github.requests().filter((r) => r.method === 'POST' && r.path.endsWith('/comments')).length;
    expect([posts(), patches()]).toEqual([1, 1]);
    // Every page was read with per_page=100.
    const lists = github.requests().filter((r) => r.method === 'GET' && r.path.endsWith('/issues/7/comments'));
    expect(lists.every((r) => r.query.per_page === '100')).toBe(true);
    expect(lists.map((r) => r.query.page ?? '1').slice(-2)).toEqual(['1', '2']);

    // The same plan again: nothing is written.
    const r3 = await plan(remote, pr2, 7);
    expect(r3.code, r3.stdout + r3.stderr).toBe(0);
    expect([posts(), patches()]).toEqual([1, 1]);
    expect(r3.stdout).toContain('plan comment unchanged');
    expect(github.comments(7)).toHaveLength(151);
  });

  it('degrades to the step summary when the token may not comment (403), without failing the plan', async () => {
    const { remote, work } = await origin(fleetFiles(1));
    const pr = await openPullRequest(remote, work, 9, { 'sites/site-1/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' });
    const run = await plan(remote, pr, 9, { 'github-token': github.readToken });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    await expectNoSecrets(run);
    expect(github.comments(9)).toEqual([]);
    expect(github.requests().some((r) => r.method === 'POST' && r.status === 403)).toBe(true);
    expect(run.summary).toContain('sites/site-1/10-dns.rsc');
    expect(run.summary).toMatch(/could not be posted on pull request #9: GitHub answered 403.*permissions: pull-requests: write/);
    expect(run.stdout).toContain('cannot comment on pull request #9');
    expect(run.stdout).not.toMatch(/^::error/m);
  });

  it('cuts a 70,000-character plan on a line boundary below the limit, with a pointer to the full report', async () => {
    // Nine sites with a ~8,000-character script each: the plan's diffs make well over 70,000 characters.
    const files: Record<string, string> = {};
    for (let s = 0; s < 9; s++) {
      const id = `${String(s + 1).repeat(8)}-aaaa-4aaa-8aaa-${String(s + 1).repeat(12)}`;
      files[`sites/big-${s}/site.yaml`] = `id: ${id}\n`;
      const lines = Array.from(
        { length: 120 },
        (_, i) => `/ip firewall address-list add list=blocked-${s} address=10.${s}.${Math.floor(i / 250)}.${i % 250} comment="entry ${i}"`,
      );
      files[`sites/big-${s}/00-blocked.rsc`] = `${lines.join('\n')}\n`;
    }
    const { remote, work } = await origin({ 'README.md': 'fleet\n' });
    const pr = await openPullRequest(remote, work, 11, files, 'nine big sites');
    const run = await plan(remote, pr, 11);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const full = readFileSync(run.outputs.report!, 'utf8');
    expect(full.length).toBeGreaterThan(70_000);
    expect(run.summary).toContain(full.trimEnd().split('\n').at(-1)!);
    expect(run.summary.length).toBeGreaterThan(70_000);

    const [comment] = mine(11);
    expect(comment).toBeDefined();
    const body = comment!.body;
    expect(body.length).toBeLessThan(MAX_COMMENT_LENGTH);
    expect(body.length).toBeLessThanOrEqual(60_000);
    expect(body).toMatch(
      /This plan is cut here: \d+ of \d+ characters are shown\.\*\* The full plan is in the \[step summary\]\(https:\/\/github\.example\/acme\/fleet\/actions\/runs\/4242\)/,
    );
    // What is shown is the report's beginning, cut at the end of a line (then the open diff is closed).
    const shown = body.slice(PLAN_MARKER.length + 1).split('\n```\n')[0]!;
    expect(full.startsWith(shown)).toBe(true);
    expect(full[shown.length]).toBe('\n');
    expect((body.match(/^```/gm) ?? []).length % 2).toBe(0);
  });
});

describe('the Action in a merge queue', () => {
  it("plans the merge group's head into the step summary (no pull request to comment on)", async () => {
    const { remote, work } = await origin(fleetFiles(1));
    const pr = await openPullRequest(remote, work, 12, { 'sites/site-1/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' });
    const e = example('merge_group', () => true);
    e.merge_group = {
      ...(e.merge_group as object),
      head_sha: pr.merge,
      base_sha: pr.base,
      head_ref: 'refs/heads/gh-readonly-queue/main/pr-12',
      base_ref: 'refs/heads/main',
    };
    e.repository = repository(e.repository as Record<string, unknown>);
    const ws = await checkout(remote, pr.merge, 'refs/remotes/origin/gh-readonly-queue');
    const run = await runAction({ workspace: ws, event: 'merge_group', payload: e, sha: pr.merge, inputs: { command: 'plan' } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.summary).toContain('sites/site-1/10-dns.rsc');
    expect(run.outputs).toMatchObject({ changes: '2', 'comment-url': '' });
    expect(github.comments()).toEqual([]);
  });
});

describe('the Action with missing or invalid inputs', () => {
  it('names the missing input and how to set it, and sends nothing', async () => {
    const { remote, first } = await origin(fleetFiles(1));
    const ws = await checkout(remote, first);
    const none = await runAction({ workspace: ws, event: 'push', payload: pushEvent(ZERO, first), sha: first, inputs: {} });
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/^::error title=routeros-gitops::the input "command" is required%0Ahint: set "command: plan" for pull requests/m);
    const noToken = await runAction({
      workspace: ws,
      event: 'push',
      payload: pushEvent(ZERO, first),
      sha: first,
      inputs: { command: 'apply', concurrency: 'many' },
    });
    expect(noToken.code).toBe(1);
    expect(noToken.stdout).toContain('the input \\"sdx-api-token\\" is required to apply'.replace(/\\/g, ''));
    expect(noToken.stdout).toContain('input concurrency "many" is not a whole number from 1 to 256');
    const onPr = await runAction({
      workspace: ws,
      event: 'pull_request',
      payload: pullRequestEvent(3, first, first),
      sha: first,
      inputs: { command: 'apply', 'sdx-api-token': SDX_TOKEN },
    });
    expect(onPr.code).toBe(1);
    expect(onPr.stdout).toContain('apply does not run on pull_request events');
    expect(sandbox.stats().requests).toBe(0);
    expect(github.statuses()).toEqual([]);
  });

  it('refuses to plan and apply a script with a check error: an annotation at file and line, the step fails, nothing sent', async () => {
    const { remote, first } = await origin(fleetFiles(1, { '00-dns.rsc': '/system identity set name=x\n/ip dns set servrs=1.1.1.1\n' }));
    const ws = await checkout(remote, first);
    const planned = await runAction({ workspace: ws, event: 'push', payload: pushEvent(ZERO, first), sha: first, inputs: { command: 'plan' } });
    expect(planned.code).toBe(1);
    expect(planned.outputs['failed-sites']).toBe('site-1');
    expect(planned.stdout).toMatch(/^::error::script check errors on 1 site \(site-1\): apply would refuse this commit and send nothing/m);
    const run = await apply(ws, ZERO, first);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error title=routeros-gitops,file=sites\/site-1\/00-dns\.rsc,line=2,col=\d+::.*unknown-parameter/m);
    expect(sandbox.stats().posts).toBe(0);
    // Nothing was sent, so no status either: the failed run is the commit's check.
    expect(github.statuses(first)).toEqual([]);
  });

  it('shows lockout risks first in the plan comment, fails the plan, refuses the apply; allow-lockout sends them (issue 14)', async () => {
    const lock = '/ip service disable ssh,winbox,www\n/ip firewall filter add chain=input action=drop\n';
    const { remote, work, first } = await origin(fleetFiles(1));
    expect((await apply(await checkout(remote, first), ZERO, first)).code).toBe(0);
    const pr = await openPullRequest(remote, work, 9, { 'sites/site-1/20-lock.rsc': lock }, 'lock it down');
    const planned = await plan(remote, pr, 9);
    expect(planned.code).toBe(1);
    expect(planned.stdout).toMatch(
      /^::error::lockout risks not acknowledged on 1 site \(site-1\): apply would refuse this commit and send nothing; acknowledge each/m,
    );
    expect(planned.stdout).toMatch(/^::error title=routeros-gitops%3A lockout risk%3A input-drop,file=sites\/site-1\/20-lock\.rsc,line=2,col=1::/m);
    expect(planned.outputs).toMatchObject({ 'failed-sites': 'site-1', 'to-send': '0' });
    const body = mine(9)[0]!.body;
    const block = body.indexOf('#### Lockout risks: 2, apply refuses to send anything until each is acknowledged');
    expect(block, body).toBeGreaterThan(0);
    expect(block).toBeLessThan(body.indexOf('| site | script | change | action |'));
    expect(body).toContain('| site-1 | `sites/site-1/20-lock.rsc:1:1` | `ip-service` |');
    expect(body).toContain('or apply with allow-lockout: true.');

    // Merged: apply refuses it (nothing sent), unless allow-lockout is set.
    const merged = await work.commit({ 'sites/site-1/20-lock.rsc': lock }, 'merge: lock it down');
    await work.git(['push', '-q', 'origin', 'HEAD:main']);
    const refused = await apply(await checkout(remote, merged), first, merged);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/20-lock\.rsc.*line=1.*ip-service/);
    const posts = sandbox.stats().posts;
    const allowed = await apply(await checkout(remote, merged), first, merged, { 'allow-lockout': 'true' });
    expect(allowed.code, allowed.stdout).toBe(0);
    expect(sandbox.stats().posts).toBe(posts + 1);
  });
});

describe('the Action on push: outcomes that arrive later, large fleets, rate limits', () => {
  it('leaves a pending status when a router is offline, and the next run writes the outcome on the commit the change came from', async () => {
    const { remote, work, first } = await origin(fleetFiles(2));
    sandbox.setOnline(SITE_IDS[1]!, false);
    const r1 = await apply(await checkout(remote, first), ZERO, first, { timeout: '1' });
    expect(r1.code, r1.stdout + r1.stderr).toBe(0); // pending is not a failure
    expect(r1.outputs).toMatchObject({ 'failed-sites': '', 'pending-sites': 'site-2' });
    let now = github.current(first);
    expect(now.get('routeros-gitops/site-1')?.state).toBe('success');
    expect(now.get('routeros-gitops/site-2')).toMatchObject({ state: 'pending' });
    expect(now.get('routeros-gitops/site-2')?.description).toMatch(/still queued .*the next run records the outcome/);
    expect(now.get('routeros-gitops')).toMatchObject({ state: 'pending', description: '1 applied, 0 failed, 1 pending' });

    // The router comes back; the next push changes only site-1. Its run follows site-2's job.
    sandbox.setOnline(SITE_IDS[1]!, true);
    const second = await work.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' }, 'site-1: quad9');
    await work.git(['push', '-q', 'origin', 'main']);
    const r2 = await apply(await checkout(remote, second), first, second);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    await expectNoSecrets(r2);
    // The depth-1 checkout lacked the last applied commit: history was fetched to order them.
    expect(r2.stdout).toContain('git fetch --unshallow');
    now = github.current(first);
    expect(now.get('routeros-gitops/site-2')?.state).toBe('success');
    expect(now.get('routeros-gitops')).toMatchObject({ state: 'success', description: '2 applied, 0 failed, 0 pending' });
    const later = github.current(second);
    expect(later.get('routeros-gitops/site-1')?.state).toBe('success');
    expect(later.has('routeros-gitops/site-2')).toBe(false); // site-2's change came from the first commit
    expect(later.get('routeros-gitops')).toMatchObject({ state: 'success', description: '1 applied, 0 failed, 0 pending' });
    // Never success before the router reported: site-2's success follows its jobs' completion.
    const site2 = github.statuses(first).filter((s) => s.context === 'routeros-gitops/site-2');
    expect(site2.map((s) => s.state)).toEqual(['pending', 'pending', 'pending', 'success']);
    const done = Math.max(...sandbox.jobs(SITE_IDS[1]).map((j) => Date.parse(j.completed_at!)));
    expect(Date.parse(site2.at(-1)!.created_at)).toBeGreaterThanOrEqual(done);
  });

  it('above the status limit writes only the roll-up and the failed sites, fails the step, and waits out a secondary rate limit', async () => {
    const files = fleetFiles(3);
    files['sites/site-2/10-dns.rsc'] = `/ip dns set servers=1.1.1.1\n${FAIL}\n`;
    const { remote, first } = await origin(files);
    github.inject('secondary-403', 1, { methods: ['POST'], retryAfterSeconds: 1 });
    const run = await apply(await checkout(remote, first), ZERO, first, { 'status-limit': '2' });
    expect(run.code).toBe(1);
    await expectNoSecrets(run);
    expect(run.outputs['failed-sites']).toBe('site-2');
    expect(run.stdout).toMatch(/^::error::1 site failed: site-2; see the step summary and the commit statuses/m);
    const now = github.current(first);
    expect([...now.keys()].sort()).toEqual(['routeros-gitops', 'routeros-gitops/site-2']);
    expect(now.get('routeros-gitops/site-2')).toMatchObject({
      state: 'failure',
      description: `10-dns.rsc failed on the router (job ${sandbox.jobs(SITE_IDS[1]).at(-1)!.id.slice(0, 8)})`,
    });
    expect(now.get('routeros-gitops/site-2')?.target_url).toMatch(/^https:\/\/sdx\.example\/logs\?/);
    expect(now.get('routeros-gitops')).toMatchObject({ state: 'failure', description: '2 applied, 1 failed, 0 pending' });
    // The limited POST was answered 403 with retry-after: 1, and sent again no sooner than a second later.
    const writes = github.requests().filter((r) => r.method === 'POST');
    expect(writes[0]).toMatchObject({ status: 403, limited: 'secondary-403' });
    expect(writes[1]!.status).toBe(201);
    expect(writes[1]!.at - writes[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(github.maxConcurrentWrites).toBe(1);
  });
});

describe('the Action against a hostile repository', () => {
  it('apply on a push to a branch other than the default one sends nothing and fails, saying why; apply-branches opens one on purpose', async () => {
    const { remote, work, first } = await origin(fleetFiles(1));
    await work.git(['checkout', '-q', '-b', 'feature/unreviewed']);
    const unreviewed = await work.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers=6.6.6.6\n' }, 'unreviewed');
    await work.git(['push', '-q', 'origin', 'feature/unreviewed']);
    const ws = await checkout(remote, unreviewed);
    const run = await runAction({
      workspace: ws,
      event: 'push',
      payload: pushEvent(first, unreviewed, 'feature/unreviewed'),
      sha: unreviewed,
      inputs: { command: 'apply', 'sdx-api-token': SDX_TOKEN },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^::error::apply runs only on a push to the default branch \(main\); this run is a push to feature\/unreviewed, whose commits have not been reviewed into it, so nothing was sent/m,
    );
    expect(sandbox.stats().requests).toBe(0);
    expect(github.requests()).toEqual([]);
    await expect(remote.git(['rev-parse', '--verify', '-q', 'refs/routeros-gitops/state'])).rejects.toThrow();
    // A workflow_dispatch on that branch is refused the same way.
    const dispatch = example('workflow_dispatch', () => true);
    dispatch.repository = repository(dispatch.repository as Record<string, unknown>);
    const manual = await runAction({
      workspace: ws,
      event: 'workflow_dispatch',
      payload: dispatch,
      sha: unreviewed,
      inputs: { command: 'apply', 'sdx-api-token': SDX_TOKEN },
      env: { GITHUB_REF: 'refs/heads/feature/unreviewed' },
    });
    expect(manual.code).toBe(1);
    expect(manual.stdout).toMatch(
      /^::error::apply runs only on a push to the default branch \(main\); this run is a workflow_dispatch event on feature\/unreviewed/m,
    );
    expect(sandbox.stats().requests).toBe(0);
    // Named by the operator (a glob), the branch applies.
    const named = await runAction({
      workspace: await checkout(remote, unreviewed),
      event: 'push',
      payload: pushEvent(first, unreviewed, 'feature/unreviewed'),
      sha: unreviewed,
      inputs: { command: 'apply', 'sdx-api-token': SDX_TOKEN, 'apply-branches': 'release/*,\nfeature/**' },
    });
    expect(named.code, named.stdout + named.stderr).toBe(0);
    expect(sandbox.stats().jobsCreated).toBe(2);
  });

  it('a committed api_url pointing at a listener: plan and apply fail at its file and line, and the listener receives nothing', async () => {
    const listener = await startRawServer((_q, res) => res.writeHead(201).end('{}'));
    cleanup.push(() => listener.close());
    const { remote, work, first } = await origin({ ...fleetFiles(1), 'sites/routeros-gitops.yaml': `api_url: ${listener.url}\n` });
    const run = await apply(await checkout(remote, first), ZERO, first);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^::error title=routeros-gitops,file=sites\/routeros-gitops\.yaml,line=1::api_url is .*but the operator's SDX API URL is http:\/\/127\.0\.0\.1:\d+ \(SDX_API_URL\)/m,
    );
    const pr = await openPullRequest(remote, work, 21, { 'sites/site-1/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' });
    const planned = await plan(remote, pr, 21);
    expect(planned.code).toBe(1);
    expect(planned.stdout).toContain('the repository cannot choose where the SDX token and the scripts are sent');
    expect(listener.received).toEqual([]);
    expect(sandbox.stats().requests).toBe(0);
    expect(github.statuses()).toEqual([]);
  });

  it('apply with a template secret: the job body holds it, and nothing else does (outputs, summary, statuses, the state and its history)', async () => {
    const { remote, first } = await origin(fleetFiles(1, { '00-radius.rsc': '/radius set [find] secret="${{ secrets.radius }}"\n' }));
    const run = await apply(await checkout(remote, first), ZERO, first, {}, { RGO_SECRET_RADIUS: TEMPLATE_SECRET, RGO_SECRETS_KEY: 'digest-Key-0042-abcdef' });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(sandbox.jobs()[0]!.script).toBe(`/radius set [find] secret="${TEMPLATE_SECRET}"\n`);
    await expectNoSecrets(run, remote);
  });

  it('a pull request from a fork is planned without any secret or token, and nothing is written to GitHub', async () => {
    const { remote, work } = await origin(fleetFiles(1, { '00-radius.rsc': '/radius set [find] secret="${{ secrets.radius }}"\n' }));
    const pr = await openPullRequest(remote, work, 31, { 'sites/site-1/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' });
    const ws = await checkout(remote, pr.merge, 'refs/remotes/pull/31/merge');
    const run = await runAction({
      workspace: ws,
      event: 'pull_request',
      payload: pullRequestEvent(31, pr.head, pr.base, true),
      sha: pr.merge,
      // The workflow hands it everything it would hand a trusted run.
      inputs: { command: 'plan', 'sdx-api-token': SDX_TOKEN, 'github-token': github.writeToken },
      env: { RGO_SECRET_RADIUS: TEMPLATE_SECRET, RGO_SECRETS_KEY: 'digest-Key-0042-abcdef' },
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    await expectNoSecrets(run, remote);
    // The secret was not used: the plan says it is not supplied.
    const report = JSON.parse(readFileSync(run.outputs['report-json']!, 'utf8')) as { changes: Array<{ path: string; secrets_missing: string[] }> };
    expect(report.changes.find((c) => c.path.endsWith('00-radius.rsc'))?.secrets_missing).toEqual(['radius']);
    // No request to GitHub at all (no comment, no status, not even an attempt), none to SDX.
    expect(github.requests()).toEqual([]);
    expect(sandbox.stats().requests).toBe(0);
    expect(run.summary).toContain('sites/site-1/10-dns.rsc');
    expect(run.summary).toMatch(/Pull request #31 comes from a fork: it was planned without secrets .* nothing was written to GitHub/);
    expect(run.outputs['comment-url']).toBe('');
  });
});

describe('the Action when SDX cannot be used (issue 14)', () => {
  it('a token SDX refuses fails the step after one request, with the server message and never the token; nothing is sent or posted', async () => {
    const { remote, first } = await origin(fleetFiles(2));
    const ws = await checkout(remote, first);
    const before = sandbox.requests().length;
    const wrong = 'a-wrong-sdx-token-1234';
    const run = await apply(ws, ZERO, first, { 'sdx-api-token': wrong });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`::error::SDX at ${sandbox.url} refused the token (HTTP 401: Unauthenticated.); nothing was sent`);
    expect(run.stdout).toMatch(/hint: check SDX_API_TOKEN \(the Action's sdx-api-token\)/);
    expect(
      sandbox
        .requests()
        .slice(before)
        .map((q) => `${q.method} ${q.path} ${q.status}`),
    ).toEqual(['GET /site-minimal 401']);
    expect(github.statuses(first)).toEqual([]);
    expect(await run.everything()).not.toContain(wrong);
  });
});

describe('dist/index.js', () => {
  it('is the bundle a fresh build makes (rebuild with `node scripts/build.mjs action` and commit it)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rgo-dist-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const out = path.join(dir, 'index.js');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['scripts/build.mjs', 'action'], {
        cwd: ROOT,
        env: { ...process.env, RGO_ACTION_OUTFILE: out },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`build failed: ${err}`))));
    });
    const fresh = readFileSync(out, 'utf8');
    const committed = readFileSync(BUNDLE, 'utf8');
    expect(fresh === committed, 'dist/index.js differs from a fresh build: run `node scripts/build.mjs action` and commit dist/index.js').toBe(true);
    // The plan's worker threads run a file of their own, built beside it (issue 18).
    const worker = readFileSync(path.join(dir, 'plan-worker.js'), 'utf8') === readFileSync(path.join(ROOT, 'dist', 'plan-worker.js'), 'utf8');
    expect(worker, 'dist/plan-worker.js differs from a fresh build: run `node scripts/build.mjs action` and commit dist/').toBe(true);
  });

  it('is what action.yml runs, on node24, with the inputs and outputs the code reads and writes', async () => {
    const yml = readFileSync(path.join(ROOT, 'action.yml'), 'utf8');
    expect(yml).toMatch(/^runs:\n {2}using: node24\n {2}main: dist\/index\.js$/m);
    const src = readFileSync(path.join(ROOT, 'src/action/outcome.ts'), 'utf8');
    const declared = (section: string) =>
      [
        ...yml
          .split(`\n${section}:\n`)[1]!
          .split(/\n\S/)[0]!
          .matchAll(/^ {2}([a-z-]+):$/gm),
      ].map((m) => m[1]!);
    // The inputs readInputs reads: command, apply-branches, and those of its spec.
    const read = ['command', 'apply-branches', ...Object.keys(INPUT_SPEC).map(inputName)];
    expect([...declared('inputs')].sort()).toEqual(read.sort());
    for (const output of declared('outputs')) expect(src, `output ${output}`).toContain(`${/-/.test(output) ? `'${output}'` : `${output}:`}`);
    expect(declared('inputs')).toEqual(
      expect.arrayContaining(['command', 'sites', 'sdx-api-url', 'sdx-api-token', 'github-token', 'concurrency', 'timeout', 'comment']),
    );
    expect(yml).toContain('default: ${{ github.token }}');
  });
});

describe('the Action plans a pull request without template secrets', () => {
  it('a same-repository pull request is planned without reading RGO_SECRET_*: its comment shows a committer text as written, whichever equals a secret', async () => {
    const files = fleetFiles(1, { '15-pppoe.rsc': '/interface pppoe-client set [find name=pppoe-isp] password="${{ secrets.pppoe }}"\n' });
    const { remote, work } = await origin(files);
    const guesses = ['482910', '482911', '482912', '482913', '482914', '482915'];
    const pr = await openPullRequest(remote, work, 77, { 'sites/site-1/90-notes.rsc': `${guesses.map((g) => `# candidate ${g}`).join('\n')}\n:put "ok"\n` });
    const ws = await checkout(remote, pr.merge, 'refs/remotes/pull/77/merge');
    const run = await runAction({
      workspace: ws,
      event: 'pull_request',
      payload: pullRequestEvent(77, pr.head, pr.base),
      sha: pr.merge,
      inputs: { command: 'plan' },
      env: { RGO_SECRET_PPPOE: '482913', RGO_SECRETS_KEY: 'plan-test-secrets-key-0123456789' },
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const comment = mine(77).at(-1)!.body;
    for (const g of guesses) expect(comment).toContain(`candidate ${g}`);
    expect(run.summary).toContain('candidate 482913');
    expect(run.stdout).toContain('the plan step does not read template secrets');
  });
});
