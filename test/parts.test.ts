// Scripts of any size: a script over max_script_size goes out as ordered jobs, one per part, each
// with its own key; killed between parts, a rerun resumes at the next part; a failed part blocks the
// rest; a changed script supersedes its pending parts. Against the sandbox, which refuses a body over
// 10,000 characters as the real API does.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/core/random.js';
import { RULES } from '../src/lint/index.js';
import type { SandboxOptions } from '../src/sandbox/sandbox.js';
import { CLI, ensureBuilt } from './daemon-harness.js';
import { cli, SITE_IDS } from './helpers/cli.js';
import type { TempRepo } from './helpers/git-repo.js';
import { useLifecycle, type Fleet } from './helpers/lifecycle.js';
import { generateExport } from './helpers/routeros-export.js';
import { waitFor } from './helpers/sandbox.js';

const [ID, ID2] = SITE_IDS as [string, string];
const life = useLifecycle();
const setup = (files: Record<string, string>, opts: SandboxOptions = {}): Promise<Fleet> =>
  life.fleet(files, { checkinIntervalMs: 15, runMs: 3, ...opts }, { RGO_POLL_INITIAL_MS: '10', RGO_POLL_MAX_MS: '40' });

/** A ~35 KB classic export (CRLF), as routers write them; the command-tree checks are left to their own tests. */
function bigExport(seed = 7, size = 35_000): string {
  return generateExport({ random: seededRandom(seed), format: 'classic', size, scripting: true });
}

/** An export's lockout risks (interface lists, addresses, ...) are advice here: these tests are about parts, not risks. */
const LOCKOUTS_AS_ADVICE = RULES.filter((x) => x.kind === 'lockout')
  .map((x) => `    ${x.id}: advice\n`)
  .join('');

const FLEET =
  'lint:\n  rules:\n    unknown-menu: off\n    unknown-command: off\n    unknown-parameter: off\n    invalid-value: off\n    not-in-version: off\n    missing-package: off\n' +
  LOCKOUTS_AS_ADVICE;

type Change = {
  path: string;
  action: string;
  idempotency_key: string;
  parts: Array<{ part: number; size: number; idempotency_key: string; lines: [number, number] }> | null;
  from_part?: number;
};
type Result = { path: string; outcome: string; reason: string | null; part?: { part: number; of: number } };

const planOf = async (r: TempRepo, env: Record<string, string>) => (await cli(['plan', '--format', 'json'], { cwd: r.dir, env })).json<{ changes: Change[] }>();
const applyOf = async (r: TempRepo, env: Record<string, string>, extra: string[] = []) => {
  const res = await cli(['apply', '--format', 'json', ...extra], { cwd: r.dir, env });
  return { ...res, results: res.json<{ results: Result[] }>().results };
};

/** The original's text, rebuilt from the parts the routers ran (each without its restated lines). */
function rebuilt(jobs: Array<{ script: string }>, change: Change): string {
  return jobs
    .map((j, i) => {
      const lines = j.script.split(/(?<=\r\n|\n)/);
      const own = change.parts![i]!.lines[1] - change.parts![i]!.lines[0] + 1;
      return lines.slice(lines.length - own).join('');
    })
    .join('');
}

