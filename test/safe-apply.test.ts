// Issue 14, a safe first apply: lockout risks refused until acknowledged and shown first, a plan
// that tells the truth about apply (refused and blocked changes, exit codes, Terraform's
// --detailed-exitcode), a compact diff per change, uncommitted files named, and --site. The CLI
// in-process, real git repositories, the sandbox over loopback.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, SITE_IDS } from './helpers/cli.js';
import { recordPosts, useLifecycle } from './helpers/lifecycle.js';

const life = useLifecycle();

interface PlanJson {
  summary: { to_send: number };
  apply: { refused: boolean; exit_code: number; to_send: number; blocked: number };
  lockouts: Array<{ sites: string[]; path: string; line: number; rule: string }>;
  uncommitted?: string[];
  only?: { patterns: string[]; of: number };
  changes: Array<{
    site: string;
    path: string;
    action: string;
    blocked_by: { kind: string; reason: string } | null;
    findings: Array<{ rule: string; level: string }>;
  }>;
}

/** The case: the services the router is managed through turned off, then an input-chain drop. */
const LOCKOUT = '/ip service disable ssh,winbox,www\n/ip firewall filter add chain=input action=drop\n';

/** Sites named `names`, each with one harmless script, and the given extra files. */
function sites(names: string[], extra: Record<string, string> = {}): Record<string, string> {
  const files: Record<string, string> = {};
  names.forEach((n, i) => {
    files[`sites/${n}/site.yaml`] = `id: ${SITE_IDS[i]}\n`;
    files[`sites/${n}/10-dns.rsc`] = '/ip dns set servers=1.1.1.1\n';
  });
  return { ...files, ...extra };
}

describe('lockout risks: refused until acknowledged (issue 14)', () => {
  it('refuses the issue case on a terminal, naming each finding at file:line and how to acknowledge it; sends it once acknowledged', async () => {
    const { r, sb, env } = await life.fleet(sites(['edge-1'], { 'sites/edge-1/20-lock.rsc': LOCKOUT }));
    const refused = await cli(['apply'], { cwd: r.dir, env, tty: true });
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/apply refuses this commit: 2 lockout risks not acknowledged; nothing was sent/);
    expect(refused.stderr).toMatch(/sites\/edge-1\/20-lock\.rsc:1:1 \(site edge-1\): changing \/ip service \(ssh,winbox,www\).*\[ip-service\]/);
    expect(refused.stderr).toMatch(/sites\/edge-1\/20-lock\.rsc:2:1 \(site edge-1\): an IPv4 input-chain drop rule.*\[input-drop\]/);
    expect(refused.stderr).toMatch(
      /hint: .*"# routeros-gitops: allow input-drop" on the line above the command \(or at the top of the file\), or apply with --allow-lockout/,
    );
    expect(refused.stdout).not.toMatch(/succeeded/);
    expect(sb.stats().requests).toBe(0);

    await r.commit({ 'sites/edge-1/20-lock.rsc': `# routeros-gitops: allow ip-service, input-drop\n${LOCKOUT}` }, 'acknowledge');
    const applied = await cli(['apply'], { cwd: r.dir, env, tty: true });
    expect(applied.code, applied.stderr).toBe(0);
    expect(sb.stats().jobsCreated).toBe(2);
  });

  it('shows lockout risks first in the text and Markdown plans: site, file:line, rule, message and how to acknowledge', async () => {
    const files = sites(['edge-1', 'edge-2'], { 'sites/edge-2/20-lock.rsc': LOCKOUT });
    const { r, env } = await life.fleet(files);
    const text = await cli(['plan'], { cwd: r.dir, env });
    const block = text.stdout.indexOf('Lockout risks (2): apply refuses to send anything until each is acknowledged');
    expect(block, text.stdout).toBeGreaterThan(0);
    expect(block).toBeLessThan(text.stdout.indexOf('edge-1 '));
    expect(text.stdout).toMatch(/ {2}! edge-2: sites\/edge-2\/20-lock\.rsc:1:1 \[ip-service\]\n {6}changing \/ip service/);
    expect(text.stdout).toMatch(/ {2}! edge-2: sites\/edge-2\/20-lock\.rsc:2:1 \[input-drop\]/);
    expect(text.stdout).toMatch(/Acknowledge each in its script with "# routeros-gitops: allow <rule>" .* or apply with --allow-lockout/);

    const md = await cli(['plan', '--format', 'markdown'], { cwd: r.dir, env });
    const mdBlock = md.stdout.indexOf('#### Lockout risks: 2, apply refuses to send anything until each is acknowledged');
    expect(mdBlock, md.stdout).toBeGreaterThan(0);
    expect(mdBlock).toBeLessThan(md.stdout.indexOf('| site | script | change | action |'));
    expect(md.stdout).toContain('| edge-2 | `sites/edge-2/20-lock.rsc:2:1` | `input-drop` | an IPv4 input-chain drop rule');
    expect(md.stdout).toMatch(/- \*\*lockout\*\* `sites\/edge-2\/20-lock\.rsc:1:1`/);

    const json = (await cli(['plan', '--format', 'json'], { cwd: r.dir, env })).json<PlanJson>();
    expect(json.lockouts.map((l) => `${l.sites.join(',')} ${l.path}:${l.line} ${l.rule}`)).toEqual([
      'edge-2 sites/edge-2/20-lock.rsc:1 ip-service',
      'edge-2 sites/edge-2/20-lock.rsc:2 input-drop',
    ]);
    // --allow-lockout: still shown first, as sent anyway.
    const allowed = await cli(['plan', '--allow-lockout'], { cwd: r.dir, env });
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/Lockout risks \(2\): sent anyway \(--allow-lockout\)/);
  });
});

