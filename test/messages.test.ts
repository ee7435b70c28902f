// Messages that name the real cause (issue 14): a wrong type is not "required", a bad log level
// lists the good ones, `validate FILE` reports what repository mode reports, and one typo in the
// fleet file is one error.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { useLifecycle } from './helpers/lifecycle.js';

const life = useLifecycle();
const ID = '11111111-1111-4111-8111-111111111111';

type Finding = { path: string; line: number; column: number; severity: string; rule: string; message: string };
const findings = (out: string) => (JSON.parse(out) as { findings: Finding[] }).findings;

describe('settings of the wrong type', () => {
  it('say what was expected and what was written, at the file and line; a missing key is "required"', async () => {
    const r = await life.repo({
      'sites/a/site.yaml': `id: ${ID}\nbackup: yes\ntimeout: "30"\ngroups: branch\n`,
      'sites/b/site.yaml': 'express: true\n',
    });
    const res = await cli(['validate'], { cwd: r.dir });
    expect(res.code).toBe(2);
    expect(res.stdout).toContain(
      'sites/a/site.yaml:2:9: error "backup": expected a boolean, true or false, got the string "yes"\n  hint: write true or false (YAML 1.2 reads yes, no, on and off as text)',
    );
    expect(res.stdout).toContain('sites/a/site.yaml:3:10: error "timeout": expected a number, got the string "30"');
    expect(res.stdout).toContain('sites/a/site.yaml:4:9: error "groups": expected a list, got the string "branch"');
    expect(res.stdout).toContain('sites/b/site.yaml: error "id": is required (expected text)');
    expect(res.stdout).not.toMatch(/"(backup|timeout|groups)": is required/);
  });
});

describe('an invalid log level', () => {
  it('exits 2 and lists the valid levels, never a logger error', async () => {
    const dir = (await life.repo()).dir;
    for (const [args, env] of [
      [['plan', '--log-level', 'verbose'], {}],
      [['validate', '--log-level', 'verbose', 'x.rsc'], {}],
      [['sites', '--log-level', 'verbose'], {}],
      [['status'], { RGO_LOG_LEVEL: 'verbose' }],
    ] as const) {
      const res = await cli([...args], { cwd: dir, env: { ...env } });
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toMatch(/"verbose" is not one of trace, debug, info, warn, error, fatal, silent/);
      expect(res.stderr).not.toMatch(/TypeError|default level|at .*\.js:\d+/);
    }
  });
});

