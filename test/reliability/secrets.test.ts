// Secrets stay out of every output: tokens, a password in SDX_API_URL, credentials in a git remote
// URL that git quotes in its errors, and template secrets; searched in what the CLI prints, the
// daemon's logs and HTTP endpoints, and the state with its whole history. (The Action's side is in
// test/action.test.ts, expectNoSecrets.)
import { describe, expect, it } from 'vitest';
import { cli, fleetFiles } from '../helpers/cli.js';
import { useLifecycle } from '../helpers/lifecycle.js';
import { spawnDaemon, ensureBuilt } from '../daemon-harness.js';

const life = useLifecycle();

const SDX = `alto_sk_${'S'.repeat(32)}`;
const GH = `ghp_${'G'.repeat(36)}`;
const GIT_PASS = 'GitPassw0rd-9876';
const URL_PASS = 'UrlPassw0rd-5432';
const TPL = 'Templ4te-Secret-1111';
const KEY = 'Secrets-Key-0123456789-abcdef';

describe('secrets never appear in any output', () => {
  it('CLI: plan, apply, status, validate with every kind of secret set, a failing git remote with credentials, and debug logs', async () => {
    const files = fleetFiles(2, { '00-a.rsc': ':put "${{ secrets.wifi }}"\n' });
    const r = await life.repo(files);
    const sb = await life.sandbox({ token: SDX });
    // A remote whose URL carries credentials and cannot be reached: git's errors quote the URL.
    await r.git(['remote', 'add', 'origin', `http://deploy:${GIT_PASS}@127.0.0.1:9/config.git`]);
    const env = {
      SDX_API_URL: sb.url.replace('http://', `http://user:${URL_PASS}@`),
      SDX_API_TOKEN: SDX,
      GITHUB_TOKEN: GH,
      RGO_SECRET_WIFI: TPL,
      RGO_SECRETS_KEY: KEY,
      RGO_RATE_LIMIT: '0',
      RGO_POLL_INITIAL_MS: '20',
    };
    const outputs: string[] = [];
    for (const args of [['plan'], ['plan', '--format', 'json'], ['plan', '--format', 'markdown'], ['apply', '--format', 'json'], ['status'], ['validate']]) {
      const res = await cli([...args, '--log-level', 'debug'], { cwd: r.dir, env });
      outputs.push(res.stdout, res.stderr);
    }
    // Without the unreachable remote the apply goes through; the job body is the only place the secret goes.
    for (const args of [
      ['apply', '--format', 'json', '--state-remote', ''],
      ['apply', '--state-remote', ''],
      ['plan', '--format', 'markdown', '--state-remote', ''],
    ]) {
      const res = await cli([...args, '--log-level', 'debug'], { cwd: r.dir, env });
      outputs.push(res.stdout, res.stderr);
    }
    expect(sb.jobs().some((j) => j.script.includes(TPL))).toBe(true);
    outputs.push(await r.git(['log', '-p', '--all']));
    const joined = outputs.join('\n');
    expect(joined).toMatch(/127\.0\.0\.1:9/); // the failing remote was reported...
    for (const s of [SDX, GH, GIT_PASS, URL_PASS, TPL, KEY]) expect(joined, s).not.toContain(s); // ...without its credentials
  });

  it('daemon: logs, endpoints and the state of a run with every secret set', async () => {
    ensureBuilt();
    const files = fleetFiles(1, { '00-a.rsc': ':put "${{ secrets.wifi }}"\n' });
    const r = await life.repo(files);
    const sb = await life.sandbox({ token: SDX });
    const d = spawnDaemon(['--interval', '1s', '--log-level', 'debug', '--listen', '127.0.0.1:0'], {
      cwd: r.dir,
      env: {
        SDX_API_URL: sb.url.replace('http://', `http://user:${URL_PASS}@`),
        SDX_API_TOKEN: SDX,
        GITHUB_TOKEN: GH,
        RGO_SECRET_WIFI: TPL,
        RGO_SECRETS_KEY: KEY,
        RGO_RATE_LIMIT: '0',
        RGO_POLL_INITIAL_MS: '20',
      },
    });
    const url = await d.url();
    await d.waitFor((l) => l.event === 'reconcile-finished', { timeoutMs: 30_000 });
    const endpoints = await Promise.all(['/healthz', '/status', '/metrics'].map(async (p) => (await fetch(`${url}${p}`)).text()));
    expect(endpoints[1]).toContain('00-a.rsc');
    await d.stop(20_000);
    const all = [JSON.stringify(d.logs), d.text.join('\n'), ...endpoints, await r.git(['log', '-p', '--all'])].join('\n');
    for (const s of [SDX, GH, URL_PASS, TPL, KEY]) expect(all, s).not.toContain(s);
    expect(sb.jobs()[0]!.script).toContain(TPL);
  }, 60_000);
});