describe('plan tells the truth about apply (issue 14)', () => {
  it('a broken script: plan says apply refuses the commit, marks every change, and exits 2 (detailed: 1)', async () => {
    const files = sites(['a', 'b', 'c'], { 'sites/a/20-broken.rsc': ':if (true) do={ :put "x"\n' });
    const { r, sb, env } = await life.fleet(files);
    const text = await cli(['plan'], { cwd: r.dir, env });
    expect(text.code).toBe(2);
    expect(text.stdout).not.toMatch(/4 jobs to send/);
    expect(text.stdout).toMatch(/apply refuses this commit \(1 script check error\): no job would be sent\.$/m);
    expect(text.stdout).toMatch(/sites\/a\/20-broken\.rsc +refused: script check error at line 1 \(unbalanced-bracket\)/);
    expect(text.stdout).toMatch(/sites\/b\/10-dns\.rsc +not sent: apply refuses the whole run \(1 script check error\)/);
    expect(text.stderr).toMatch(/error: apply would refuse this commit: 1 script check error; it would send nothing/);

    const json = await cli(['plan', '--format', 'json'], { cwd: r.dir, env });
    expect(json.code).toBe(2);
    const p = json.json<PlanJson>();
    expect(p.apply).toEqual({ refused: true, exit_code: 2, to_send: 0, blocked: 4 });
    expect(p.changes.map((c) => `${c.path} ${c.blocked_by?.kind}`)).toEqual([
      'sites/a/10-dns.rsc run-refused',
      'sites/a/20-broken.rsc check-error',
      'sites/b/10-dns.rsc run-refused',
      'sites/c/10-dns.rsc run-refused',
    ]);
    expect((await cli(['plan', '--detailed-exitcode'], { cwd: r.dir, env })).code).toBe(1);
    // What plan foretold, apply does.
    expect((await cli(['apply'], { cwd: r.dir, env })).code).toBe(2);
    expect(sb.stats().requests).toBe(0);
  });

  it('--detailed-exitcode follows Terraform: 2 jobs to send, 0 nothing to send, 1 on an error', async () => {
    const { r, env } = await life.fleet(sites(['a']));
    expect((await cli(['plan', '--detailed-exitcode'], { cwd: r.dir, env })).code).toBe(2);
    expect((await cli(['plan'], { cwd: r.dir, env })).code).toBe(0);
    expect((await cli(['apply'], { cwd: r.dir, env })).code).toBe(0);
    expect((await cli(['plan', '--detailed-exitcode'], { cwd: r.dir, env })).code).toBe(0);
    await r.commit({ 'sites/a/site.yaml': 'id: [broken\n' }, 'broken yaml');
    const invalid = await cli(['plan', '--detailed-exitcode'], { cwd: r.dir, env });
    expect(invalid.code, invalid.stderr).toBe(1);
    expect((await cli(['plan'], { cwd: r.dir, env })).code).toBe(2);
    expect((await cli(['plan', '--detailed-exitcode', '--no-such-option'], { cwd: r.dir, env })).code).toBe(1);
  });

  it('after a failure: the failed script is not sent again and blocks the later ones; plan says so, exits 1, as apply does', async () => {
    const files = sites(['a'], { 'sites/a/05-fails.rsc': ':error "sandbox-fail"\n' });
    const { r, env } = await life.fleet(files);
    expect((await cli(['apply'], { cwd: r.dir, env })).code).toBe(1);
    await r.commit({ 'sites/a/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' }, 'a later script changes');
    const text = await cli(['plan'], { cwd: r.dir, env });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/sites\/a\/05-fails\.rsc +failed before with this content; not sent again/);
    expect(text.stdout).toMatch(/sites\/a\/10-dns\.rsc +blocked: an earlier script of a \(sites\/a\/05-fails\.rsc\) failed before/);
    expect(text.stdout).toMatch(/0 jobs to send; 1 change blocked \(see above\)\.$/m);
    const p = (await cli(['plan', '--format', 'json'], { cwd: r.dir, env })).json<PlanJson>();
    expect(p.changes.map((c) => [c.path, c.blocked_by?.kind])).toEqual([
      ['sites/a/05-fails.rsc', 'failed-before'],
      ['sites/a/10-dns.rsc', 'earlier-change'],
    ]);
    expect(p.apply).toMatchObject({ exit_code: 1, to_send: 0 });
    // The Markdown never says "sent again" of a script its own table marks "not sent again".
    const md = (await cli(['plan', '--format', 'markdown'], { cwd: r.dir, env })).stdout;
    expect(md).toContain('not sent again');
    expect(md).not.toMatch(/(?<!not )sent again/);
    const applied = await cli(['apply', '--format', 'json'], { cwd: r.dir, env });
    expect(applied.code).toBe(1);
    expect(applied.json<{ results: Array<{ path: string; outcome: string }> }>().results.map((x) => x.outcome)).toEqual(['skipped', 'blocked']);
  });

  it('missing secrets: the site is blocked, in the plan as in apply', async () => {
    const files = sites(['a'], { 'sites/a/30-ppp.rsc': '/interface pppoe-client set [find name=isp] password="${{ secrets.ppp_password }}"\n' });
    const { r, env } = await life.fleet(files, {}, { RGO_SECRETS_KEY: 'k'.repeat(32) });
    const text = await cli(['plan'], { cwd: r.dir, env });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/sites\/a\/30-ppp\.rsc +blocked: secrets not supplied for a: ppp_password/);
    expect(text.stdout).toMatch(/0 jobs to send; 2 changes blocked/);
    expect((await cli(['apply'], { cwd: r.dir, env })).code).toBe(1);
    expect((await cli(['plan'], { cwd: r.dir, env: { ...env, RGO_SECRET_PPP_PASSWORD: 'pppoe-secret-1' } })).code).toBe(0);
  });
});

