// Fail fast and name the cause (issue 14): before anything is sent, one request checks the SDX URL
// and the token. A wrong URL or a wrong token stops apply (and sites, init) after that one request,
// exit 3, with the cause in words; a server that dies mid-run is reported as the server, not as a
// router that did not check in; the daemon reports it and tries again on its own schedule.
import type { ServerResponse } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createSdxClient } from '../src/sdx/client.js';
import { networkCause } from '../src/core/sdx-failure.js';
import { SdxAccessError } from '../src/core/errors.js';
import { cli } from './helpers/cli.js';
import { sandboxEnv, useLifecycle } from './helpers/lifecycle.js';
import { startRawServer, waitFor } from './helpers/sandbox.js';
import { ensureBuilt, spawnDaemon } from './daemon-harness.js';

const life = useLifecycle();

/** n sites with two scripts each. */
function fleet(n: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    files[`sites/s${i}/site.yaml`] = `id: aaaaaaaa-bbbb-4ccc-8ddd-${i.toString(16).padStart(12, '0')}\n`;
    files[`sites/s${i}/10-dns.rsc`] = `/ip dns set servers=10.0.0.${i + 1}\n`;
    files[`sites/s${i}/20-ntp.rsc`] = '/system ntp client set enabled=yes\n';
  }
  return files;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
  const t0 = performance.now();
  const out = await fn();
  console.log(`${what}: ${Math.round(performance.now() - t0)} ms`);
  return out;
};

