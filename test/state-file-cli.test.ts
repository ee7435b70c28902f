// Issue 14, item 1: the README's rehearsal (`apply --state-file rehearsal.json` against the sandbox)
// works from plan, apply and status; the state ref's default is not taken for a --state-ref given.
// Only options actually given clash with --state-file, and that clash names them (exit 2).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, fleetFiles } from './helpers/cli.js';
import { useLifecycle } from './helpers/lifecycle.js';

const life = useLifecycle();

describe('--state-file from the command line', () => {
  it('plans, applies and shows the status of a rehearsal kept in a file; the state ref is left alone', async () => {
    const { r, env } = await life.fleet(fleetFiles(2));
    const file = join(r.dir, '..', `rehearsal-${process.pid}.json`);
    life.defer(() => import('node:fs/promises').then((fs) => fs.rm(file, { force: true })));
    const plan = await cli(['plan', '--state-file', file], { cwd: r.dir });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('4 jobs to send');
    const apply = await cli(['apply', '--state-file', file], { cwd: r.dir, env });
    expect(apply.code, apply.stderr).toBe(0);
    expect(existsSync(file)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty('sites');
    const status = await cli(['status', '--state-file', file], { cwd: r.dir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^site-1 +[0-9a-f]{7} +succeeded/m);
    // Nothing went to the state ref.
    expect(await r.git(['for-each-ref', 'refs/routeros-gitops/']).catch(() => '')).toBe('');
  });

  it('refuses --state-file with a --state-ref or --state-remote actually given, naming them (exit 2)', async () => {
    const r = await life.repo(fleetFiles(1));
    for (const extra of [
      ['--state-ref', 'refs/x'],
      ['--state-remote', 'origin'],
    ]) {
      const res = await cli(['plan', '--state-file', 's.json', ...extra], { cwd: r.dir });
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('--state-file keeps the state in a file; it cannot be combined with --state-remote or --state-ref');
    }
  });
});
