// Breaks of the project's promise found by the adversary session, one test each, in the order of
// the shell reproductions /tmp/adv/20-*.sh .. 24-*.sh. Each test fails while its bug is present;
// none is marked it.fails.
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { sandboxEnv, useLifecycle } from './helpers/lifecycle.js';
import { startRawServer, waitFor } from './helpers/sandbox.js';
import { SITE_IDS } from './helpers/cli.js';

const [ID, ID2] = SITE_IDS as [string, string];
const life = useLifecycle();

describe('adversary: template values in strings RouterOS runs later', () => {
  it('a value in an on-event=(... . "...") expression or a script=[:tostr "..."] never becomes commands', async () => {
    // README: in a string RouterOS runs as a script (on-event=, *-script, script=...) the value must be
    // a plain word. The check looks only at a string that opens right after the parameter's `=`.
    const note = 'x"; /system reset-configuration no-defaults=yes; :put "';
    const { r, sb, env } = await life.fleet({
      'sites/s1/site.yaml': `id: ${ID}\nvars:\n  note: '${note}'\n`,
      'sites/s1/10-hooks.rsc': [
        '/system scheduler',
        ':if ([:len [find name=gitops-note]] = 0) do={ add name=gitops-note interval=1d }',
        'set [find name=gitops-note] on-event=(":log info \\"" . "${{ vars.note }}" . "\\"")',
        '/ip dhcp-client set [find interface=ether1] script=[:tostr "${{ vars.note }}"]',
        '',
      ].join('\n'),
    });
    const res = await cli(['apply'], { cwd: r.dir, env });
    const bodies = sb.jobs().map((j) => j.script);
    // Refused (exit 2, nothing sent), or sent without the command: never a body that carries it.
    expect(
      bodies.filter((b) => b.includes('reset-configuration')),
      `${res.stdout}\n${res.stderr}`,
    ).toEqual([]);
  });
});

describe('adversary: secrets in SDX error messages', () => {
  it('an SDX error quoting the body and the Authorization header, cut to its first few hundred characters, shows no prefix of a secret', async () => {
    const sb = await life.sandbox();
    const token = 'sdx-live-4f8a9c2e7b1d6053aa';
    const secret = 'Tr0ub4dor3horsestaple';
    let posts = 0;
    // A careless SDX: every job POST gets a 422 that quotes what it received, after a padding that
    // grows by 7 characters per POST, so that the message is cut somewhere inside each value.
    const evil = await startRawServer((req, res, n) => {
      const got = (evil as { received: Array<{ body: string; headers: Record<string, unknown> }> }).received[n - 1]!;
      if (req.method === 'POST' && /\/job$/.test(req.url ?? '')) {
        const pad = 'p'.repeat(180 + 7 * posts++);
        res.writeHead(422, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `invalid script: ${pad}${got.body} (auth ${String(got.headers.authorization)})` }));
        return;
      }
      void fetch(`${sb.url}${req.url}`, { method: req.method, headers: { authorization: `Bearer ${sb.token}` } }).then(async (up) => {
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
        res.end(await up.text());
      });
    });
    life.defer(() => evil.close());
    const files: Record<string, string> = {};
    for (let i = 10; i < 40; i++) {
      files[`sites/s${i}/site.yaml`] = `id: ${String(i).padStart(8, '0')}-1111-4111-8111-111111111111\n`;
      files[`sites/s${i}/15-pppoe.rsc`] = '/interface pppoe-client set [find name=pppoe-isp] password="${{ secrets.PPPOE }}"\n';
    }
    const r = await life.repo(files);
    const env = {
      ...sandboxEnv({ url: evil.url, token }),
      RGO_SDX_MAX_RETRIES: '0',
      RGO_SECRETS_KEY: '0123456789abcdef0123456789abcdef',
      RGO_SECRET_PPPOE: secret,
      RGO_LOG_LEVEL: 'info',
    };
    const res = await cli(['apply', '--format', 'json', '--concurrency', '1'], { cwd: r.dir, env });
    const out = `${res.stdout}\n${res.stderr}`;
    expect(res.code).toBe(1);
    expect(out.match(new RegExp(`${secret.slice(0, 8)}\\w*|${token.slice(0, 8)}[\\w-]*`, 'g')) ?? []).toEqual([]);
  });
});

