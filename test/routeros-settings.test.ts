// The RouterOS version and packages of each site: the routeros: and packages: settings (site.yaml,
// a group, the fleet file), what plan and validate say about sites with none, and
// `validate --routeros VERSION FILE...` for files outside a repository. Through the CLI, in-process,
// on real repositories.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mergeRouterOsSettings } from '../src/core/routeros-target.js';
import { DATA_NEWEST } from '../src/lint/routeros-data-summary.js';
import { cli, fleetFiles, SITE_IDS } from './helpers/cli.js';
import { createTempRepo, type TempRepo } from './helpers/git-repo.js';

const repos: TempRepo[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all([...repos.splice(0).map((r) => r.cleanup()), ...dirs.splice(0).map((d) => rm(d, { recursive: true, force: true }))]);
});

/** BGP's connection instance= exists from 7.20: refused before. */
const BGP = '/routing bgp connection add name=isp1 instance=main remote.address=192.0.2.1 .as=64500 local.role=ebgp\n';

async function repo(files: Record<string, string>): Promise<TempRepo> {
  const r = await createTempRepo({ files: { ...fleetFiles(2), ...files } });
  repos.push(r);
  return r;
}

interface Finding {
  path: string;
  line: number;
  rule: string;
  message: string;
  severity: string;
}

/** The findings these tests are about: all but whether a script is safe to run twice (unguarded-add, tested in lint-rules.test.ts). */
const versionChecks = (f: Finding) => f.rule !== 'unguarded-add';

async function validate(r: TempRepo, args: string[] = []) {
  const res = await cli(['validate', '--format', 'json', ...args], { cwd: r.dir });
  return { code: res.code, findings: res.json<{ findings: Finding[] }>().findings.filter(versionChecks), stderr: res.stderr };
}