describe('one request checks the URL and the token before anything is sent', () => {
  it('a wrong URL (nothing listening): exit 3, "could not reach SDX at <url> (connection refused)", nothing more attempted', async () => {
    const { r, sb, env } = await life.fleet(fleet(20));
    const url = `http://127.0.0.1:${await closedPort()}`;
    const res = await timed('apply, wrong URL, 20 sites', () => cli(['apply'], { cwd: r.dir, env: { ...env, SDX_API_URL: url } }));
    expect(res.code).toBe(3);
    expect(res.stderr).toContain(`error: could not reach SDX at ${url} (connection refused); nothing was sent`);
    expect(res.stderr).toMatch(/hint: check the SDX API URL/);
    expect(res.stderr + res.stdout).not.toMatch(/SDX answered 0|ECONNREFUSED/);
    expect(sb.stats().requests).toBe(0);
    // Nothing was recorded: no intent (the lease was taken and given back).
    expect((await cli(['status', '--format', 'json'], { cwd: r.dir, env })).json()).toMatchObject({ sites: [] });
    // One attempt, not retried: the client's own count.
    const c = createSdxClient({ baseUrl: url, token: 'a-token-12345', maxRetries: 8 });
    life.defer(() => c.close());
    const err = await c.checkAccess().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SdxAccessError);
    expect(err).toMatchObject({ kind: 'unreachable', status: 0 });
    expect(c.stats().requests).toBe(1);
    // JSON: the machine-readable document says so too.
    const json = await cli(['apply', '--format', 'json'], { cwd: r.dir, env: { ...env, SDX_API_URL: url } });
    expect(json.code).toBe(3);
    expect(json.json()).toMatchObject({ error: { kind: 'sdx-access', reason: 'unreachable', api_url: url }, results: [], exit_code: 3 });
  });

  it('a wrong URL that reaches another server: one request, exit 3, says it is not the SDX API', async () => {
    const { r, sb, env } = await life.fleet(fleet(20));
    const res = await timed('apply, wrong path, 20 sites', () => cli(['apply'], { cwd: r.dir, env: { ...env, SDX_API_URL: `${sb.url}/v2` } }));
    expect(res.code).toBe(3);
    expect(res.stderr).toContain(`the server at ${sb.url}/v2 does not answer as the SDX API does (GET /site-minimal: HTTP 404`);
    expect(sb.requests().map((q) => `${q.method} ${q.path} ${q.status}`)).toEqual(['GET /v2/site-minimal 404']);
  });

  it('a wrong token: one request, exit 3, the server message, never the token', async () => {
    const { r, sb, env } = await life.fleet(fleet(20));
    const token = 'wrong-token-a8f3e1c9d2';
    const res = await timed('apply, wrong token, 20 sites', () => cli(['apply'], { cwd: r.dir, env: { ...env, SDX_API_TOKEN: token } }));
    expect(res.code).toBe(3);
    expect(res.stderr).toContain(`error: SDX at ${sb.url} refused the token (HTTP 401: Unauthenticated.`);
    expect(res.stderr).toMatch(/hint: check SDX_API_TOKEN/);
    expect(sb.requests().map((q) => `${q.method} ${q.path} ${q.status}`)).toEqual(['GET /site-minimal 401']);
    expect(res.stderr + res.stdout).not.toContain(token);
    // A server that quotes the token in its answer: the message shows *** instead.
    const echo = await startRawServer((req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `token ${String(req.headers.authorization).slice(7)} may not read sites` }));
    });
    life.defer(() => echo.close());
    const quoted = await cli(['apply'], { cwd: r.dir, env: { ...env, SDX_API_URL: echo.url, SDX_API_TOKEN: token } });
    expect(quoted.code).toBe(3);
    expect(quoted.stderr).toContain('refused the token (HTTP 403: token *** may not read sites');
    expect(quoted.stderr).not.toContain(token);
    expect(echo.received).toHaveLength(1);
  });

  it('sites and init stop the same way, after one request', async () => {
    const sb = await life.sandbox();
    const dir = (await life.repo()).dir;
    const url = `http://127.0.0.1:${await closedPort()}`;
    for (const args of [['sites'], ['init', 'fleet']]) {
      const wrongUrl = await timed(`${args[0]}, wrong URL`, () => cli(args, { cwd: dir, env: { ...sandboxEnv(sb), SDX_API_URL: url } }));
      expect(wrongUrl.code).toBe(3);
      expect(wrongUrl.stderr).toContain(`could not reach SDX at ${url} (connection refused)`);
      const before = sb.requests().length;
      const wrongToken = await timed(`${args[0]}, wrong token`, () => cli(args, { cwd: dir, env: { ...sandboxEnv(sb), SDX_API_TOKEN: 'not-the-token-1234' } }));
      expect(wrongToken.code).toBe(3);
      expect(wrongToken.stderr).toContain('refused the token (HTTP 401: Unauthenticated.');
      expect(sb.requests().length - before).toBe(1);
    }
  });

  it('a check answered with a redirect or an HTML page: exit 3, the token never leaves for another host', async () => {
    const { r, env } = await life.fleet(fleet(2));
    const elsewhere = await startRawServer((_q, res) => res.end('[]'));
    life.defer(() => elsewhere.close());
    for (const [answer, words] of [
      [(res: ServerResponse) => res.writeHead(302, { location: `${elsewhere.url}/site-minimal` }).end(), /HTTP 302 redirect .* to another host/],
      [(res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'), /not JSON/],
    ] as const) {
      const server = await startRawServer((_q, res) => answer(res));
      life.defer(() => server.close());
      const res = await cli(['apply'], { cwd: r.dir, env: { ...env, SDX_API_URL: server.url } });
      expect(res.code).toBe(3);
      expect(res.stderr).toMatch(new RegExp(`the server at ${server.url} does not answer as the SDX API does`));
      expect(res.stderr).toMatch(words);
      expect(server.received).toHaveLength(1);
    }
    expect(elsewhere.received).toEqual([]);
  });

  it('TLS and name failures are named', async () => {
    // https to a plain-http server: a TLS error, not retried.
    const plain = await startRawServer((_req, res) => res.end('{}'));
    life.defer(() => plain.close());
    const c = createSdxClient({ baseUrl: plain.url.replace('http:', 'https:'), token: 'a-token-12345', maxRetries: 8 });
    life.defer(() => c.close());
    const err = (await c.checkAccess().catch((e: unknown) => e)) as SdxAccessError;
    expect(err.message).toMatch(/^could not reach SDX at https:\/\/127\.0\.0\.1:\d+ \(TLS error: [A-Z_]+\); nothing was sent$/);
    expect(c.stats().requests).toBe(1);
    expect(networkCause('ENOTFOUND')).toBe('DNS lookup failed: no such host');
    expect(networkCause('EAI_AGAIN')).toBe('DNS lookup failed (temporary failure)');
    expect(networkCause('UND_ERR_CONNECT_TIMEOUT')).toBe('connection timed out');
    expect(networkCause('CERT_HAS_EXPIRED')).toBe('TLS error: CERT_HAS_EXPIRED');
  });

  it('a run with nothing to do checks too, and an apply that goes ahead makes its check once', async () => {
    const { r, sb, env } = await life.fleet(fleet(2));
    expect((await cli(['apply'], { cwd: r.dir, env })).code).toBe(0);
    const gets = sb.requests().filter((q) => q.path === '/site-minimal');
    expect(gets).toHaveLength(1);
    expect(sb.requests()[0]!.path).toBe('/site-minimal');
  });
});

