// Shared scripts, variables and secrets, through the CLI against the sandbox.
import { describe, expect, it } from 'vitest';
import type { TempRepo } from './helpers/git-repo.js';
import { cli } from './helpers/cli.js';
import { useLifecycle } from './helpers/lifecycle.js';

const life = useLifecycle();

const id = (i: number) => `bbbbbbbb-cccc-4ddd-8eee-${i.toString(16).padStart(12, '0')}`;

/** hq (no group), b1..b3 in group "branch" (b3 overrides the group's DNS), and a fleet variable. */
function fleet(): Record<string, string> {
  return {
    'sites/routeros-gitops.yaml': 'vars:\n  dns: 1.1.1.1\n  ntp: pool.ntp.org\ngroups:\n  branch:\n    vars:\n      bridge: bridge-lan\n',
    'sites/_groups/branch/20-firewall.rsc': '/ip firewall filter add chain=forward action=accept in-interface=${{ vars.bridge }} comment="lan"\n',
    'sites/_groups/branch/30-dns.rsc': '/ip dns set servers=${{ vars.dns }}\n',
    'sites/hq/site.yaml': `id: ${id(0)}\n`,
    'sites/hq/30-dns.rsc': '/ip dns set servers=${{ vars.dns }}\n/system ntp client servers add address=${{ vars.ntp }}\n',
    'sites/b1/site.yaml': `id: ${id(1)}\ngroups: [branch]\n`,
    'sites/b1/00-id.rsc': '/system identity set name=${{ site.name }}\n',
    'sites/b2/site.yaml': `id: ${id(2)}\ngroups: [branch]\nvars:\n  wan: ether1\n`,
    'sites/b2/10-wan.rsc': '/ip dhcp-client add interface=${{ vars.wan }}\n/ppp secret set [find name=isp] password="${{ secrets.pppoe }}"\n',
    'sites/b3/site.yaml': `id: ${id(3)}\ngroups: [branch]\nvars:\n  dns: 9.9.9.9\n`,
    'sites/b3/00-id.rsc': '/system identity set name=${{ site.name }}\n',
  };
}

function setup(files = fleet()) {
  return life.fleet(files, {}, { RGO_POLL_MAX_MS: '60', RGO_SECRET_PPPOE: 'pppoe-Secret-One', RGO_SECRETS_KEY: 'test-digest-key-0123456789' });
}

type Change = { site: string; path: string; kind: string; action: string; secrets: string[]; secrets_missing: string[] };
const planJson = async (r: TempRepo, env: Record<string, string | undefined>) => {
  const res = await cli(['plan', '--format', 'json'], { cwd: r.dir, env });
  expect(res.code, res.stderr).toBe(0);
  return res.json<{ changes: Change[] }>().changes;
};
const applyJson = async (r: TempRepo, env: Record<string, string | undefined>) => {
  const res = await cli(['apply', '--format', 'json'], { cwd: r.dir, env });
  return { code: res.code, results: res.json<{ results: Array<Change & { outcome: string; reason: string }> }>().results, all: res.stdout + res.stderr };
};

