// Script checks wired into validate (repository and files), plan and apply.
import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { cli, fleetFiles, SITE_IDS } from './helpers/cli.js';
import { useLifecycle } from './helpers/lifecycle.js';

const life = useLifecycle();

type Findings = { findings: Array<{ path: string; line: number; column: number; severity: string; rule: string; message: string }> };

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
    expect(f.some((x) => x.rule === 'unbalanced-bracket' && x.severity === 'error')).toBe(true);
    for (const x of f) expect(Object.keys(x).sort()).toEqual(['column', 'line', 'message', 'path', 'rule', 'severity']);
    const missing = await cli(['validate', 'nope.rsc'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toMatch(/nope\.rsc.*cannot read/);
  });

  it('plan lists findings per script; error-level findings stop apply with exit 2 unless overridden', async () => {
    const files = fleetFiles(2);
    files['sites/site-1/20-reset.rsc'] = '/system reset-configuration no-defaults=yes skip-backup=yes\n';
    files['sites/site-2/20-reboot.rsc'] = '/system reboot\n';
    const { r, sb, env } = await life.fleet(files);
    const plan = await cli(['plan', '--format', 'json'], { cwd: r.dir, env });
    const changes = plan.json<{ changes: Array<{ path: string; findings: Array<{ rule: string; severity: string; line: number }> }> }>().changes;
    expect(changes.find((c) => c.path.endsWith('20-reset.rsc'))!.findings).toEqual([
      expect.objectContaining({ rule: 'reset-configuration', severity: 'error', line: 1 }),
    ]);
    expect(changes.find((c) => c.path.endsWith('20-reboot.rsc'))!.findings).toEqual([expect.objectContaining({ rule: 'reboot', severity: 'warning' })]);
    const text = await cli(['plan'], { cwd: r.dir, env });
    expect(text.stdout).toMatch(/error sites\/site-1\/20-reset\.rsc:1:1 .*\[reset-configuration\]/);

    const refused = await cli(['apply'], { cwd: r.dir, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/sites\/site-1\/20-reset\.rsc:1:1 \(site site-1\): .*\[reset-configuration\]/);
    expect(refused.stderr).toMatch(/--allow-check-errors/);
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
    const files = fleetFiles(1, { '00-a.rsc': '/system shutdown\n' });
    const { r, sb, env } = await life.fleet(files);
    expect((await cli(['apply'], { cwd: r.dir, env })).code).toBe(2);
    expect((await cli(['apply', '--allow-check-errors'], { cwd: r.dir, env })).code).toBe(0);
    expect(sb.stats().jobsCreated).toBe(1);
  });

  it('rules lists every rule', async () => {
    const res = await cli(['rules', '--format', 'json'], { cwd: tmpdir() });
    const ids = res.json<{ rules: Array<{ id: string }> }>().rules.map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining(['unbalanced-bracket', 'reset-configuration', 'input-drop', 'remove-find-all']));
  });
});
