// The GitHub adapter in-process against the GitHub double: the client's handling of rate limits,
// the status writer (what it posts, what it does not post again, the site limit, roll-ups of
// older commits), the sticky comment, event parsing with GitHub's own payloads, and the Action's
// logger.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGitHubDouble, type GitHubDouble } from './helpers/github-double.js';
import { createGitHubClient, type GitHubClient } from '../src/github/octokit.js';
import { createStatusWriter, cutDescription, parseRollup, rollupText } from '../src/github/status-writer.js';
import { fitComment, MAX_COMMENT_LENGTH, PLAN_MARKER, planMarker, upsertComment } from '../src/github/pr-comment.js';
import { capAnnotations, planAnnotations } from '../src/github/annotations.js';
import { parseEvent } from '../src/github/event.js';
import { createActionLogger } from '../src/github/actions-logger.js';
import { readInputs } from '../src/action/inputs.js';
import { LIMITS } from '../src/wiring/options.js';
import { makeRedactor } from '../src/core/redact.js';
import { InputError } from '../src/core/errors.js';
import type { ApplyEvent, ChangeResult, Outcome } from '../src/core/outcome.js';
import type { Plan, PlannedChange, SitePlan } from '../src/core/plan.js';
import type { Job } from '../src/core/jobs.js';

const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);
const OWNER = 'acme';
const REPO = 'fleet';

let gh: GitHubDouble;
beforeAll(async () => {
  gh = await startGitHubDouble();
});
afterAll(() => gh.close());
beforeEach(() => {
  gh.reset();
  jobN = 0;
});

const client = (token = gh.writeToken, extra: Partial<Parameters<typeof createGitHubClient>[0]> = {}): GitHubClient =>
  createGitHubClient({ token, baseUrl: gh.url, writeIntervalMs: 0, notifyIntervalMs: 0, ...extra });

// ---- plan and apply events, as reconcile() emits them ------------------------------------------

function change(site: string, path: string, commit: string, extra: Partial<PlannedChange> = {}): PlannedChange {
  return {
    site,
    site_id: `id-${site}`,
    path: `sites/${site}/${path}`,
    kind: 'added',
    action: 'create',
    idempotency_key: `key-${site}-${path}`,
    description: 'gitops',
    fingerprint: 'f',
    previous_fingerprint: null,
    commit,
    file: path,
    previous_path: null,
    generation: 1,
    lookup: false,
    parts: null,
    from_part: 0,
    job_id: null,
    supersedes: null,
    group: null,
    secrets: [],
    secrets_missing: [],
    findings: [],
    previous: null,
    ...extra,
  };
}

function makePlan(sha: string, changes: PlannedChange[]): Plan {
  const sites: SitePlan[] = [...new Set(changes.map((c) => c.site))].map((site) => ({
    site,
    site_id: `id-${site}`,
    status: 'ok',
    reason: null,
    last_commit: null,
    renamed_from: null,
    removed: false,
    settings: { needs_ack: true, backup: false, express: false, description: '', timeout: 600 },
    changes: changes.filter((c) => c.site === site),
    scripts: 2,
    routeros: null,
  }));
  return {
    ref: sha,
    commit: { sha, subject: 's', time: '2025-01-01T00:00:00Z' },
    fleet_last_commit: null,
    fleet_heads: [],
    sites_dir: 'sites',
    moves: [],
    missing_history: [],
    sites,
    changes,
    summary: { sites: sites.length, sites_changed: sites.length, added: changes.length, modified: 0, removed: 0, stale_sites: 0, to_send: changes.length },
  };
}

let jobN = 0;
const job = (): Job => {
  const id = `${String(++jobN).padStart(8, '0')}-0000-4000-8000-000000000000`;
  return {
    id,
    token: 't',
    site_id: 's',
    idempotency_key: 'k',
    description: 'd',
    express_execute: false,
    needs_acknowledgement: true,
    should_backup: false,
    associated_backup: null,
    started_at: null,
    completed_at: null,
    failed_at: null,
    created_at: '',
    log_url: `logs?job=${id}`,
  };
};
const result = (c: PlannedChange, outcome: Outcome, j: Job | null, reason: string | null = null): ChangeResult => ({
  change: c,
  outcome,
  job_id: j?.id ?? null,
  log_url: j ? `https://sdx.example/logs?job=${j.id}` : null,
  reason,
  reused: false,
  finished_at: '2025-01-01T00:00:00Z',
});

