// Issue 16: a site without a `routeros:` setting is checked against the RouterOS version SDX reports
// for it (software_version of GET /site-minimal). apply reads it (in the answer of its SDX check, no
// extra request), keeps it in the state, and plans again with it; plan (pure: no SDX) uses the one
// recorded, and says where each version comes from; status shows it. A router upgraded since its
// version was recorded is not refused for the version it ran before. A `routeros:` setting wins.
import { describe, expect, it } from 'vitest';
import { cli, fleetFiles, SITE_IDS } from './helpers/cli.js';
import { useLifecycle } from './helpers/lifecycle.js';

const life = useLifecycle();
const [S1, S2] = SITE_IDS as [string, string];
/** `:toarray ... delimiter=` exists from RouterOS 7.21 on. */
const SPLIT = ':local parts [:toarray "a,b" delimiter=","]\n';

interface StatusJson {
  sites: Array<{ site: string; routeros: { version: string; seen_at: string } | null }>;
}
interface PlanJson {
  sites: Array<{ site: string; routeros: { version: string; source: string } | null }>;
  changes: Array<{ site: string; path: string; findings: Array<{ rule: string; message: string }> }>;
}

describe('the RouterOS version SDX reports (issue 16)', () => {
  it('is recorded by apply, used by the checks of sites without a routeros: setting, shown by plan and status, and followed when the router is upgraded', async () => {
    const files = fleetFiles(2);
    files['sites/site-2/site.yaml'] = `id: ${S2}\nrouteros: 7.22\n`;
    const { r, sb, env } = await life.fleet(files, {
      sites: [
        { id: S1, softwareVersion: '7.19.4' },
        { id: S2, softwareVersion: '7.15.1' },
      ],
    });
    const applied = await cli(['apply', '--format', 'json'], { cwd: r.dir, env });
    expect(applied.code, applied.stderr).toBe(0);

    const status = async () => (await cli(['status', '--format', 'json'], { cwd: r.dir })).json<StatusJson>().sites;
    const versionOf = async (site: string) => (await status()).find((s) => s.site === site)?.routeros?.version;
    expect(await versionOf('site-1')).toBe('7.19.4');
    expect(await versionOf('site-2')).toBe('7.15.1'); // recorded as reported; its checks use its setting
    expect((await cli(['status'], { cwd: r.dir })).stdout).toMatch(/^site-1 .*7\.19\.4/m);

    // A script that needs 7.21 on both sites: plan (no token, no SDX) checks site-1 against the
    // recorded 7.19.4 and site-2 against its setting, and says so.
    await r.commit({ 'sites/site-1/20-split.rsc': SPLIT, 'sites/site-2/20-split.rsc': SPLIT }, 'split');
    const plan = await cli(['plan', '--format', 'json'], { cwd: r.dir });
    expect(plan.code, plan.stderr).toBe(2);
    const doc = plan.json<PlanJson>();
    expect(doc.sites.find((s) => s.site === 'site-1')!.routeros).toEqual({ version: '7.19.4', source: 'sdx' });
    expect(doc.sites.find((s) => s.site === 'site-2')!.routeros).toEqual({ version: '7.22', source: 'setting' });
    const findings = (site: string) => doc.changes.find((c) => c.site === site && c.path.endsWith('20-split.rsc'))!.findings;
    expect(findings('site-1').map((f) => [f.rule, f.message])).toEqual([
      ['not-in-version', expect.stringContaining('exists from 7.21; this site runs 7.19.4')],
    ]);
    expect(findings('site-2')).toEqual([]);
    const text = await cli(['plan'], { cwd: r.dir });
    expect(text.stdout).toMatch(/site-1.*RouterOS 7\.19\.4 \(reported by SDX\)/);
    expect(text.stdout).toMatch(/site-2.*RouterOS 7\.22 \(routeros: setting\)/);

    // apply refuses it while SDX still reports 7.19.4: nothing is sent.
    const jobs = sb.jobs(S1).length + sb.jobs(S2).length;
    const refused = await cli(['apply'], { cwd: r.dir, env });
    expect(refused.code, refused.stdout + refused.stderr).toBe(2);
    expect(refused.stderr).toContain('this site runs 7.19.4');
    expect(sb.jobs(S1).length + sb.jobs(S2).length).toBe(jobs);

    // The router is upgraded: the next apply sees 7.21 before it judges, records it, and sends.
    sb.updateSite(S1, { softwareVersion: '7.21' });
    const after = await cli(['apply', '--format', 'json'], { cwd: r.dir, env });
    expect(after.code, after.stdout + after.stderr).toBe(0);
    expect(sb.jobs(S1).some((j) => j.script.includes('delimiter='))).toBe(true);
    expect(await versionOf('site-1')).toBe('7.21');
    const replanned = await cli(['plan', '--format', 'json'], { cwd: r.dir });
    expect(replanned.code).toBe(0);
  });
});
