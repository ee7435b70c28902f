// Adversary 2: a newcomer following the README and issues 14, 15 and 16. Each test fails while the
// problem it names is present (reproductions under /tmp/adv2/NN-*.sh in the report). The CLI
// in-process (and once on a pseudo-terminal), real git repositories, the sandbox over loopback.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, SITE_IDS } from './helpers/cli.js';
import { useLifecycle } from './helpers/lifecycle.js';
import { onTerminal } from './helpers/terminal.js';

const life = useLifecycle();

/** Run the built CLI on a pseudo-terminal; at `prompt`, type Ctrl-D (end of input) instead of an answer. */
const endOfInputAt = (args: string[], opts: { cwd: string; env: Record<string, string>; prompt: string }) =>
  onTerminal(args, { ...opts, answer: '\x04', raw: true });

function site(name: string, i: number, scripts: Record<string, string>): Record<string, string> {
  const files: Record<string, string> = { [`sites/${name}/site.yaml`]: `id: ${SITE_IDS[i]}\nrouteros: 7.20.8\n` };
  for (const [f, body] of Object.entries(scripts)) files[`sites/${name}/${f}`] = body;
  return files;
}

describe('adversary 2: the first hour (issue 14)', () => {
  it('apply on a terminal answered with Ctrl-D sends nothing, says "Apply cancelled" and exits 1', async () => {
    const { r, sb, env } = await life.fleet(site('edge-1', 0, { '10-dns.rsc': '/ip dns set servers=1.1.1.1\n' }));
    const run = await endOfInputAt(['apply'], { cwd: r.dir, env, prompt: '(yes/no)' });
    expect(sb.stats().jobsCreated).toBe(0);
    expect(run.screen).toMatch(/Apply cancelled/);
    expect(run.code, run.screen).toBe(1);
  });

  it('apply --site "" (an empty variable) is an error, not the whole fleet', async () => {
    const { r, sb, env } = await life.fleet({
      ...site('edge-1', 0, { '10-dns.rsc': '/ip dns set servers=1.1.1.1\n' }),
      ...site('edge-2', 1, { '10-dns.rsc': '/ip dns set servers=1.1.1.1\n' }),
    });
    const run = await cli(['apply', '--site', ''], { cwd: r.dir, env });
    expect(sb.stats().jobsCreated).toBe(0);
    expect(run.code, run.stdout).toBe(2);
  });

  it('one YAML typo in the fleet file gives one error, not also "variable not defined"', async () => {
    const r = await life.repo({
      'sites/routeros-gitops.yaml': 'vars:\n  dns: 1.1.1.1\n bad: x\n',
      ...site('edge-1', 0, { '10-dns.rsc': '/ip dns set servers=${{ vars.dns }}\n' }),
    });
    const run = await cli(['validate'], { cwd: r.dir });
    expect(run.code).toBe(2);
    expect(run.stdout + run.stderr).toMatch(/not valid YAML/);
    expect(run.stdout + run.stderr).not.toMatch(/is not defined/);
  });

  it('validate given a site folder does not say "No problems found" over a broken script in it', async () => {
    const r = await life.repo(site('edge-1', 0, { '10-bad.rsc': '/ip firewll filter add chain=input action=accept\n' }));
    const run = await cli(['validate', 'sites/edge-1'], { cwd: r.dir });
    expect(run.stdout + run.stderr).not.toMatch(/No problems found/);
    expect(run.code).not.toBe(0);
  });

  it('the plan of a script never sent (blocked behind a failure) shows its content, not "no textual change since the last send"', async () => {
    const { r, env } = await life.fleet(
      site('edge-1', 0, { '10-dns.rsc': '/ip dns set servers=1.1.1.1\n:error "sandbox-fail"\n', '20-b.rsc': '/ip dns set servers=9.9.9.9\n' }),
    );
    const applied = await cli(['apply'], { cwd: r.dir, env });
    expect(applied.code).toBe(1);
    const plan = await cli(['plan'], { cwd: r.dir, env });
    const block = plan.stdout.slice(plan.stdout.indexOf('20-b.rsc'));
    expect(block).not.toMatch(/no textual change since the last send/);
    expect(block).toMatch(/\+\/ip dns set servers=9\.9\.9\.9/);
  });
});

describe('adversary 2: RouterOS checks (issue 16)', () => {
  it('reports a finding in a template at the line of the file, not of the rendering', async () => {
    const r = await life.repo({
      'sites/routeros-gitops.yaml': 'vars:\n  has_lte: false\n',
      ...site('edge-1', 0, {
        '10-t.rsc': '${{#vars.has_lte}}\n/interface lte set lte1 disabled=no\n${{/vars.has_lte}}\n/ip dns set servrs=1.1.1.1\n',
      }),
    });
    const run = await cli(['validate', '--format', 'json'], { cwd: r.dir });
    const findings = run.json<{ findings: Array<{ path: string; line: number; column: number; rule: string }> }>().findings;
    const f = findings.find((x) => x.rule === 'unknown-parameter');
    expect(f).toMatchObject({ path: 'sites/edge-1/10-t.rsc', line: 4, column: 13 });
  });

  it('a 7.13.2 router is not told that /interface wifi (7.13 renamed wifiwave2 to wifi) does not exist yet', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adv2-'));
    life.defer(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'wifi.rsc'), '/interface wifi set [find default-name=wifi1] disabled=no\n');
    const run = await cli(['validate', '--routeros', '7.13.2', 'wifi.rsc'], { cwd: dir });
    expect(run.stdout + run.stderr).not.toMatch(/exists from 7\.13\.5/);
  });
});