describe('a server that dies mid-run', () => {
  it('is reported as the server ("lost contact with SDX at <url>"), never as a router that has not checked in', async () => {
    // Routers that never check in: the jobs stay queued while apply follows them.
    const { r, sb, env } = await life.fleet(fleet(3), { checkinIntervalMs: 3_600_000 });
    const run = cli(['apply', '--format', 'json'], { cwd: r.dir, env: { ...env, RGO_SDX_MAX_RETRIES: '1', RGO_POLL_MAX_MS: '30' } });
    await waitFor(() => sb.jobs().length === 3, 10_000, 'the first job of each site');
    await sb.close();
    const res = await run;
    expect(res.code).toBe(1);
    const out = res.json<{ results: Array<{ outcome: string; reason: string; job_id: string | null }> }>();
    expect(out.results).toHaveLength(6);
    const text = JSON.stringify(out);
    expect(text).not.toMatch(/checked in|is it online|picked it up/);
    for (const x of out.results.filter((y) => y.job_id)) {
      expect(x.outcome).toBe('timed_out');
      expect(x.reason).toMatch(
        new RegExp(
          `^lost contact with SDX at ${sb.url} \\(connection refused\\) while following job [0-9a-f-]+, queued when last seen: it may still run on the router, and the next run follows it$`,
        ),
      );
    }
    // The later script of each site was never sent: blocked behind the one SDX could not report on.
    expect(out.results.filter((y) => !y.job_id).map((y) => y.outcome)).toEqual(['blocked', 'blocked', 'blocked']);
  });
});

describe('the daemon', () => {
  it('reports a refused token and tries again on its own schedule, without exiting', async () => {
    ensureBuilt();
    const { r, sb, env } = await life.fleet(fleet(2));
    const d = spawnDaemon(['--retry-interval', '100ms', '--jitter', '0'], { cwd: r.dir, env: { ...env, SDX_API_TOKEN: 'not-the-token-1234' } });
    life.defer(() => d.stop());
    const first = await d.waitFor((l) => l.event === 'reconcile-finished', { what: 'the first run' });
    expect(first).toMatchObject({ result: 'error', retry: true });
    expect(String(first.err)).toContain(`SDX at ${sb.url} refused the token (HTTP 401`);
    await d.waitFor((l) => l.event === 'reconcile-finished', { from: d.logs.indexOf(first) + 1, what: 'the retry' });
    expect(d.child.exitCode).toBe(null);
    expect(sb.stats().jobsCreated).toBe(0);
    expect(sb.requests().every((q) => q.path === '/site-minimal' && q.status === 401)).toBe(true);
  });
});
