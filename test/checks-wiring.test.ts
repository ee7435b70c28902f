// Script checks wired into validate (repository and files), plan and apply.
import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { cli, fleetFiles, SITE_IDS } from './helpers/cli.js';
import { useLifecycle } from './helpers/lifecycle.js';

const life = useLifecycle();

type Findings = { findings: Array<{ path: string; line: number; column: number; level: string; severity: string; rule: string; message: string }> };

describe('script checks, wired in', () => {
  it('validate FILE... checks working-tree files for pre-commit hooks, with --format json', async () => {
    const dir = await mkdtemp(`${tmpdir()}/rgo-files-`);
    await writeFile(`${dir}/ok.rsc`, '/ip dns set servers=1.1.1.1\n');
    await writeFile(`${dir}/broken.rsc`, '/ip route\nadd gateway = 10.0.0.1\n:if (true) do={ :put "x" \n');
    const ok = await cli(['validate', 'ok.rsc'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('No problems found');
    const bad = await cli(['validate', 'ok.rsc', 'broken.rsc', '--format', 'json'], { cwd: dir });
    expect(bad.code).toBe(2);
    const f = bad.json<Findings>().findings;
    expect(f.map((x) => [x.path, x.line, x.rule])).toEqual(expect.arrayContaining([['broken.rsc', 2, 'param-space']]));
    expect(f.some((x) => x.rule === 'unbalanced-bracket' && x.severity === 'error' && x.level === 'error')).toBe(true);
    for (const x of f) expect(Object.keys(x).sort()).toEqual(['column', 'level', 'line', 'message', 'path', 'rule', 'severity']);
    const missing = await cli(['validate', 'nope.rsc'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toMatch(/nope\.rsc.*cannot read/);
  });

  it('plan lists findings per script; lockout risks stop apply with exit 2 until acknowledged', async () => {
    const files = fleetFiles(2);
    files['sites/site-1/20-reset.rsc'] = '/system reset-configuration no-defaults=yes skip-backup=yes\n';
    files['sites/site-2/20-reboot.rsc'] = '/system reboot\n';
    const { r, sb, env } = await life.fleet(files);
    const plan = await cli(['plan', '--format', 'json'], { cwd: r.dir, env });
    const changes = plan.json<{ changes: Array<{ path: string; findings: Array<{ rule: string; level: string; severity: string; line: number }> }> }>().changes;
    expect(changes.find((c) => c.path.endsWith('20-reset.rsc'))!.findings).toEqual([
      expect.objectContaining({ rule: 'reset-configuration', level: 'lockout', severity: 'warning', line: 1 }),
    ]);
    expect(changes.find((c) => c.path.endsWith('20-reboot.rsc'))!.findings).toEqual([
      expect.objectContaining({ rule: 'reboot', level: 'lockout', severity: 'warning' }),
    ]);
    const text = await cli(['plan'], { cwd: r.dir, env });
    expect(text.stdout).toMatch(/lockout sites\/site-1\/20-reset\.rsc:1:1 .*\[reset-configuration\]/);
    expect(text.code).toBe(2);

    const refused = await cli(['apply'], { cwd: r.dir, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/apply refuses this commit: 2 lockout risks not acknowledged; nothing was sent/);
    expect(refused.stderr).toMatch(/sites\/site-1\/20-reset\.rsc:1:1 \(site site-1\): .*\[reset-configuration\]/);
    expect(refused.stderr).toMatch(/allow reset-configuration.*--allow-lockout/);
    expect(sb.stats().requests).toBe(0);

    // Settings turn a rule off (or into an error); an acknowledgement comment silences a warning.
    await r.commit(
      {
        'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\nlint:\n  rules:\n    reset-configuration: off\n`,
        'sites/site-2/20-reboot.rsc': '# routeros-gitops: allow reboot\n/system reboot\n',
      },
      'acknowledge',
    );
    const planned = await cli(['plan', '--format', 'json'], { cwd: r.dir, env });
    expect(planned.json<{ changes: Array<{ findings: unknown[] }> }>().changes.flatMap((c) => c.findings)).toEqual([]);
    const applied = await cli(['apply'], { cwd: r.dir, env });
    expect(applied.code, applied.stderr).toBe(0);

    await r.commit({ 'sites/routeros-gitops.yaml': 'lint:\n  rules:\n    reboots: error\n' }, 'typo');
    const typo = await cli(['plan'], { cwd: r.dir, env });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/sites\/routeros-gitops\.yaml: unknown lint rule "reboots"; did you mean "reboot"\?/);
  });

  it('--allow-check-errors applies anyway', async () => {
    const files = fleetFiles(1, { '00-a.rsc': '/ip dns set servrs=1.1.1.1\n' });
    const { r, sb, env } = await life.fleet(files);
    const refused = await cli(['apply'], { cwd: r.dir, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/apply refuses this commit: 1 script check error; nothing was sent/);
    expect(refused.stderr).toMatch(/--allow-check-errors/);
    expect((await cli(['apply', '--allow-check-errors'], { cwd: r.dir, env })).code).toBe(0);
    expect(sb.stats().jobsCreated).toBe(1);
  });

  it('--allow-lockout applies a lockout risk nobody acknowledged', async () => {
    const files = fleetFiles(1, { '00-a.rsc': '/system shutdown\n' });
    const { r, sb, env } = await life.fleet(files);
    expect((await cli(['apply', '--allow-check-errors'], { cwd: r.dir, env })).code).toBe(2);
    expect(sb.stats().requests).toBe(0);
    expect((await cli(['apply', '--allow-lockout'], { cwd: r.dir, env })).code).toBe(0);
    expect(sb.stats().jobsCreated).toBe(1);
  });

  it('validate fails on a lockout risk nobody acknowledged (as apply refuses it), unless --allow-lockout', async () => {
    const dir = await mkdtemp(`${tmpdir()}/rgo-files-`);
    await writeFile(`${dir}/lock.rsc`, '/ip service disable ssh,winbox,www\n');
    const res = await cli(['validate', 'lock.rsc'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stdout).toMatch(/lock\.rsc:1:1: lockout changing \/ip service/);
    expect(res.stdout).toMatch(/^1 lockout risk \(apply refuses them until each is acknowledged\)$/m);
    expect((await cli(['validate', 'lock.rsc', '--allow-lockout'], { cwd: dir })).code).toBe(0);
    await writeFile(`${dir}/lock.rsc`, '# routeros-gitops: allow ip-service\n/ip service disable ssh,winbox,www\n');
    expect((await cli(['validate', 'lock.rsc'], { cwd: dir })).code).toBe(0);
  });

  it('rules lists every rule', async () => {
    const res = await cli(['rules', '--format', 'json'], { cwd: tmpdir() });
    const ids = res.json<{ rules: Array<{ id: string }> }>().rules.map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining(['unbalanced-bracket', 'reset-configuration', 'input-drop', 'remove-find-all', 'unguarded-add']));
    const levels = res.json<{ rules: Array<{ id: string; defaultLevel: string; defaultSeverity: string }> }>().rules;
    expect(levels.find((x) => x.id === 'input-drop')).toMatchObject({ defaultLevel: 'lockout', defaultSeverity: 'warning' });
    expect(levels.find((x) => x.id === 'unguarded-add')).toMatchObject({ defaultLevel: 'advice' });
    const text = await cli(['rules'], { cwd: tmpdir() });
    expect(text.stdout).toMatch(/^input-drop\s+lockout\s+/m);
    expect(text.stdout).toMatch(/Levels: error \(never sent\), lockout/);
  });

  it('reads "warning" in lint.rules as advice, with a notice to write "advice"', async () => {
    const files = fleetFiles(1, { '00-a.rsc': '/system reboot\n' });
    files['sites/routeros-gitops.yaml'] = 'lint:\n  rules:\n    reboot: warning\n';
    const { r, sb, env } = await life.fleet(files);
    const plan = await cli(['plan', '--format', 'json'], { cwd: r.dir, env });
    const out = plan.json<{ warnings: Array<{ message: string }>; changes: Array<{ findings: Array<{ rule: string; level: string }> }> }>();
    expect(out.changes[0]!.findings).toEqual([expect.objectContaining({ rule: 'reboot', level: 'advice' })]);
    expect(out.warnings.map((w) => w.message)).toContain(
      'lint rule "reboot": "warning" is the former name of "advice" (shown, never blocks); write "advice" (or "lockout", its default, to have apply refuse it until it is acknowledged)',
    );
    expect((await cli(['apply'], { cwd: r.dir, env })).code).toBe(0);
    expect(sb.stats().jobsCreated).toBe(1);
  });
});