describe('templating', () => {
  it('renders variables (most specific wins), shared scripts in file-name order, site names', async () => {
    const { r, sb, env } = await setup();
    const res = await applyJson(r, env);
    expect(res.code, res.all).toBe(0);
    const scripts = (i: number) => sb.jobs(id(i)).map((j) => j.script);
    expect(scripts(0)).toEqual(['/ip dns set servers=1.1.1.1\n/system ntp client servers add address=pool.ntp.org\n']);
    expect(scripts(1)).toEqual([
      '/system identity set name=b1\n',
      '/ip firewall filter add chain=forward action=accept in-interface=bridge-lan comment="lan"\n',
      '/ip dns set servers=1.1.1.1\n',
    ]);
    expect(scripts(2)[0]).toBe('/ip dhcp-client add interface=ether1\n/ppp secret set [find name=isp] password="pppoe-Secret-One"\n');
    expect(scripts(3)).toEqual(['/system identity set name=b3\n', expect.stringContaining('bridge-lan'), '/ip dns set servers=9.9.9.9\n']);
  });

  it('one shared-script edit plans and applies one job per member site and none elsewhere', async () => {
    const { r, sb, env } = await setup();
    await applyJson(r, env);
    const before = sb.stats().jobsCreated;
    await r.commit(
      { 'sites/_groups/branch/20-firewall.rsc': '/ip firewall filter add chain=forward action=accept in-interface=${{ vars.bridge }} comment="lan v2"\n' },
      'firewall v2',
    );
    const changes = await planJson(r, env);
    expect(changes.map((c) => [c.site, c.path, c.kind])).toEqual([
      ['b1', 'sites/_groups/branch/20-firewall.rsc', 'modified'],
      ['b2', 'sites/_groups/branch/20-firewall.rsc', 'modified'],
      ['b3', 'sites/_groups/branch/20-firewall.rsc', 'modified'],
    ]);
    const text = await cli(['plan'], { cwd: r.dir, env });
    expect(text.stdout).toContain('sites/_groups/branch/20-firewall.rsc -> 3 sites');
    const res = await applyJson(r, env);
    expect(res.results.map((x) => x.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(sb.stats().jobsCreated - before).toBe(3);
    expect(sb.jobs(id(0))).toHaveLength(1); // hq untouched
  });

  it('one variable edit changes only the sites whose rendered script differs', async () => {
    const { r, env } = await setup();
    await applyJson(r, env);
    // b3 overrides dns, so only hq, b1 and b2 render differently.
    await r.commit(
      { 'sites/routeros-gitops.yaml': 'vars:\n  dns: 8.8.8.8\n  ntp: pool.ntp.org\ngroups:\n  branch:\n    vars:\n      bridge: bridge-lan\n' },
      'dns 8.8.8.8',
    );
    const changes = await planJson(r, env);
    expect(changes.map((c) => [c.site, c.path])).toEqual([
      ['b1', 'sites/_groups/branch/30-dns.rsc'],
      ['b2', 'sites/_groups/branch/30-dns.rsc'],
      ['hq', 'sites/hq/30-dns.rsc'],
    ]);
    // A variable nobody's rendering depends on changes nothing.
    await applyJson(r, env);
    await r.commit({ 'sites/b3/site.yaml': `id: ${id(3)}\ngroups: [branch]\nvars:\n  dns: 9.9.9.9\n  unused: 1\n` }, 'add an unused var');
    expect(await planJson(r, env)).toEqual([]);
    const v = await cli(['validate'], { cwd: r.dir, env });
    expect(v.stdout).toMatch(/sites\/b3\/site\.yaml.*"unused" is not used by any script of b3/);
  });

  it('a secret appears in no output, report, log or state, yet rotating it plans a change', async () => {
    const { r, sb, env } = await setup();
    const secret = env.RGO_SECRET_PPPOE;
    const outputs: string[] = [];
    const run = async (args: string[], e: Record<string, string | undefined> = env) => {
      const res = await cli([...args, '--log-level', 'debug'], { cwd: r.dir, env: e });
      outputs.push(res.stdout, res.stderr);
      return res;
    };
    await run(['plan']);
    await run(['plan', '--format', 'markdown']);
    expect((await run(['apply', '--format', 'json'])).code).toBe(0);
    expect(sb.jobs(id(2))[0]!.script).toContain(secret);
    // Rotation: a change on the one site that uses it, shown with a placeholder.
    const rotated = { ...env, RGO_SECRET_PPPOE: 'pppoe-Secret-Two' };
    const plan = await run(['plan', '--format', 'json'], rotated);
    expect(plan.json<{ changes: Change[] }>().changes.map((c) => [c.site, c.path, c.secrets])).toEqual([['b2', 'sites/b2/10-wan.rsc', ['pppoe']]]);
    const md = await run(['plan', '--format', 'markdown'], rotated);
    expect(md.stdout).toContain('<secret:pppoe>');
    await run(['apply'], rotated);
    expect(sb.jobs(id(2)).at(-1)!.script).toContain('pppoe-Secret-Two');
    // Without the value, plan still works and says which secret the change needs.
    await r.commit(
      { 'sites/b2/10-wan.rsc': '/ip dhcp-client add interface=${{ vars.wan }} comment=x\n/ppp secret set [find name=isp] password="${{ secrets.pppoe }}"\n' },
      'edit',
    );
    const noSecret = { ...env, RGO_SECRET_PPPOE: undefined };
    const p2 = await run(['plan', '--format', 'json'], noSecret);
    expect(p2.json<{ changes: Change[] }>().changes.map((c) => [c.site, c.secrets_missing])).toEqual([['b2', ['pppoe']]]);
    await run(['status', '--format', 'json']);
    outputs.push(await r.git(['log', '-p', 'refs/routeros-gitops/state']));
    for (const o of outputs) {
      expect(o).not.toContain(secret);
      expect(o).not.toContain('pppoe-Secret-Two');
      expect(o).not.toContain('test-digest-key');
    }
  });

  it('a missing secret blocks only the sites that need it, and nothing is sent to them', async () => {
    const { r, sb, env } = await setup();
    const res = await applyJson(r, { ...env, RGO_SECRET_PPPOE: undefined });
    expect(res.code).toBe(1);
    const b2 = res.results.filter((x) => x.site === 'b2');
    expect(b2.map((x) => x.outcome)).toEqual(['blocked', 'blocked', 'blocked']);
    expect(b2[0]!.reason).toMatch(/secrets not supplied for b2: pppoe/);
    expect(res.results.filter((x) => x.site !== 'b2').every((x) => x.outcome === 'succeeded')).toBe(true);
    expect(sb.jobs(id(2))).toEqual([]);
    // Per-site values and a secrets file outside the repository work too.
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/rgo-secrets-`);
    await writeFile(`${dir}/secrets.yaml`, 'sites:\n  b2:\n    pppoe: from-file\n');
    const res2 = await cli(['apply', '--secrets-file', `${dir}/secrets.yaml`], { cwd: r.dir, env: { ...env, RGO_SECRET_PPPOE: undefined } });
    expect(res2.code, res2.stderr).toBe(0);
    expect(sb.jobs(id(2))[0]!.script).toContain('from-file');
    // Never from inside the repository.
    await writeFile(`${r.dir}/secrets.yaml`, 'fleet:\n  pppoe: x\n');
    const res3 = await cli(['plan', '--secrets-file', 'secrets.yaml'], { cwd: r.dir, env });
    expect(res3.code).toBe(2);
    expect(res3.stderr).toMatch(/secrets\.yaml: the secrets file is inside the repository/);
  });

  it('malformed templates and undefined names exit 2 naming the file, line and site', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { 'sites/b1/00-id.rsc': '/system identity set name=b1\n/ip dns set servers=${{ vars.nope }}\n' },
        /sites\/b1\/00-id\.rsc:2:21 \(site b1\): the variable "nope" is not defined for site b1/,
      ],
      [
        { 'sites/_groups/branch/30-dns.rsc': '/ip dns set servers=${{ vars.only_hq }}\n' },
        /sites\/_groups\/branch\/30-dns\.rsc:1:21 \(site b1\): the variable "only_hq"/,
      ],
      [{ 'sites/b1/00-id.rsc': '\n/ip dns set servers=${{ vars.dns\n' }, /sites\/b1\/00-id\.rsc:2:21 \(site b1\): a template tag "\$\{\{" is not closed/],
      [
        { 'sites/b1/00-id.rsc': '${{#vars.dns}}\n/ip dns set servers=1.1.1.1\n' },
        /sites\/b1\/00-id\.rsc:1:1 \(site b1\): the section \$\{\{#vars\.dns\}\} is never closed/,
      ],
      [{ 'sites/b1/00-id.rsc': '/ip dns set servers=${{ dns }}\n' }, /sites\/b1\/00-id\.rsc:1:21 \(site b1\): "\$\{\{ dns \}\}" is not a variable reference/],
      [{ 'sites/b1/site.yaml': `id: ${id(1)}\ngroups: [nope]\n` }, /sites\/b1\/site\.yaml.*the group "nope" does not exist/],
    ];
    for (const [files, re] of cases) {
      const { r, sb } = await setup();
      await r.commit(files, 'break');
      for (const cmd of ['plan', 'apply']) {
        const res = await cli([cmd], { cwd: r.dir, env: { SDX_API_URL: sb.url, SDX_API_TOKEN: sb.token } });
        expect(res.code, res.stderr).toBe(2);
        expect(res.stderr).toMatch(re);
      }
      expect(sb.stats().requests).toBe(0);
    }
  });

  it('an escaped \\${{ reaches the router as is', async () => {
    const { r, sb, env } = await setup({ 'sites/x/site.yaml': `id: ${id(9)}\n`, 'sites/x/a.rsc': ':put "literal \\${{ not a tag }}"\n' });
    expect((await applyJson(r, env)).code).toBe(0);
    expect(sb.jobs(id(9))[0]!.script).toBe(':put "literal \\${{ not a tag }}"\n');
  });
});