describe('the text plan: a compact diff per change, the key only with --verbose, uncommitted files named (issue 14)', () => {
  it('shows +/- lines against the last-applied rendering, cut past a limit; the key labelled with --verbose', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `/ip dns static add name=h${i}.lan address=10.0.0.${i}`).join('\n');
    const { r, env } = await life.fleet(sites(['a']));
    expect((await cli(['apply'], { cwd: r.dir, env })).code).toBe(0);
    await r.commit(
      { 'sites/a/10-dns.rsc': '/ip dns set servers=9.9.9.9\n', 'sites/a/20-static.rsc': `/ip dns static remove [find comment=gitops]\n${long}\n` },
      'edit',
    );
    const text = await cli(['plan'], { cwd: r.dir, env });
    expect(text.stdout).toMatch(
      /~ modified +sites\/a\/10-dns\.rsc\n {6}@@ -1,1 \+1,1 @@\n {6}-\/ip dns set servers=1\.1\.1\.1\n {6}\+\/ip dns set servers=9\.9\.9\.9\n/,
    );
    expect(text.stdout).toMatch(/\+ added +sites\/a\/20-static\.rsc\n/);
    expect(text.stdout).toMatch(/ {6}… 22 more lines \(--format markdown shows the whole diff\)/);
    // No bare idempotency key at the end of a change's line.
    expect(text.stdout).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/);
    const verbose = await cli(['plan', '--verbose', '--no-diff'], { cwd: r.dir, env });
    expect(verbose.stdout).toMatch(/~ modified +sites\/a\/10-dns\.rsc\n {6}key: [0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-/);
    expect(verbose.stdout).not.toContain('@@');
  });

  it('names the uncommitted and untracked files under the sites directory: plan reads the commit', async () => {
    const { r, env } = await life.fleet(sites(['a']));
    await writeFile(join(r.dir, 'sites/a/10-dns.rsc'), '/ip dns set servers=8.8.8.8\n');
    await writeFile(join(r.dir, 'sites/a/99-new.rsc'), '/ip dns set servers=8.8.4.4\n');
    await writeFile(join(r.dir, 'notes.txt'), 'outside the sites directory\n');
    const text = await cli(['plan'], { cwd: r.dir, env });
    expect(text.stdout).toMatch(
      /note: 2 files under the sites directory are not committed \(sites\/a\/10-dns\.rsc, sites\/a\/99-new\.rsc\): plan reads the commit, not your working tree/,
    );
    expect(text.stdout).toMatch(/\+\/ip dns set servers=1\.1\.1\.1/); // the committed content
    expect((await cli(['plan', '--format', 'json'], { cwd: r.dir, env })).json<PlanJson>().uncommitted).toEqual(['sites/a/10-dns.rsc', 'sites/a/99-new.rsc']);
    await r.commit({}, 'commit everything'); // (the helper commits the whole working tree)
    expect((await cli(['plan'], { cwd: r.dir, env })).stdout).not.toContain('not committed');
  });
});