/** Drive a writer through one site as apply does: job-created for each change, results, site-done. */
function runSite(emit: (e: ApplyEvent) => void, plan: Plan, site: string, outcomes: Array<[Outcome, string | null]>): ChangeResult[] {
  const sp = plan.sites.find((s) => s.site === site)!;
  emit({ type: 'site-start', site: sp });
  const results = sp.changes.map((c, i) => {
    const [outcome, reason] = outcomes[i]!;
    const j = outcome === 'blocked' ? null : job();
    if (j) emit({ type: 'job-created', change: c, job: j, reused: false });
    const r = result(c, outcome, j, reason);
    emit({ type: 'result', result: r });
    return r;
  });
  emit({ type: 'site-done', site: sp, results });
  return results;
}

describe('the status writer', () => {
  it('posts pending then the outcome per site and a roll-up; an identical status already shown is not posted again', async () => {
    const octokit = client();
    // An earlier attempt of this run (it crashed) left the same pending roll-up.
    await octokit.request('POST /repos/{owner}/{repo}/statuses/{sha}', {
      owner: OWNER,
      repo: REPO,
      sha: SHA_A,
      state: 'pending',
      context: 'ROUTEROS-GITOPS',
      description: '0 applied, 0 failed, 2 pending',
      target_url: 'https://github.example/run/1',
    });
    jobN = 0;
    const plan = makePlan(SHA_A, [change('site-1', '00-a.rsc', SHA_A), change('site-2', '10-b.rsc', SHA_A)]);
    const w = createStatusWriter({ octokit, owner: OWNER, repo: REPO, webUrl: 'https://sdx.example/', rollupUrl: 'https://github.example/run/1' });
    w.begin(plan);
    runSite(w.onEvent, plan, 'site-1', [['succeeded', null]]);
    runSite(w.onEvent, plan, 'site-2', [['failed', "the router reported a failure at 2025-01-01T00:00:00Z; see the job's log"]]);
    const report = await w.flush();
    const shown = gh.current(SHA_A);
    expect(shown.get('routeros-gitops/site-1')).toMatchObject({
      state: 'success',
      description: '1 script applied',
      target_url: 'https://sdx.example/logs?job=00000001-0000-4000-8000-000000000000',
    });
    expect(shown.get('routeros-gitops/site-2')).toMatchObject({
      state: 'failure',
      description: '10-b.rsc failed on the router (job 00000002)',
      target_url: 'https://sdx.example/logs?job=00000002-0000-4000-8000-000000000000',
    });
    expect(shown.get('routeros-gitops')).toMatchObject({
      state: 'failure',
      description: '1 applied, 1 failed, 0 pending',
      target_url: 'https://github.example/run/1',
    });
    // Pending at the job, then the outcome; the failure (posted at the result) is not repeated at site-done.
    expect(
      gh
        .statuses(SHA_A)
        .filter((s) => s.context === 'routeros-gitops/site-2')
        .map((s) => s.state),
    ).toEqual(['pending', 'failure']);
    // The roll-up's pending was already shown (contexts are case-insensitive): only the outcome is posted.
    expect(
      gh
        .statuses(SHA_A)
        .filter((s) => s.context.toLowerCase() === 'routeros-gitops')
        .map((s) => s.state),
    ).toEqual(['pending', 'failure']);
    expect(report.unchanged).toBe(2);
    expect(report.failed).toBe(0);
    // The existing statuses were read once for the commit.
    expect(gh.requests().filter((r) => r.method === 'GET').length).toBe(1);
  });

  it('above the site limit writes only failures and the roll-up, but keeps a status a site already has up to date', async () => {
    const octokit = client();
    await octokit.request('POST /repos/{owner}/{repo}/statuses/{sha}', {
      owner: OWNER,
      repo: REPO,
      sha: SHA_A,
      state: 'pending',
      context: 'routeros-gitops/s3',
      description: 'from an earlier run',
    });
    const plan = makePlan(
      SHA_A,
      ['s1', 's2', 's3'].map((s) => change(s, '00-a.rsc', SHA_A)),
    );
    const w = createStatusWriter({ octokit, owner: OWNER, repo: REPO, siteLimit: 2 });
    w.begin(plan);
    runSite(w.onEvent, plan, 's1', [['succeeded', null]]);
    runSite(w.onEvent, plan, 's2', [['failed', 'SDX answered 400: bad script']]);
    runSite(w.onEvent, plan, 's3', [['succeeded', null]]);
    await w.flush();
    const shown = gh.current(SHA_A);
    expect([...shown.keys()].sort()).toEqual(['routeros-gitops', 'routeros-gitops/s2', 'routeros-gitops/s3']);
    expect(shown.get('routeros-gitops/s2')).toMatchObject({ state: 'failure', description: '00-a.rsc: SDX answered 400: bad script' });
    expect(shown.get('routeros-gitops/s3')?.state).toBe('success');
    expect(shown.get('routeros-gitops')?.description).toBe('2 applied, 1 failed, 0 pending');
  });

  it("moves an older commit's pending sites in its roll-up when a later run follows their jobs; blocked behind a running job is pending", async () => {
    const octokit = client();
    // Run 1 at A: s1 applied, s2's first job still queued at the timeout (its second change waits).
    const planA = makePlan(SHA_A, [change('s1', '00-a.rsc', SHA_A), change('s2', '00-a.rsc', SHA_A), change('s2', '10-b.rsc', SHA_A)]);
    const w1 = createStatusWriter({ octokit, owner: OWNER, repo: REPO });
    w1.begin(planA);
    runSite(w1.onEvent, planA, 's1', [['succeeded', null]]);
    runSite(w1.onEvent, planA, 's2', [
      ['timed_out', 'still queued after 1 s (the router has not checked in: is it online?); the next run follows the same job'],
      ['blocked', 'an earlier change of s2 (sites/s2/00-a.rsc) timed out'],
    ]);
    await w1.flush();
    expect(gh.current(SHA_A).get('routeros-gitops/s2')).toMatchObject({
      state: 'pending',
      description: '2 scripts waiting, 00-a.rsc still queued (job 00000002); the next run records the outcome',
    });
    expect(gh.current(SHA_A).get('routeros-gitops')).toMatchObject({ state: 'pending', description: '1 applied, 0 failed, 1 pending' });

    // Run 2 at B: s1 changes again (commit B); s2's changes keep commit A (follow) and succeed.
    const planB = makePlan(SHA_B, [change('s1', '00-a.rsc', SHA_B), change('s2', '00-a.rsc', SHA_A, { action: 'follow' }), change('s2', '10-b.rsc', SHA_A)]);
    const w2 = createStatusWriter({ octokit, owner: OWNER, repo: REPO });
    w2.begin(planB);
    runSite(w2.onEvent, planB, 's1', [['succeeded', null]]);
    runSite(w2.onEvent, planB, 's2', [
      ['succeeded', null],
      ['succeeded', null],
    ]);
    await w2.flush();
    expect(gh.current(SHA_A).get('routeros-gitops/s2')).toMatchObject({ state: 'success', description: '2 scripts applied' });
    expect(gh.current(SHA_A).get('routeros-gitops')).toMatchObject({ state: 'success', description: '2 applied, 0 failed, 0 pending' });
    expect(gh.current(SHA_B).get('routeros-gitops')).toMatchObject({ state: 'success', description: '1 applied, 0 failed, 0 pending' });
    expect(gh.current(SHA_B).has('routeros-gitops/s2')).toBe(false);
  });

  it('cuts descriptions at 140 code points; logs and goes on when GitHub refuses one (1000 per context); stops on 403', async () => {
    const long = `${'é'.repeat(100)}${'😀'.repeat(60)}`;
    const cut = cutDescription(long);
    expect([...cut].length).toBe(140);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(parseRollup(rollupText({ applied: 12, failed: 1, pending: 2, stale: 0 }))).toEqual({ applied: 12, failed: 1, pending: 2, stale: 0 });

    const octokit = client();
    const raw = (context: string, description: string) =>
      fetch(`${gh.url}/repos/${OWNER}/${REPO}/statuses/${SHA_A}`, {
        method: 'POST',
        headers: { authorization: `token ${gh.writeToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ state: 'pending', context, description }),
      });
    gh.seedStatuses(OWNER, REPO, SHA_A, 'routeros-gitops/full', 999);
    expect((await raw('routeros-gitops/full', 'the 1000th')).status).toBe(201);
    expect((await raw('ROUTEROS-GITOPS/FULL', 'the 1001st')).status).toBe(422);
    expect((await raw('x', 'x'.repeat(141))).status).toBe(422);
    expect((await raw('x', '😀'.repeat(140))).status).toBe(201);

    const plan2 = makePlan(SHA_A, [change('full', '00-a.rsc', SHA_A), change('ok', '00-a.rsc', SHA_A)]);
    const w = createStatusWriter({ octokit, owner: OWNER, repo: REPO });
    w.begin(plan2);
    runSite(w.onEvent, plan2, 'full', [['failed', 'x'.repeat(300)]]);
    runSite(w.onEvent, plan2, 'ok', [['succeeded', null]]);
    const report = await w.flush();
    expect(report.failed).toBe(1); // the failure of `full`: its context is full
    expect(gh.current(SHA_A).get('routeros-gitops/ok')?.state).toBe('success');
    expect(gh.current(SHA_A).get('routeros-gitops')?.state).toBe('failure');
    expect(gh.statuses(SHA_A).filter((x) => x.context.toLowerCase() === 'routeros-gitops/full')).toHaveLength(1000);

    // A read-only token: the first refused write stops the others.
    gh.reset();
    const plan = makePlan(SHA_A, [change('ok', '00-a.rsc', SHA_A)]);
    const ro = createStatusWriter({ octokit: client(gh.readToken), owner: OWNER, repo: REPO });
    ro.begin(plan);
    runSite(ro.onEvent, plan, 'ok', [['succeeded', null]]);
    const r2 = await ro.flush();
    expect(r2.disabled).toMatch(/403.*statuses: write/);
    expect(gh.requests().filter((r) => r.method === 'POST')).toHaveLength(1);
  });
});

describe('the GitHub client', () => {
  it('waits for x-ratelimit-reset on a primary limit, for retry-after on a secondary one, and backs off on 5xx', async () => {
    const octokit = client(gh.writeToken, { retryAfterBaseMs: 1000 });
    gh.inject('primary-403', 1, { resetSeconds: 1 });
    const t0 = Date.now();
    const res = await octokit.request('GET /repos/{owner}/{repo}/commits/{ref}/status', { owner: OWNER, repo: REPO, ref: SHA_A });
    expect(res.status).toBe(200);
    // Reset one second ahead (rounded up to whole epoch seconds), plus the one the plugin adds.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    gh.inject('secondary-429', 1, { retryAfterSeconds: 1 });
    const t1 = Date.now();
    await octokit.request('POST /repos/{owner}/{repo}/statuses/{sha}', { owner: OWNER, repo: REPO, sha: SHA_A, state: 'success', context: 'c' });
    expect(Date.now() - t1).toBeGreaterThanOrEqual(1000);
    const fast = client(gh.writeToken, { retryAfterBaseMs: 20 });
    gh.inject('server-error', 2);
    await fast.request('GET /repos/{owner}/{repo}/commits/{ref}/status', { owner: OWNER, repo: REPO, ref: SHA_A });
    expect(gh.requests().map((r) => r.status)).toEqual([403, 200, 429, 201, 502, 502, 200]);
  });

  it("keeps writes one at a time and within the double's secondary limit", async () => {
    const strict = await startGitHubDouble({ secondary: [{ max: 3, windowMs: 1000 }] });
    try {
      const octokit = createGitHubClient({ token: strict.writeToken, baseUrl: strict.url, writeIntervalMs: 0 });
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          octokit.request('POST /repos/{owner}/{repo}/statuses/{sha}', { owner: OWNER, repo: REPO, sha: SHA_A, state: 'success', context: `c${i}` }),
        ),
      );
      expect(strict.statuses()).toHaveLength(5);
      expect(strict.requests().some((r) => r.limited === 'secondary')).toBe(true);
      expect(strict.maxConcurrentWrites).toBe(1);
      // By default writes go out about a second apart, as GitHub asks.
      const paced = createGitHubClient({ token: strict.writeToken, baseUrl: strict.url });
      await new Promise((r) => setTimeout(r, 1000)); // let the double's window free up
      const before = strict.requests().length;
      await Promise.all(
        ['p1', 'p2'].map((context) =>
          paced.request('POST /repos/{owner}/{repo}/statuses/{sha}', { owner: OWNER, repo: REPO, sha: SHA_B, state: 'success', context }),
        ),
      );
      const [w1, w2] = strict.requests().slice(before);
      expect(w2!.at - w1!.at).toBeGreaterThanOrEqual(950);
    } finally {
      await strict.close();
    }
  });
});

describe('the sticky plan comment', () => {
  it('keeps the oldest marked comment, removes duplicates left by racing runs, ignores quotes of the marker', async () => {
    const octokit = client();
    gh.addComment(5, `> ${PLAN_MARKER}\n> quoted by a person`);
    gh.addComment(5, `${PLAN_MARKER}\nold plan`, 'github-actions[bot]');
    gh.addComment(5, `${PLAN_MARKER}\nduplicate`, 'github-actions[bot]');
    const res = await upsertComment({ octokit, owner: OWNER, repo: REPO, issueNumber: 5, marker: PLAN_MARKER, body: `${PLAN_MARKER}\nnew plan\n` });
    expect(res).toMatchObject({ result: 'updated', removedDuplicates: 1 });
    expect(gh.comments(5).map((c) => c.body)).toEqual([`> ${PLAN_MARKER}\n> quoted by a person`, `${PLAN_MARKER}\nnew plan\n`]);
    expect((await upsertComment({ octokit, owner: OWNER, repo: REPO, issueNumber: 5, marker: PLAN_MARKER, body: `${PLAN_MARKER}\nnew plan\n` })).result).toBe(
      'unchanged',
    );
    expect(planMarker('sites')).toBe(PLAN_MARKER);
    expect(planMarker('fleets/eu')).toBe('<!-- routeros-gitops:plan:fleets/eu -->');
    // The double refuses a body over the limit, as GitHub does; upsertComment refuses to send one.
    const big = await fetch(`${gh.url}/repos/${OWNER}/${REPO}/issues/5/comments`, {
      method: 'POST',
      headers: { authorization: `token ${gh.writeToken}` },
      body: JSON.stringify({ body: 'x'.repeat(MAX_COMMENT_LENGTH + 1) }),
    });
    expect(big.status).toBe(422);
    await expect(
      upsertComment({ octokit, owner: OWNER, repo: REPO, issueNumber: 5, marker: PLAN_MARKER, body: PLAN_MARKER + 'x'.repeat(MAX_COMMENT_LENGTH) }),
    ).rejects.toThrow(/at most 65536/);
  });

  it('cuts on a line boundary and closes what it left open', () => {
    const body = [
      '# plan',
      '<details><summary>a</summary>',
      '',
      '```diff',
      ...Array.from({ length: 200 }, (_, i) => `+line ${i} ${'x'.repeat(40)}`),
      '```',
      '</details>',
    ].join('\n');
    const { body: out, cut } = fitComment(body, (shown, total) => `cut: ${shown}/${total}`, 2000);
    expect(cut).toBe(true);
    expect(out.length).toBeLessThanOrEqual(2000);
    const lines = out.trimEnd().split('\n');
    expect(lines.slice(-4)).toEqual(['```', '</details>', '', expect.stringMatching(/^cut: \d+\/\d+$/)]);
    expect(body.startsWith(`${lines.slice(0, -4).join('\n')}\n`)).toBe(true);
    expect(fitComment('short', () => 'x')).toEqual({ body: 'short', cut: false });
  });
});

describe('events, inputs, annotations and the logger', () => {
  const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as Array<{ name: string; examples: Array<Record<string, unknown>> }>;
  const ex = (name: string) => structuredClone(examples.find((e) => e.name === name)!.examples[0]!);

  it("reads GitHub's own push, pull_request and merge_group payloads", () => {
    const mg = ex('merge_group');
    const m = parseEvent('merge_group', mg);
    expect(m).toMatchObject({ kind: 'merge_group', sha: (mg.merge_group as { head_sha: string }).head_sha });
    const pr = examples.find((e) => e.name === 'pull_request')!.examples.find((e) => e.action === 'synchronize')!;
    const p = parseEvent('pull_request', pr, 'f'.repeat(40));
    expect(p).toMatchObject({ kind: 'pull_request', number: 2, sha: (pr.pull_request as { head: { sha: string } }).head.sha, fork: false });
    const forked = structuredClone(pr) as { pull_request: { head: { repo: { full_name: string } } } };
    forked.pull_request.head.repo.full_name = 'someone/Hello-World';
    expect(parseEvent('pull_request', forked)).toMatchObject({ fork: true });
    const push = examples.find((e) => e.name === 'push')!.examples.find((e) => e.ref === 'refs/heads/master')!;
    expect(parseEvent('push', push)).toMatchObject({ kind: 'push', sha: push.after, onDefaultBranch: true });
    expect(parseEvent('workflow_dispatch', {}, 'c'.repeat(40))).toEqual({
      kind: 'other',
      name: 'workflow_dispatch',
      sha: 'c'.repeat(40),
      ref: null,
      defaultBranch: null,
    });
    expect(() => parseEvent('push', { ref: 'refs/heads/main' })).toThrow(InputError);
    expect(() => parseEvent('push', { ref: 'refs/heads/main' })).toThrow(/push event payload .* before/);
  });

  it('checks every input at once, quoting the bad value', () => {
    const get = (v: Record<string, string>) => (n: string) => v[n] ?? '';
    expect(readInputs(get({ command: 'plan' }))).toMatchObject({ command: 'plan', sites: 'sites', comment: true, statuses: true, workingDirectory: '.' });
    try {
      readInputs(get({ command: 'deploy', timeout: '0', comment: 'maybe', 'sdx-api-url': 'ftp://x' }));
      expect.unreachable();
    } catch (e) {
      const msgs = (e as InputError).problems.map((p) => p.message);
      expect(msgs).toEqual([
        'input command "deploy" is not a command of this Action',
        'input sdx-api-url "ftp://x" is not an http(s) URL',
        'input timeout "0" is not a whole number from 1 to 86400',
        'input comment "maybe" is not true or false',
      ]);
      expect((e as InputError).problems.map((p) => p.file)).toEqual(['(input command)', '(input sdx-api-url)', '(input timeout)', '(input comment)']);
    }
  });

  it("parses the inputs it shares with the CLI through the CLI's specs: the same limits, the same spellings of true and false", () => {
    const get = (v: Record<string, string>) => (n: string) => v[n] ?? '';
    const problems = (v: Record<string, string>) => {
      try {
        readInputs(get({ command: 'plan', ...v }));
        return [];
      } catch (e) {
        return (e as InputError).problems.map((p) => `${p.message} | ${p.hint}`);
      }
    };
    // The same bounds as apply's --concurrency and --timeout (and the fleet file's settings).
    expect(problems({ concurrency: String(LIMITS.concurrency.max + 1), timeout: String(LIMITS.timeout.max + 1) })).toEqual([
      `input concurrency "257" is not a whole number from 1 to 256 | for example "concurrency: 4"`,
      `input timeout "86401" is not a whole number from 1 to 86400 | for example "timeout: 4"`,
    ]);
    expect(problems({ 'retry-failed': 'sometimes' })).toEqual([
      'input retry-failed "sometimes" is not true or false | for example "retry-failed: true" or "retry-failed: false"',
    ]);
    expect(
      readInputs(
        get({ command: 'apply', 'sdx-api-token': 'x', concurrency: ' 256 ', timeout: '1', 'retry-failed': 'yes', 'allow-check-errors': 'off', comment: '' }),
      ),
    ).toMatchObject({
      concurrency: 256,
      timeout: 1,
      retryFailed: true,
      allowCheckErrors: false,
      comment: true,
    });
  });

  it('annotates each finding once (shared scripts), errors first, at most 10 of each kind', () => {
    const findings = Array.from({ length: 12 }, (_, i) => ({
      line: i + 1,
      column: 1,
      level: i % 2 ? ('error' as const) : ('advice' as const),
      severity: i % 2 ? ('error' as const) : ('warning' as const),
      rule: 'r',
      message: `m${i}`,
    }));
    const shared = (site: string) => change(site, '00-a.rsc', SHA_A, { path: 'sites/_groups/g/00-a.rsc', findings });
    const plan = makePlan(SHA_A, [shared('s1'), shared('s2')]);
    const all = planAnnotations(plan, [], (p) => `repo/${p}`);
    expect(all).toHaveLength(12);
    expect(all[0]).toMatchObject({ kind: 'warning', file: 'repo/sites/_groups/g/00-a.rsc', startLine: 1, startColumn: 1 });
    const { send, dropped } = capAnnotations([...all, ...all.map((a) => ({ ...a, startLine: (a.startLine ?? 0) + 100 }))]);
    expect(send.slice(0, 10).every((a) => a.kind === 'error')).toBe(true);
    expect(send).toHaveLength(20);
    expect(dropped).toBe(4);
  });

  it('logs one redacted line per entry; debug only through the debug channel', () => {
    const info: string[] = [];
    const debug: string[] = [];
    const secret = 'ghs_abcdefSECRET';
    const log = createActionLogger({ info: (l) => info.push(l), debug: (l) => debug.push(l) }, () => makeRedactor([secret]), 'info');
    log.info({ url: `https://x-access-token:${secret}@github.com/a/b`, n: 2 }, 'pushed');
    log.warn({ err: `token ${secret}` }, 'could not write');
    log.debug({ a: 1 }, 'detail');
    expect(info).toEqual(['pushed  url=https://***@github.com/a/b n=2', 'warning: could not write  err="token ***"']);
    expect(debug).toEqual(['detail  a=1']);
  });
});