describe('validate FILE reports what repository mode reports', () => {
  const FLEET = {
    'sites/routeros-gitops.yaml': 'routeros: 7.20.8\nvars:\n  dns: 1.1.1.1\n',
    'sites/good/site.yaml': `id: ${ID}\n`,
    'sites/good/10-dns.rsc': '/ip dns set servers=${{ vars.dns }}\n',
    'sites/good/20-ntp.rsc': '/system ntp client set enabled=yes servers=${{ vars.ntp }}\n',
    'sites/good/30-typo.rsc': '/ip firewll filter print\n',
    'sites/bad/site.yaml': 'id: nope\n',
    'sites/bad/10-dns.rsc': '/ip dns set servers=1.1.1.1\n',
    'sites/_groups/branch/10-x.rsc': '/ip dns set servers=${{ vars.nothere }}\n',
    'sites/tmpl/site.yaml': 'id: 22222222-2222-4222-8222-222222222222\ngroups: [branch]\n',
    'sites/tmpl/40-t.rsc': '${{#vars.dns}}unclosed\n',
  };

  it('for every file: the same findings, at the same places, as validating the commit', async () => {
    const r = await life.repo(FLEET);
    const whole = await cli(['validate', '--format', 'json'], { cwd: r.dir });
    expect(whole.code).toBe(2);
    const all = findings(whole.stdout);
    expect(all.length).toBeGreaterThanOrEqual(5);
    const union: Finding[] = [];
    for (const file of Object.keys(FLEET)) {
      const one = await cli(['validate', '--format', 'json', file], { cwd: r.dir });
      const got = findings(one.stdout);
      // Each is what the whole-repository check says about that file (and its site folder and the fleet file).
      for (const f of got) expect(all, `${file}: ${f.message}`).toContainEqual(f);
      expect(got.filter((f) => f.path === file)).toEqual(all.filter((f) => f.path === file));
      if (got.some((f) => f.severity === 'error')) expect(one.code, file).toBe(2);
      union.push(...got);
    }
    for (const f of all) expect(union).toContainEqual(f);
  });

  it('a site.yaml with id: nope is an error, in the sites directory and on its own; so is a template error', async () => {
    const r = await life.repo(FLEET);
    const res = await cli(['validate', 'sites/bad/site.yaml'], { cwd: r.dir });
    expect(res.code).toBe(2);
    expect(res.stdout).toMatch(/^sites\/bad\/site\.yaml:1:5: error "id": the SDX site id is a UUID/m);
    expect(res.stdout).not.toContain('No problems found');
    // A script of that site: its site.yaml's error is reported too (the script cannot be checked without it).
    const script = await cli(['validate', 'sites/bad/10-dns.rsc'], { cwd: r.dir });
    expect(script.code).toBe(2);
    expect(script.stdout).toContain('sites/bad/site.yaml:1:5');
    // An undefined variable, as in repository mode.
    const tmpl = await cli(['validate', 'sites/good/20-ntp.rsc'], { cwd: r.dir });
    expect(tmpl.code).toBe(2);
    expect(tmpl.stdout).toMatch(/sites\/good\/20-ntp\.rsc:1:\d+: \(site good\) error .*ntp/);
    // Outside any repository: the schema still checks it.
    const dir = await mkdtemp(path.join(tmpdir(), 'rgo-alone-'));
    life.defer(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'site.yaml'), 'id: nope\nbackup: yes\n');
    const alone = await cli(['validate', 'site.yaml'], { cwd: dir });
    expect(alone.code).toBe(2);
    expect(alone.stdout).toContain('site.yaml:1:5: error "id": the SDX site id is a UUID');
    expect(alone.stdout).toContain('"backup": expected a boolean');
  });

  it('checks the working tree (what is about to be committed), not HEAD', async () => {
    const r = await life.repo(FLEET);
    await writeFile(path.join(r.dir, 'sites/good/10-dns.rsc'), '/ip dns set servers=${{ vars.dsn }}\n');
    const res = await cli(['validate', 'sites/good/10-dns.rsc'], { cwd: r.dir });
    expect(res.code).toBe(2);
    expect(res.stdout).toMatch(/dsn/);
  });
});

describe('one typo in the fleet file', () => {
  it('is one error: its variables and groups still reach the sites', async () => {
    const r = await life.repo({
      'sites/routeros-gitops.yaml': 'routeros: 7.20.8\nconcurency: 4\nvars:\n  dns: 1.1.1.1\ngroups:\n  branch:\n    express: true\n',
      'sites/a/site.yaml': `id: ${ID}\ngroups: [branch]\n`,
      'sites/a/10-dns.rsc': '/ip dns set servers=${{ vars.dns }}\n',
    });
    const res = await cli(['validate', '--format', 'json'], { cwd: r.dir });
    expect(res.code).toBe(2);
    expect(findings(res.stdout).filter((f) => f.severity === 'error')).toEqual([
      expect.objectContaining({ path: 'sites/routeros-gitops.yaml', line: 2, message: 'unknown setting "concurency"; did you mean "concurrency"?' }),
    ]);
    // plan says the same.
    const plan = await cli(['plan'], { cwd: r.dir });
    expect(plan.code).toBe(2);
    expect(plan.stderr).toContain('the input is invalid');
    expect(plan.stderr).not.toMatch(/not defined|does not exist/);
  });
});