describe('routeros: and packages: settings', () => {
  it('checks each site against its version: site.yaml over its groups over the fleet file', async () => {
    const r = await repo({
      'sites/routeros-gitops.yaml': 'routeros: 7.19.4\ngroups:\n  new:\n    routeros: 7.20.8\n',
      'sites/site-1/30-bgp.rsc': BGP, // fleet: 7.19.4, refused
      'sites/site-2/site.yaml': `id: ${SITE_IDS[1]}\ngroups: [new]\n`,
      'sites/site-2/30-bgp.rsc': BGP, // group: 7.20.8, accepted
      'sites/_groups/new/.keep': '',
    });
    const { code, findings } = await validate(r);
    expect(findings.map((f) => `${f.path} ${f.rule}`)).toEqual(['sites/site-1/30-bgp.rsc not-in-version']);
    expect(findings[0]!.message).toContain('this site runs 7.19.4');
    expect(code).toBe(2);

    await r.commit({ 'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\nrouteros: 7.22.3\n` }, 'site-1 runs 7.22.3');
    expect((await validate(r)).findings).toEqual([]);
  });

  it('merges the layers: the site, then its groups (the last first), then the fleet', () => {
    expect(mergeRouterOsSettings({ routeros: '7.16' }, [{ routeros: '7.18.2' }, { packages: ['container'] }], {})).toEqual({
      routeros: '7.18.2',
      packages: ['container'],
    });
    expect(mergeRouterOsSettings({ routeros: '7.16', packages: ['iot'] }, [{ routeros: '7.18.2' }], { routeros: 7.2 + 0.01 })).toEqual({
      routeros: '7.21',
      packages: ['iot'],
    });
  });

  it('narrows the extra packages with packages:, and accepts any without it', async () => {
    const container = '/container add remote-image=alpine:latest interface=veth1\n';
    const r = await repo({ 'sites/routeros-gitops.yaml': 'routeros: 7.20.8\n', 'sites/site-1/40-container.rsc': container });
    expect((await validate(r)).findings).toEqual([]);
    await r.commit({ 'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\npackages: [wireless]\n` }, 'only wireless');
    const { findings } = await validate(r);
    expect(findings.map((f) => `${f.path}:${f.line} ${f.rule}`)).toEqual(['sites/site-1/40-container.rsc:1 missing-package']);
    await r.commit({ 'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\npackages: [wireless, container]\n` }, 'and container');
    expect((await validate(r)).findings).toEqual([]);
  });

  it('refuses a version that is not one, a number YAML has cut short, and an unknown package, each with its file', async () => {
    const r = await repo({
      'sites/routeros-gitops.yaml': 'routeros: 7.10\n',
      'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\nrouteros: seven\n`,
      'sites/site-2/site.yaml': `id: ${SITE_IDS[1]}\npackages: [contaner]\n`,
    });
    const res = await cli(['validate'], { cwd: r.dir });
    expect(res.code).toBe(2);
    const out = res.stdout + res.stderr;
    expect(out).toMatch(/sites\/routeros-gitops\.yaml:1:\d+: error "routeros": write the version in quotes \(routeros: "7\.10" or "7\.1"\)/);
    expect(out).toMatch(/sites\/site-1\/site\.yaml:2:\d+: error "routeros": "seven" is not a RouterOS version/);
    expect(out).toMatch(/sites\/site-2\/site\.yaml: error packages: "contaner" is not a RouterOS extra package; did you mean "container"\?/);
  });

  it('says in the plan which sites were checked against the newest version, and not once every site has one', async () => {
    const r = await repo({});
    const res = await cli(['plan', '--format', 'json'], { cwd: r.dir });
    expect(res.code).toBe(0);
    const warnings = res.json<{ warnings: Array<{ message: string; hint: string }> }>().warnings;
    expect(warnings.map((w) => w.message)).toEqual([
      `2 sites have no RouterOS version: their scripts are checked against ${DATA_NEWEST}, the newest in the data set (site-1, site-2)`,
    ]);
    expect((await cli(['plan'], { cwd: r.dir, env: {} })).stdout).toContain('no RouterOS version');

    await r.commit({ 'sites/routeros-gitops.yaml': 'routeros: 7.20.8\n' }, 'versions');
    const again = await cli(['plan', '--format', 'json'], { cwd: r.dir });
    expect(again.json<{ warnings: unknown[] }>().warnings).toEqual([]);
  });

  it('says so when a site runs a version outside the data set', async () => {
    const r = await repo({ 'sites/routeros-gitops.yaml': 'routeros: 6.49.10\n', 'sites/site-2/site.yaml': `id: ${SITE_IDS[1]}\nrouteros: 7.99.1\n` });
    const { findings } = await validate(r);
    expect(findings.map((f) => `${f.severity} ${f.message}`)).toEqual([
      `warning RouterOS 6.49.10 is not checked against a command tree (the data set covers 7.9 to ${DATA_NEWEST}) (site-1)`,
      `warning RouterOS 7.99.1 is newer than the data set: scripts are checked against ${DATA_NEWEST} (site-2)`,
    ]);
  });
});

describe('validate --routeros VERSION FILE...', () => {
  async function files(contents: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'rgo-routeros-'));
    dirs.push(dir);
    for (const [f, body] of Object.entries(contents)) await writeFile(join(dir, f), body);
    return dir;
  }

  it('checks files outside a repository against the version given, in both directions', async () => {
    const dir = await files({ 'bgp.rsc': BGP, 'router-id.rsc': BGP.replace('instance=main', 'router-id=10.0.0.1') });
    const old = await cli(['validate', '--routeros', '7.19.4', '--format', 'json', 'bgp.rsc', 'router-id.rsc'], { cwd: dir });
    expect(
      old
        .json<{ findings: Finding[] }>()
        .findings.filter(versionChecks)
        .map((f) => `${f.path} ${f.rule}`),
    ).toEqual(['bgp.rsc not-in-version']);
    expect(old.code).toBe(2);
    const recent = await cli(['validate', '--routeros', '7.20.8', '--format', 'json', 'bgp.rsc', 'router-id.rsc'], { cwd: dir });
    expect(
      recent
        .json<{ findings: Finding[] }>()
        .findings.filter(versionChecks)
        .map((f) => `${f.path} ${f.rule}`),
    ).toEqual(['router-id.rsc not-in-version']);
  });

  it('checks against the newest version without --routeros, and says so', async () => {
    const dir = await files({ 'ok.rsc': '/ip address add address=10.0.0.1/24 interface=ether1\n' });
    const res = await cli(['validate', 'ok.rsc'], { cwd: dir });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`checked against RouterOS ${DATA_NEWEST}, the newest version known`);
  });

  it('takes --packages, and refuses a bad version or package name with exit 2', async () => {
    const dir = await files({ 'c.rsc': '/container add remote-image=alpine:latest interface=veth1\n' });
    const narrowed = await cli(['validate', '--routeros', '7.20.8', '--packages', 'iot', '--format', 'json', 'c.rsc'], { cwd: dir });
    expect(
      narrowed
        .json<{ findings: Finding[] }>()
        .findings.filter(versionChecks)
        .map((f) => f.rule),
    ).toEqual(['missing-package']);
    const bad = await cli(['validate', '--routeros', 'latest', 'c.rsc'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--routeros: "latest" is not a RouterOS version');
    const badPackage = await cli(['validate', '--packages', 'containr', 'c.rsc'], { cwd: dir });
    expect(badPackage.stderr).toContain('did you mean "container"?');
  });

  it('checks a whole repository against the version given, whatever the sites say', async () => {
    const r = await repo({ 'sites/routeros-gitops.yaml': 'routeros: 7.20.8\n', 'sites/site-1/30-bgp.rsc': BGP });
    expect((await validate(r)).findings).toEqual([]);
    expect((await validate(r, ['--routeros', '7.19.4'])).findings.map((f) => f.rule)).toEqual(['not-in-version']);
  });
});
