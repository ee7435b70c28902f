// A hostile repository: whoever can commit tries to send the SDX token elsewhere, to reach routers
// with values that break out of RouterOS strings, or to make a failure print the token. Nothing
// leaves for another host, nothing is sent when a value cannot stand where it is, and the token is
// nowhere in the daemon's endpoints. (The Action's side, pushes to other branches and fork pull
// requests, is in test/action.test.ts.)
import { describe, expect, it } from 'vitest';
import http from 'node:http';
import { cli, fleetFiles, SITE_IDS } from '../helpers/cli.js';
import { startRawServer } from '../helpers/sandbox.js';
import { useLifecycle } from '../helpers/lifecycle.js';
import { createSdxClient } from '../../src/sdx/client.js';
import { apiUrlFault } from '../../src/core/api-url.js';
import { scanScript } from '../../src/lint/scanner.js';
import { ensureBuilt, eventually, spawnDaemon } from '../daemon-harness.js';
import { unescapeRouterOs } from '../helpers/routeros.js';

const life = useLifecycle();

const TOKEN = `alto_sk_${'Q'.repeat(24)}`;
const FLEET = 'sites/routeros-gitops.yaml';

async function setup(files: Record<string, string>) {
  const { r, sb, env } = await life.fleet(files, { token: TOKEN }, { RGO_POLL_MAX_MS: '60', RGO_SECRETS_KEY: 'hostile-test-secrets-key-42' });
  const listener = await startRawServer((_q, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{}'));
  life.defer(() => listener.close());
  return { r, sb, listener, env };
}

describe('the SDX URL is the operator’s', () => {
  it('a committed api_url pointing at a listener: plan and apply exit 2 at its file and line, and the listener receives nothing', async () => {
    const { r, sb, listener, env } = await setup(fleetFiles(2));
    await r.commit({ [FLEET]: `# fleet settings\nconcurrency: 2\napi_url: ${listener.url}\n` }, 'point the token elsewhere');
    for (const args of [['plan'], ['plan', '--format', 'json'], ['apply'], ['apply', '--format', 'json']]) {
      const res = await cli(args, { cwd: r.dir, env });
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(2);
      expect(res.stderr).toContain(`${FLEET}:3: api_url is "${listener.url}", but the operator's SDX API URL is ${sb.url} (SDX_API_URL)`);
      expect(res.stderr).toMatch(/the repository cannot choose where the SDX token and the scripts are sent/);
    }
    // With no URL from the operator, the default is the operator's: the committed one is still refused.
    const byDefault = await cli(['apply'], { cwd: r.dir, env: { ...env, SDX_API_URL: undefined } });
    expect(byDefault.code).toBe(2);
    expect(byDefault.stderr).toContain("the operator's SDX API URL is https://v1.api.altostrat.io (the default)");
    expect(listener.received).toEqual([]);
    expect(sb.stats().requests).toBe(0);
  });

  it('a committed api_url that repeats the operator’s URL is a pin, and plan names the URL it would use', async () => {
    const { r, sb, listener, env } = await setup(fleetFiles(1));
    await r.commit({ [FLEET]: `api_url: ${sb.url}/\n` }, 'pin the URL');
    const plan = await cli(['plan'], { cwd: r.dir, env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`SDX API: ${sb.url} (SDX_API_URL)`);
    expect((await cli(['plan', '--format', 'json'], { cwd: r.dir, env })).json()).toMatchObject({ sdx_api_url: sb.url });
    const md = await cli(['plan', '--format', 'markdown', '--api-url', `${sb.url}/`], { cwd: r.dir, env: { ...env, SDX_API_URL: listener.url } });
    expect(md.stdout).toContain(`SDX API: \`${sb.url}\` (--api-url)`);
    const apply = await cli(['apply'], { cwd: r.dir, env });
    expect(apply.code, apply.stderr).toBe(0);
    expect(sb.stats().jobsCreated).toBe(2);
    expect(listener.received).toEqual([]);
  });

  it('plain http is refused for every source of the URL unless it is a loopback address', async () => {
    const { r, sb, env } = await setup(fleetFiles(1));
    const cases: Array<[string[], Record<string, string | undefined>, RegExp]> = [
      [['apply'], { SDX_API_URL: 'http://sdx.example.com' }, /\(SDX_API_URL\): the SDX API URL "http:\/\/sdx\.example\.com" uses plain http/],
      [['apply', '--api-url', 'http://10.1.2.3:8080'], {}, /\(--api-url\): the SDX API URL "http:\/\/10\.1\.2\.3:8080" uses plain http/],
      [['plan'], { SDX_API_URL: 'http://user:pw@sdx.example.com' }, /"http:\/\/\*\*\*@sdx\.example\.com" uses plain http/],
      [['watch'], { SDX_API_URL: 'http://[2001:db8::1]' }, /uses plain http/],
      [['apply'], { SDX_API_URL: 'ftp://sdx.example.com' }, /is a ftp: URL/],
    ];
    for (const [args, over, re] of cases) {
      const res = await cli(args, { cwd: r.dir, env: { ...env, ...over } });
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(2);
      expect(res.stderr).toMatch(re);
      expect(res.stderr).not.toContain('pw@');
    }
    expect(sb.stats().requests).toBe(0);
    // The client refuses it too, whoever builds it.
    expect(() => createSdxClient({ baseUrl: 'http://sdx.example.com', token: TOKEN })).toThrow(/plain http/);
    for (const ok of ['https://v1.api.altostrat.io', 'http://127.0.0.1:8787', 'http://127.9.8.7', 'http://localhost:1', 'http://[::1]:1', 'http://127.1'])
      expect(apiUrlFault(ok), ok).toBeNull();
    for (const bad of ['http://128.0.0.1', 'http://localhost.example.com', 'http://0.0.0.0:1', 'http://[::2]', 'http://127.0.0.1.nip.io'])
      expect(apiUrlFault(bad), bad).toMatch(/plain http/);
  });

  it('the token never follows a redirect to another origin', async () => {
    const { r, listener } = await setup(fleetFiles(1));
    // The site list (the check before anything is sent) answers as SDX would; the job requests redirect.
    const redirecting = await startRawServer((q, res) =>
      q.url === '/site-minimal'
        ? res.writeHead(200, { 'content-type': 'application/json' }).end('[]')
        : res.writeHead(307, { location: `${listener.url}/site/x/job` }).end(),
    );
    life.defer(() => redirecting.close());
    const res = await cli(['apply', '--format', 'json'], {
      cwd: r.dir,
      env: { SDX_API_URL: redirecting.url, SDX_API_TOKEN: TOKEN, RGO_RATE_LIMIT: '0', RGO_POLL_INITIAL_MS: '10' },
    });
    expect(res.code).toBe(1);
    expect(res.json<{ results: Array<{ reason: string }> }>().results[0]!.reason).toMatch(/redirect/i);
    expect(listener.received).toEqual([]);
  });
});

/** Values meant to break out of a RouterOS string: ", $, \, ;, a line break and a command. */
const HOSTILE_SECRET = 'Pa$w"o\\rd;\n[/system reset-configuration]';
const HOSTILE_VAR = '"; /system reset-configuration; :put "$[/system reset-configuration]\\\r\nx';

describe('template values cannot break out of a string', () => {
  it('secrets and variables holding " $ \\ ; a line break and [/system reset-configuration] reach the router as inert text inside the string', async () => {
    const files = fleetFiles(1, {
      '00-id.rsc': '/system identity set name="${{ vars.label }}"\n/ppp secret set [find name=isp] password="${{ secrets.pppoe }}"\n',
    });
    files['sites/site-1/site.yaml'] = `id: ${SITE_IDS[0]}\nvars:\n  label: ${JSON.stringify(HOSTILE_VAR)}\n`;
    const { r, sb, env } = await setup(files);
    const res = await cli(['apply', '--format', 'json'], { cwd: r.dir, env: { ...env, RGO_SECRET_PPPOE: HOSTILE_SECRET } });
    expect(res.code, res.stderr).toBe(0);
    const body = sb.jobs(SITE_IDS[0])[0]!.script;
    // As the router reads it: the same two commands, no problem, and each string holds the value as text.
    const scan = scanScript(body);
    expect(scan.problems).toEqual([]);
    expect(scan.statements.map((s) => s.args.slice(0, 3).map((a) => a.text))).toEqual([
      ['/system', 'identity', 'set'],
      ['/ppp', 'secret', 'set'],
    ]);
    const arg = (i: number, name: string) => scan.statements[i]!.args.find((a) => a.text.startsWith(`${name}="`))!.text;
    expect(unescapeRouterOs(arg(0, 'name').slice('name="'.length, -1))).toBe(HOSTILE_VAR);
    expect(unescapeRouterOs(arg(1, 'password').slice('password="'.length, -1))).toBe(HOSTILE_SECRET);
    expect(body.split('\n')).toHaveLength(3); // two lines and the final newline: no line was added
    // The plan shows the variable escaped and the secret as its placeholder; never the secret.
    const md = await cli(['plan', '--format', 'markdown', '--retry-failed'], { cwd: r.dir, env: { ...env, RGO_SECRET_PPPOE: HOSTILE_SECRET } });
    expect(md.stdout + md.stderr).not.toContain('Pa$w');
  });

  it('outside quotes such a value is refused naming the variable, the script and the site, and nothing is sent', async () => {
    const files = fleetFiles(1, { '00-dns.rsc': '/ip dns set servers=1.1.1.1\n', '10-wan.rsc': '/interface ethernet set [find] comment=${{ vars.label }}\n' });
    files['sites/site-1/site.yaml'] = `id: ${SITE_IDS[0]}\nvars:\n  label: ${JSON.stringify(HOSTILE_VAR)}\n`;
    const { r, sb, env } = await setup(files);
    for (const cmd of ['plan', 'apply', 'validate']) {
      const res = await cli([cmd], { cwd: r.dir, env });
      expect(res.code, res.stderr + res.stdout).toBe(2);
      expect(res.stderr + res.stdout).toMatch(
        /sites\/site-1\/10-wan\.rsc:1:40.*\(site site-1\).*the value of vars\.label \(.*\) stands outside quotes and is not a plain word/,
      );
    }
    expect(sb.stats().requests).toBe(0);
  });

  it('a secret outside quotes is refused at apply without ever printing it; without its value, plan cannot tell', async () => {
    const files = fleetFiles(1, { '10-wan.rsc': '/ppp secret set [find name=isp] password=${{ secrets.pppoe }}\n' });
    const { r, sb, env } = await setup(files);
    // Without the value the checks pass (they read a stand-in, not the <secret:...> placeholder); the
    // plan says apply would block the site for the missing value (exit 1), as apply would.
    const plan = await cli(['plan', '--format', 'json'], { cwd: r.dir, env });
    expect(plan.code, plan.stderr).toBe(1);
    const change = plan.json<{ changes: Array<{ findings: unknown[]; blocked_by: { kind: string } | null }> }>().changes[0]!;
    expect(change.findings).toEqual([]);
    expect(change.blocked_by?.kind).toBe('secrets-missing');
    const res = await cli(['apply'], { cwd: r.dir, env: { ...env, RGO_SECRET_PPPOE: HOSTILE_SECRET } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/10-wan\.rsc:1:42 \(site site-1\): the value of secrets\.pppoe stands outside quotes/);
    expect(res.stdout + res.stderr).not.toContain('Pa$w');
    expect(sb.stats().requests).toBe(0);
    // A plain-word secret goes.
    expect((await cli(['apply'], { cwd: r.dir, env: { ...env, RGO_SECRET_PPPOE: 'plain-Word-123' } })).code).toBe(0);
    expect(sb.jobs(SITE_IDS[0])[0]!.script).toBe('/ppp secret set [find name=isp] password=plain-Word-123\n');
  });

  it('a raw value is sent as written and flagged by the checks; made an error, it stops apply', async () => {
    const files = fleetFiles(1, { '10-dns.rsc': '${{{ vars.dns_cmd }}}\n' });
    files['sites/site-1/site.yaml'] = `id: ${SITE_IDS[0]}\nvars:\n  dns_cmd: "/ip dns set servers=9.9.9.9"\n`;
    const { r, sb, env } = await setup(files);
    const plan = await cli(['plan'], { cwd: r.dir, env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/advice sites\/site-1\/10-dns\.rsc:1:1 \$\{\{\{ vars\.dns_cmd \}\}\} inserts its value raw.*\[raw-template-value\]/);
    const v = await cli(['validate', 'sites/site-1/10-dns.rsc'], { cwd: r.dir, env });
    expect(v.stdout).toMatch(/10-dns\.rsc:1:1:.*raw-template-value/);
    expect((await cli(['apply'], { cwd: r.dir, env })).code).toBe(0);
    expect(sb.jobs(SITE_IDS[0])[0]!.script).toBe('/ip dns set servers=9.9.9.9\n');
    await r.commit({ [FLEET]: 'lint:\n  rules:\n    raw-template-value: error\n', 'sites/site-1/10-dns.rsc': '${{{ vars.dns_cmd }}} \n' }, 'raw is an error');
    const refused = await cli(['apply'], { cwd: r.dir, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/\[raw-template-value\]/);
    await r.commit({ [FLEET]: 'lint:\n  rules:\n    raw-template-value: "off"\n' }, 'try to hide it');
    const off = await cli(['plan'], { cwd: r.dir, env });
    expect(off.code).toBe(2);
    expect(off.stderr).toMatch(/raw-template-value.*cannot be turned off/);
  });

  it('a server that quotes the job body back cannot make an escaped secret appear in any output', async () => {
    // startRawServer has read the request's body before it calls this.
    const echo = await startRawServer((q, res) => {
      if (q.url === '/site-minimal') return void res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'invalid_request_error', code: 'parameter_invalid', message: `bad script: ${echo.received.at(-1)?.body ?? ''}` }));
    });
    life.defer(() => echo.close());
    const r = await life.repo(fleetFiles(1, { '10-a.rsc': '/ppp secret set [find name=isp] password="${{ secrets.pppoe }}"\n' }));
    const outputs: string[] = [];
    for (const args of [
      ['--format', 'json'],
      ['--format', 'text', '--retry-failed'],
    ]) {
      const res = await cli(['apply', ...args, '--log-level', 'debug'], {
        cwd: r.dir,
        env: {
          SDX_API_URL: echo.url,
          SDX_API_TOKEN: TOKEN,
          RGO_SECRET_PPPOE: HOSTILE_SECRET,
          RGO_RATE_LIMIT: '0',
          RGO_SECRETS_KEY: 'hostile-test-secrets-key-42',
        },
      });
      expect(res.code, res.stderr).toBe(1);
      outputs.push(res.stdout, res.stderr);
    }
    const all = outputs.join('\n');
    expect(all).toContain('bad script: /ppp secret set [find name=isp] password=\\"***\\"'); // the echo is reported, hidden
    expect(echo.received.find((q) => q.method === 'POST')!.body).toContain('Pa\\$w\\"o\\\\rd;\\n[/system reset-configuration]');
    for (const form of ['Pa$w', 'Pa\\$w', 'Pa\\\\$w', 'reset-configuration]']) expect(all, form).not.toContain(form);
  });

  it('a secret of fewer than 4 characters is refused at load, without showing it', async () => {
    const { r, sb, env } = await setup(fleetFiles(1, { '10-a.rsc': ':put "${{ secrets.pin }}"\n' }));
    const res = await cli(['apply'], { cwd: r.dir, env: { ...env, RGO_SECRET_PIN: 'x7q' } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/\(environment\): the secret "PIN" \(RGO_SECRET_PIN\) is shorter than 4 characters/);
    expect(res.stderr).not.toContain('x7q');
    expect(sb.stats().requests).toBe(0);
  });
});

describe('the daemon’s endpoints', () => {
  it('after a failure whose text holds the token, /healthz and /status show the marker, never the token', async () => {
    ensureBuilt();
    // A committer names a folder after the token: the error about it quotes its path.
    const { r, sb, env } = await setup({ ...fleetFiles(1), [`sites/${TOKEN}/00-a.rsc`]: '/ip dns set servers=1.1.1.1\n' });
    const d = spawnDaemon(['--interval', '1s', '--listen', '127.0.0.1:0'], { cwd: r.dir, env });
    life.defer(() => d.stop(20_000).catch(() => {}));
    const url = await d.url();
    await d.waitFor((l) => l.event === 'reconcile-finished', { timeoutMs: 30_000 });
    const get = (path: string) =>
      new Promise<string>((resolve, reject) => {
        http
          .get(`${url}${path}`, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString('utf8')));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });
    const health = await eventually(async () => {
      const h = await get('/healthz');
      return h.includes('"error"') && !h.includes('"error": null') ? h : undefined;
    });
    const status = await get('/status');
    expect(health).toContain('sites/***: this site folder has no site.yaml'); // the failure was reported, with the token hidden...
    for (const body of [health, status, await get('/metrics')]) expect(body).not.toContain(TOKEN); // ...everywhere
    await d.stop(20_000);
    expect(JSON.stringify(d.logs) + d.text.join('\n')).not.toContain(TOKEN);
    expect(sb.stats().requests).toBe(0);
  }, 60_000);
});