describe('adversary: parts of a split script', () => {
  it('a commit that only changes max_script_size while part 1 of 4 has run sends no line of the script twice', async () => {
    const lines = ['/ip dns static'];
    for (let i = 1; i <= 60; i++) lines.push(`set [find name=host${i}.lan] address=10.0.${i}.1 comment=gitops-${i}`);
    const { r, sb, env } = await life.fleet({
      'sites/routeros-gitops.yaml': 'max_script_size: 1000\n',
      'sites/s1/site.yaml': `id: ${ID}\n`,
      'sites/s1/10-dns.rsc': `${lines.join('\n')}\n`,
    });
    expect((await cli(['apply', '--no-wait'], { cwd: r.dir, env })).code).toBe(0);
    // Part 1 runs on the router while no run follows it.
    await waitFor(() => sb.jobs().some((j) => j.completed_at !== null), 5000, 'part 1 to run');
    await r.commit({ 'sites/routeros-gitops.yaml': 'max_script_size: 700\n' }, 'smaller jobs');
    const second = await cli(['apply'], { cwd: r.dir, env });
    expect(second.code, second.stderr).toBe(0);
    // What the router ran (helpers/routers.ts cannot read a part's description, `... part 1/4`).
    const ran = sb
      .jobs()
      .filter((j) => j.started_at !== null)
      .map((j) => j.script)
      .join('\n');
    const twice = [];
    for (let i = 1; i <= 60; i++) {
      const n = ran.split(`name=host${i}.lan]`).length - 1;
      if (n !== 1) twice.push(`host${i}: ${n}x`);
    }
    expect(twice).toEqual([]);
  });
});

describe('adversary: state rekey', () => {
  it('after `state rekey` (run without the secret values), an apply with the same secrets at the same commit sends nothing', async () => {
    const script = '/ppp secret set [find name=isp] password="${{ secrets.pppoe }}"\n';
    const { r, sb, env } = await life.fleet({
      'sites/s1/site.yaml': `id: ${ID}\n`,
      'sites/s1/15-pppoe.rsc': script,
      'sites/s2/site.yaml': `id: ${ID2}\n`,
      'sites/s2/15-pppoe.rsc': script,
    });
    const K1 = 'aaaaaaaaaaaaaaaaaaaaaaaa';
    const K2 = 'bbbbbbbbbbbbbbbbbbbbbbbbbb';
    expect((await cli(['apply'], { cwd: r.dir, env: { ...env, RGO_SECRETS_KEY: K1, RGO_SECRET_PPPOE: 'secret-one' } })).code).toBe(0);
    const rekey = await cli(['state', 'rekey', '--yes'], { cwd: r.dir, env: { ...env, RGO_OLD_SECRETS_KEY: K1, RGO_SECRETS_KEY: K2 } });
    // Without the values rekey refuses (exit 2, nothing changed), naming the scripts; with them it
    // moves the records for good.
    expect(rekey.code, rekey.stderr).toBe(2);
    expect(rekey.stderr).toContain('state rekey needs the value of every secret the scripts use, and 2 scripts lack one: sites/s1/15-pppoe.rsc (pppoe)');
    const withValues = await cli(['state', 'rekey', '--yes'], {
      cwd: r.dir,
      env: { ...env, RGO_OLD_SECRETS_KEY: K1, RGO_SECRETS_KEY: K2, RGO_SECRET_PPPOE: 'secret-one' },
    });
    expect(withValues.code, withValues.stderr).toBe(0);
    expect(withValues.stderr).toContain('2 script record(s) move to the new key');
    const again = await cli(['apply'], { cwd: r.dir, env: { ...env, RGO_SECRETS_KEY: K2, RGO_SECRET_PPPOE: 'secret-one' } });
    expect(again.code, again.stderr).toBe(0);
    expect(sb.jobs().length, again.stdout).toBe(2);
  });
});

describe('adversary: redaction as an oracle', () => {
  it("a pull request's plan, run with the secret values, does not single out the candidate that equals a secret", async () => {
    // README workflow: the plan job may get RGO_SECRET_* ("with them a rotated secret shows as a
    // change"). A committer's branch lists candidates; the one plan prints as *** is the value.
    const r = await life.repo({
      'sites/s1/site.yaml': `id: ${ID}\n`,
      'sites/s1/15-pppoe.rsc': '/interface pppoe-client set [find name=pppoe-isp] password="${{ secrets.PPPOE }}"\n',
    });
    const guesses = ['482910', '482911', '482912', '482913', '482914', '482915'];
    await r.commit({ 'sites/s1/90-notes.rsc': `${guesses.map((g) => `# candidate ${g}`).join('\n')}\n:put "ok"\n` }, 'notes');
    const env = { SDX_API_URL: 'http://127.0.0.1:9', RGO_SECRETS_KEY: '0123456789abcdef0123456789abcdef', RGO_SECRET_PPPOE: '482913' };
    const plan = await cli(['plan', '--format', 'markdown'], { cwd: r.dir, env });
    const shown = guesses.filter((g) => plan.stdout.includes(`candidate ${g}`));
    // Every candidate is shown as written, or none is: the output does not depend on which one is the secret.
    expect([0, guesses.length], plan.stdout).toContain(shown.length);
  });
});