describe('scripts over max_script_size', () => {
  it('go out as ordered jobs, each within the limit, with its own key and "part i/N" in its description; the plan says so', async () => {
    const big = bigExport();
    const { r, sb, env } = await setup({
      'sites/routeros-gitops.yaml': FLEET,
      'sites/hq/site.yaml': `id: ${ID}\n`,
      'sites/hq/10-big.rsc': big,
      'sites/hq/20-after.rsc': '/ip dns set servers=1.1.1.1\n',
    });
    const plan = await planOf(r, env);
    const change = plan.changes.find((c) => c.path.endsWith('10-big.rsc'))!;
    const n = change.parts!.length;
    expect(n).toBeGreaterThanOrEqual(4);
    expect(change.parts!.every((p) => p.size <= 10_000)).toBe(true);
    expect(new Set(change.parts!.map((p) => p.idempotency_key)).size).toBe(n);
    expect((await cli(['plan'], { cwd: r.dir, env })).stdout).toContain(`sent as ${n} jobs`);
    const res = await applyOf(r, env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.results.map((x) => [x.path.split('/').pop(), x.outcome])).toEqual([
      ['10-big.rsc', 'succeeded'],
      ['20-after.rsc', 'succeeded'],
    ]);
    const jobs = sb.jobs(ID);
    expect(jobs).toHaveLength(n + 1);
    expect(jobs.slice(0, n).map((j) => j.description.replace(/^.* (part \d+\/\d+)$/, '$1'))).toEqual(Array.from({ length: n }, (_, i) => `part ${i + 1}/${n}`));
    expect(jobs.slice(0, n).map((j) => j.idempotency_key)).toEqual(change.parts!.map((p) => p.idempotency_key));
    expect(rebuilt(jobs.slice(0, n), change)).toBe(big);
    expect(jobs[n]!.script).toBe('/ip dns set servers=1.1.1.1\n');
    expect((await applyOf(r, env)).results).toEqual([]);
  });

  it('killed between parts (SIGKILL), a rerun resumes at the next part: every part ran exactly once, in order', async () => {
    ensureBuilt();
    const big = bigExport(11);
    let posts = 0;
    const { r, sb, env } = await setup(
      { 'sites/routeros-gitops.yaml': FLEET, 'sites/hq/site.yaml': `id: ${ID}\n`, 'sites/hq/10-big.rsc': big },
      { checkinIntervalMs: 60, inspectRequest: (q) => void (q.method === 'POST' && posts++) },
    );
    const change = (await planOf(r, env)).changes[0]!;
    const n = change.parts!.length;
    for (const killAfter of [1, 2]) {
      const child = spawn(process.execPath, [CLI, 'apply', '-C', r.dir], { env: { ...process.env, ...env, RGO_LOG_LEVEL: 'error' }, stdio: 'ignore' });
      const exited = new Promise((res) => child.on('exit', res));
      await waitFor(() => posts >= killAfter && sb.jobs(ID)[killAfter - 1]?.completed_at, 20_000, `part ${killAfter} to run`);
      child.kill('SIGKILL');
      await exited;
      const status = (await cli(['status', '--format', 'json'], { cwd: r.dir, env })).json<{
        sites: Array<{ scripts: Array<{ part: { part: number; of: number } | null }> }>;
      }>();
      expect(status.sites[0]!.scripts[0]!.part?.of).toBe(n);
    }
    const res = await applyOf(r, env);
    expect(res.code, res.stderr).toBe(0);
    const jobs = sb.jobs(ID);
    expect(jobs.map((j) => j.idempotency_key)).toEqual(change.parts!.map((p) => p.idempotency_key));
    expect(sb.createdCounts().every((c) => c.count === 1)).toBe(true);
    expect(jobs.every((j) => j.completed_at !== null)).toBe(true);
    expect(rebuilt(jobs, change)).toBe(big);
    expect((await applyOf(r, env)).results).toEqual([]);
  });

  it("a failed part blocks the rest of the script and the site's later scripts; another site goes on", async () => {
    const big = bigExport(3).replace(/\r\n\/ip dns\b/, '\r\n:error "sandbox-fail"\r\n/ip dns');
    const files = {
      'sites/routeros-gitops.yaml': FLEET,
      'sites/hq/site.yaml': `id: ${ID}\n`,
      'sites/hq/10-big.rsc': big,
      'sites/hq/20-after.rsc': '/ip dns set servers=1.1.1.1\n',
    };
    files['sites/br/site.yaml' as keyof typeof files] = `id: ${ID2}\n`;
    (files as Record<string, string>)['sites/br/10-x.rsc'] = '/ip dns set servers=9.9.9.9\n';
    const { r, sb, env } = await setup(files);
    const res = await applyOf(r, env);
    expect(res.code).toBe(1);
    const hq = res.results.filter((x) => x.path.startsWith('sites/hq/'));
    expect(hq.map((x) => x.outcome)).toEqual(['failed', 'blocked']);
    expect(hq[0]!.reason).toMatch(/^part \d+\/\d+: the router reported a failure/);
    expect(res.results.find((x) => x.path.startsWith('sites/br/'))!.outcome).toBe('succeeded');
    const failedAt = hq[0]!.part!.part;
    expect(sb.jobs(ID)).toHaveLength(failedAt);
  });

  it('a changed script supersedes its pending parts: the queued part is cancelled and the new content starts at its first part', async () => {
    const big = bigExport(5);
    const { r, sb, env } = await setup({ 'sites/routeros-gitops.yaml': FLEET, 'sites/hq/site.yaml': `id: ${ID}\n`, 'sites/hq/10-big.rsc': big });
    sb.setOnline(ID, false);
    const first = await applyOf(r, env, ['--timeout', '1']);
    expect(first.results[0]!.outcome).toBe('timed_out');
    expect(first.results[0]!.part).toEqual({ part: 1, of: expect.any(Number) });
    const small = '/ip dns set servers=8.8.8.8\n';
    await r.commit({ 'sites/hq/10-big.rsc': small });
    // Still offline: the queued first part is cancelled, and the new content queued behind nothing.
    expect((await applyOf(r, env, ['--no-wait'])).results[0]!.outcome).toBe('queued');
    const jobs = sb.jobs(ID);
    expect(jobs[0]!.cancelled).toBe(true);
    expect(jobs.filter((j) => !j.cancelled).map((j) => j.script)).toEqual([small]);
    sb.setOnline(ID, true);
    const third = await applyOf(r, env);
    expect(third.code, third.stderr).toBe(0);
    expect(
      sb
        .jobs(ID)
        .filter((j) => j.started_at !== null)
        .map((j) => j.script),
    ).toEqual([small]);
  });

  it('a script with no valid boundary within the limit is refused, naming the line and the reason; nothing is sent', async () => {
    const block = `:if (true) do={\n${Array.from({ length: 600 }, (_, i) => `  /ip dns static add name="host${i}.example" address=10.0.${i >> 8}.${i & 255}\n`).join('')}}\n`;
    const { r, sb, env } = await setup({ 'sites/routeros-gitops.yaml': FLEET, 'sites/hq/site.yaml': `id: ${ID}\n`, 'sites/hq/10-block.rsc': block });
    const res = await cli(['apply'], { cwd: r.dir, env });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /sites\/hq\/10-block\.rsc:1:1 \(site hq\): renders to \d+ characters, over max_script_size \(10000\), and cannot be split into jobs: /,
    );
    expect(sb.stats().posts).toBe(0);
  });
});
