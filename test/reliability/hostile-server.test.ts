// A hostile SDX server: answers that are not JSON, truncated, huge, wrongly shaped, or redirecting to
// another host. apply ends with a clear error, never crashes, never sends the token elsewhere.
import { afterEach, describe, expect, it } from 'vitest';
import type http from 'node:http';
import { createTempRepo } from '../helpers/git-repo.js';
import { cli, fleetFiles } from '../helpers/cli.js';
import { startRawServer, type RawServer } from '../helpers/sandbox.js';

const TOKEN = `alto_sk_${'h'.repeat(40)}`;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

type Answer = (req: http.IncomingMessage, res: http.ServerResponse, other: RawServer) => void;

const job = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: '8b8b2e5e-1a19-4a19-8b19-1e1919191919',
    token: 'abc',
    site_id: '11111111-1111-4111-8111-111111111111',
    idempotency_key: '7c7c1e4e-1918-4918-8a18-1e1818181818',
    description: 'x',
    express_execute: false,
    needs_acknowledgement: true,
    should_backup: false,
    associated_backup: null,
    started_at: null,
    completed_at: null,
    failed_at: null,
    created_at: new Date().toISOString(),
    log_url: 'logs?x',
    ...over,
  });

const answers: Array<[string, Answer, RegExp]> = [
  ['not JSON (an HTML page with 200)', (_q, r) => r.writeHead(201, { 'content-type': 'text/html' }).end('<html>maintenance</html>'), /not (valid )?JSON/i],
  ['truncated JSON', (_q, r) => r.writeHead(201, { 'content-type': 'application/json' }).end('{"id": "8b8b2e5e-1a19'), /not (valid )?JSON|truncated/i],
  [
    'a wrongly shaped job',
    (_q, r) => r.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ hello: 'world' })),
    /shape|expected|missing|not a job/i,
  ],
  ['a job with a wrong type', (_q, r) => r.writeHead(201, { 'content-type': 'application/json' }).end(job({ id: 42 })), /shape|expected|id/i],
  [
    'a 100 MB body',
    (_q, r) => {
      r.writeHead(201, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 100 && r.write(chunk)) sent++;
        if (sent < 100) r.once('drain', pump);
        else r.end();
      };
      r.on('error', () => {});
      pump();
    },
    /too large|larger than|MiB|bytes/i,
  ],
  ['a redirect to another host', (_q, r, other) => r.writeHead(307, { location: `${other.url}/site/x/job` }).end(), /redirect/i],
  ['a 401 from the gateway', (_q, r) => r.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Unauthenticated."}'), /401.*Unauthenticated/],
];

/** GET /site-minimal as SDX answers it (the one request made before anything is sent). */
const sdxSiteList = (r: http.ServerResponse) => void r.writeHead(200, { 'content-type': 'application/json' }).end('[]');

describe('hostile SDX server', () => {
  it.each(answers)(
    '%s: a clear error, no crash, the token stays home',
    async (_name, answer, expected) => {
      const other = await startRawServer((_q, r) => r.writeHead(201).end(job()));
      // The site list (the check before anything is sent) answers as SDX would; the job requests get the hostile answer.
      const server = await startRawServer((q, r) => (q.url === '/site-minimal' ? sdxSiteList(r) : answer(q, r, other)));
      const repo = await createTempRepo({ files: fleetFiles(1) });
      cleanups.push(
        () => other.close(),
        () => server.close(),
        () => repo.cleanup(),
      );
      const res = await cli(['apply', '--format', 'json'], {
        cwd: repo.dir,
        env: { SDX_API_URL: server.url, SDX_API_TOKEN: TOKEN, RGO_RATE_LIMIT: '0', RGO_POLL_INITIAL_MS: '10' },
      });
      expect(res.code).toBe(1);
      const out = res.json<{ results: Array<{ outcome: string; reason: string }> }>();
      expect(out.results[0]!.outcome).toBe('failed');
      expect(out.results[0]!.reason).toMatch(expected);
      expect(out.results[1]!.outcome).toBe('blocked');
      expect(res.stdout + res.stderr).not.toContain(TOKEN);
      expect(res.stdout + res.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
      expect(other.received).toEqual([]); // nothing, let alone the token, went to the other host
      for (const r of server.received) expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
    },
    60_000,
  );

  it('a password inside SDX_API_URL never appears in any output', async () => {
    const server = await startRawServer((q, r) =>
      q.url === '/site-minimal' ? sdxSiteList(r) : r.writeHead(500, { 'content-type': 'text/html' }).end('<h1>boom</h1>'),
    );
    const repo = await createTempRepo({ files: fleetFiles(1) });
    cleanups.push(
      () => server.close(),
      () => repo.cleanup(),
    );
    const url = server.url.replace('http://', 'http://admin:Hunter2-pass@');
    const res = await cli(['apply', '--log-level', 'debug'], { cwd: repo.dir, env: { SDX_API_URL: url, SDX_API_TOKEN: TOKEN, RGO_RATE_LIMIT: '0' } });
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).not.toContain('Hunter2-pass');
    expect(res.stdout + res.stderr).not.toContain(TOKEN);
    expect(res.stdout + res.stderr).toMatch(/500/);
  }, 90_000);
});