describe('--site NAME: plan, apply and status of some sites only (issue 14)', () => {
  it('narrows plan and apply to the sites matching; the rest of the fleet is left as it was', async () => {
    const posts = recordPosts();
    const { r, sb, env } = await life.fleet(sites(['edge-1', 'edge-2', 'core']), { inspectRequest: posts.inspect });
    const plan = await cli(['plan', '--site', 'edge-*', '--format', 'json'], { cwd: r.dir, env });
    const p = plan.json<PlanJson>();
    expect(p.changes.map((c) => c.site)).toEqual(['edge-1', 'edge-2']);
    expect(p.only).toEqual({ patterns: ['edge-*'], of: 3 });
    expect((await cli(['plan', '--site', 'edge-*'], { cwd: r.dir, env })).stdout).toContain('Only the sites matching edge-*: 2 of 3');

    const one = await cli(['apply', '--site', 'edge-1'], { cwd: r.dir, env });
    expect(one.code, one.stderr).toBe(0);
    expect(posts.posts.map((x) => x.site)).toEqual([SITE_IDS[0]]);
    // The others are untouched: a full plan still has their changes, and not edge-1's.
    const full = (await cli(['plan', '--format', 'json'], { cwd: r.dir, env })).json<PlanJson>();
    expect(full.changes.map((c) => c.site)).toEqual(['core', 'edge-2']);
    const again = await cli(['apply', '--site', 'edge-1'], { cwd: r.dir, env });
    expect(again.stdout).toMatch(/No changes: nothing was sent/);
    expect(sb.stats().jobsCreated).toBe(1);
    const status = await cli(['status', '--site', 'edge-1', '--format', 'json'], { cwd: r.dir, env });
    expect(status.json<{ sites: Array<{ site: string }> }>().sites.map((s) => s.site)).toEqual(['edge-1']);
    // Two patterns (or a comma-separated list) add up.
    const both = (await cli(['plan', '--site', 'core', '--site', 'edge-2', '--format', 'json'], { cwd: r.dir, env })).json<PlanJson>();
    expect(both.changes.map((c) => c.site)).toEqual(['core', 'edge-2']);
  });

  it('a pattern that matches no site is an error (exit 2) naming the closest sites; nothing is sent', async () => {
    const { r, sb, env } = await life.fleet(sites(['edge-1', 'edge-2', 'core']));
    const typo = await cli(['apply', '--site', 'egde-1'], { cwd: r.dir, env });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/--site egde-1: there is no site named "egde-1"; did you mean edge-1, edge-2\?/);
    const glob = await cli(['plan', '--site', 'branch-*'], { cwd: r.dir, env });
    expect(glob.code).toBe(2);
    expect(glob.stderr).toMatch(/--site branch-\* matches no site; the sites are core, edge-1, edge-2/);
    expect((await cli(['plan', '--site', 'edge-*', '--site', 'nope'], { cwd: r.dir, env })).code).toBe(2);
    expect(sb.stats().requests).toBe(0);
  });

  it('never backwards still holds for the sites named', async () => {
    const { r, sb, env } = await life.fleet(sites(['edge-1', 'edge-2']));
    const old = await r.git(['rev-parse', 'HEAD']);
    await r.commit({ 'sites/edge-1/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' }, 'newer');
    expect((await cli(['apply', '--site', 'edge-2'], { cwd: r.dir, env })).code).toBe(0);
    const stale = await cli(['apply', '--site', 'edge-1', '--ref', old, '--format', 'json'], { cwd: r.dir, env });
    expect(stale.json<{ results: Array<{ site: string; outcome: string }> }>().results.map((x) => `${x.site} ${x.outcome}`)).toEqual(['edge-1 stale']);
    expect(sb.stats().jobsCreated).toBe(1);
  });
});
