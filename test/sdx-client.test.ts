// The SDX client against the sandbox (and, for answers the sandbox never gives, a hand-written
// loopback server). Every request the client sends to the sandbox is checked by an independent
// OpenAPI validator over spec/sdx-api.openapi.yaml.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { v4 as uuidv4 } from 'uuid';
import { InputError, SdxApiError } from '../src/core/errors.js';
import { createSdxClient, parseRetryAfter, type SdxClientOptions } from '../src/sdx/client.js';
import { RateLimiter } from '../src/sdx/rate-limiter.js';
import { FAULT_KINDS, startSandbox, type ReplayAnswer, type Sandbox, type SandboxOptions } from '../src/sandbox/sandbox.js';
import { jobState, type CreateJobRequest, type SdxClient } from '../src/core/jobs.js';
import {
  captureLogger,
  createSpecValidator,
  SITE_A,
  SITE_OFF,
  SITE_UNKNOWN,
  sampleJob,
  startRawServer,
  waitFor,
  type CapturedLogger,
  type RawServer,
  type SpecValidator,
} from './helpers/sandbox.js';

const TOKEN = 'alto_sk_live_TOPSECRET_0123456789';

let validator: SpecValidator;
beforeAll(async () => {
  validator = await createSpecValidator();
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function sandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const sb = await startSandbox({
    token: TOKEN,
    sites: [{ id: SITE_A }, { id: SITE_OFF, online: false }],
    checkinIntervalMs: 30,
    runMs: 10,
    expressDelayMs: 5,
    inspectRequest: validator.inspect,
    ...opts,
  });
  cleanups.push(() => sb.close());
  return sb;
}

function client(baseUrl: string, opts: Partial<SdxClientOptions> = {}): SdxClient & { logger: CapturedLogger } {
  const logger = captureLogger();
  const c = createSdxClient({
    baseUrl,
    token: TOKEN,
    requestsPerMinute: 0,
    retryBaseDelayMs: 2,
    retryMaxDelayMs: 20,
    random: 42,
    replayClockSkewMs: 0,
    requestTimeoutMs: 2000,
    logger,
    ...opts,
  });
  cleanups.push(() => c.close());
  return Object.assign(c, { logger });
}

async function raw(handler: Parameters<typeof startRawServer>[0]): Promise<RawServer> {
  const s = await startRawServer(handler);
  cleanups.push(() => s.close());
  return s;
}

function jobRequest(over: Partial<CreateJobRequest> = {}): CreateJobRequest {
  return {
    siteId: SITE_A,
    idempotencyKey: uuidv4(),
    description: 'Add guest firewall rule',
    script: '/ip firewall filter add chain=forward action=accept',
    needsAck: true,
    backup: false,
    express: false,
    ...over,
  };
}

async function caught(p: Promise<unknown>): Promise<SdxApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SdxApiError) return e;
    throw e;
  }
  throw new Error('expected an SdxApiError');
}

describe('happy path', () => {
  it('creates, reads, lists and follows a job to completion; every request matches the spec', async () => {
    const sb = await sandbox();
    const c = client(sb.url);
    const before = validator.seen();
    const req = jobRequest({ backup: true, express: true });
    const { job, replayed } = await c.createJob(req);
    expect(replayed).toBe(false);
    expect(job).toMatchObject({
      site_id: SITE_A,
      idempotency_key: req.idempotencyKey,
      description: req.description,
      should_backup: true,
      express_execute: true,
      script: req.script,
    });
    const done = await waitFor(
      async () => {
        const j = await c.getJob(SITE_A, job.id);
        return jobState(j) === 'succeeded' && j;
      },
      3000,
      'the job to succeed',
    );
    expect(done.started_at).not.toBeNull();
    const list = await c.listJobs(SITE_A);
    expect(list.map((j) => j.id)).toEqual([job.id]);
    expect(await c.getSite(SITE_A)).toMatchObject({ id: SITE_A, has_pulse: true });
    expect(await c.getSite(SITE_OFF)).toMatchObject({ has_pulse: false });
    const queued = await c.createJob(jobRequest({ siteId: SITE_OFF, needsAck: false }));
    expect(await c.cancelJob(SITE_OFF, queued.job.id)).toBe('cancelled');
    expect(validator.seen() - before).toBe(c.stats().requests);
    expect(validator.violations).toEqual([]);
    const s = c.stats();
    expect(s.retries).toBe(0);
    expect(s.byStatus['201']).toBe(2);
  });

  it('sends exactly the documented headers, booleans spelled true/false, and the script as text/plain', async () => {
    const s = await raw((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify(sampleJob({ idempotency_key: '11111111-1111-4111-8111-111111111111' })));
    });
    const c = client(s.url);
    await c.createJob(jobRequest({ idempotencyKey: '11111111-1111-4111-8111-111111111111', needsAck: false, backup: true, express: false }));
    const r = s.received[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe(`/site/${SITE_A}/job`);
    expect(r.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'text/plain; charset=utf-8',
      'x-idempotency-key': '11111111-1111-4111-8111-111111111111',
      'x-description': 'Add guest firewall rule',
      'x-needs-ack': 'false',
      'x-backup': 'true',
      'x-express-execute': 'false',
    });
    expect(r.body).toBe('/ip firewall filter add chain=forward action=accept');
    expect(validator.check({ method: r.method, path: r.url, query: {}, headers: r.headers, body: r.body })).toEqual([]);
  });

  it('refuses bad input before sending anything', async () => {
    const s = await raw((_req, res) => res.end());
    const c = client(s.url);
    await expect(c.createJob(jobRequest({ description: 'ab' }))).rejects.toThrow(InputError);
    await expect(c.createJob(jobRequest({ description: 'new\nline' }))).rejects.toThrow(/printable ASCII/);
    await expect(c.createJob(jobRequest({ idempotencyKey: 'k1' }))).rejects.toThrow(/idempotencyKey "k1" is not a UUID/);
    await expect(c.getJob('../x', SITE_A)).rejects.toThrow(InputError);
    expect(s.received).toHaveLength(0);
  });

  it('accepts a {"data": ...} wrapping and fills a missing site_id', async () => {
    const s = await raw((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const { site_id: _drop, ...job } = sampleJob();
      res.end(JSON.stringify(req.url?.endsWith('/job') ? { data: [job] } : { data: job }));
    });
    const c = client(s.url);
    expect((await c.listJobs(SITE_A))[0]).toMatchObject({ id: sampleJob().id, site_id: SITE_A });
    expect(await c.getJob(SITE_A, String(sampleJob().id))).toMatchObject({ site_id: SITE_A });
  });
});

describe('idempotency and exactly-once', () => {
  const settings: ReplayAnswer[] = ['original-201', 'original-200', 'conflict-409', 'conflict-400'];

  it.each(settings)('a repeated key returns the original job with replayed=true (server answers %s)', async (replayAnswer) => {
    const sb = await sandbox({ replayAnswer });
    const c = client(sb.url);
    const req = jobRequest();
    const first = await c.createJob(req);
    await new Promise((r) => setTimeout(r, 5));
    const again = await c.createJob(req);
    expect(again.job.id).toBe(first.job.id);
    expect(again.replayed).toBe(true);
    expect(sb.createdCount(SITE_A, req.idempotencyKey)).toBe(1);
    expect(validator.violations).toEqual([]);
  });

  it.each(settings)('a POST whose answer was lost after the job was created yields exactly one job (replays answered %s)', async (replayAnswer) => {
    const sb = await sandbox({ replayAnswer, faults: { probability: 1, kinds: ['lostAfter'], limit: 1 } });
    const c = client(sb.url);
    const req = jobRequest();
    const { job } = await c.createJob(req);
    expect(sb.createdCount(SITE_A, req.idempotencyKey)).toBe(1);
    expect(sb.jobs(SITE_A).map((j) => j.id)).toEqual([job.id]);
    const s = c.stats();
    expect(s.retries).toBe(1);
    expect(Object.keys(s.retriesByCause)).toEqual([expect.stringMatching(/^(connection_reset|socket_closed)$/)]);
  });

  it('a connection reset before creation is retried and creates the job once', async () => {
    const sb = await sandbox({ faults: { probability: 1, kinds: ['resetBefore'], limit: 2 } });
    const c = client(sb.url);
    const req = jobRequest();
    const r = await c.createJob(req);
    expect(r.replayed).toBe(false);
    expect(sb.createdCount(SITE_A, req.idempotencyKey)).toBe(1);
    expect(c.stats().retries).toBe(2);
  });

  it.each(['conflict-409', 'original-200'] as const)(
    'faults of every kind on 30 percent of requests over 200 POSTs (100 keys, twice each, 32 at a time; replays %s) still create exactly one job per key',
    async (replayAnswer) => {
      const sb = await sandbox({
        replayAnswer,
        autoSites: true,
        faults: { probability: 0.3, kinds: [...FAULT_KINDS], seed: 2024, stallMs: 20, retryAfterSeconds: 0 },
      });
      const c = client(sb.url, { maxRetries: 12 });
      const reqs = Array.from({ length: 100 }, (_, i) => jobRequest({ idempotencyKey: uuidv4(), description: `change ${i}` }));
      const work = [...reqs, ...reqs];
      const results: Array<{ key: string; id: string }> = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < work.length) {
            const req = work[next++]!;
            const { job } = await c.createJob(req);
            results.push({ key: req.idempotencyKey, id: job.id });
          }
        }),
      );
      expect(sb.stats().posts).toBeGreaterThanOrEqual(200);
      const faults = Object.values(sb.stats().faults).reduce((a, b) => a + b, 0);
      expect(faults).toBeGreaterThan(40);
      expect(Object.keys(sb.stats().faults).sort()).toEqual([...FAULT_KINDS].sort());
      for (const req of reqs) expect(sb.createdCount(SITE_A, req.idempotencyKey), req.idempotencyKey).toBe(1);
      const byKey = new Map(sb.jobs(SITE_A).map((j) => [j.idempotency_key, j.id]));
      expect(byKey.size).toBe(100);
      for (const r of results) expect(r.id).toBe(byKey.get(r.key));
      expect(c.stats().retries).toBeGreaterThan(0);
      expect(validator.violations).toEqual([]);
    },
  );

  it('reports a conflict whose job cannot be found, clearly', async () => {
    const s = await raw((req, res) => {
      res.writeHead(req.method === 'POST' ? 409 : 200, { 'content-type': 'application/json' });
      res.end(
        req.method === 'POST' ? JSON.stringify({ type: 'invalid_request_error', code: 'idempotency_key_in_use', message: 'key used', doc_url: 'x' }) : '[]',
      );
    });
    const c = client(s.url, { conflictLookupAttempts: 2 });
    const err = await caught(c.createJob(jobRequest()));
    expect(err.status).toBe(409);
    expect(err.message).toMatch(
      /key used - the server reports idempotency key .* as used, but no job with that key is in the site's job list \(looked 2 times\)/,
    );
  });
});

describe('retries', () => {
  it('honours Retry-After in seconds and holds the whole client meanwhile', async () => {
    const sb = await sandbox({ faults: { probability: 1, kinds: ['throttle429'], retryAfterSeconds: 1, limit: 1, methods: ['GET'] } });
    const c = client(sb.url);
    const t = performance.now();
    await c.getSite(SITE_A);
    expect(performance.now() - t).toBeGreaterThanOrEqual(990);
    expect(c.stats()).toMatchObject({ retries: 1, retriesByCause: { http_429: 1 }, byStatus: { '429': 1, '200': 1 } });
    const warn = c.logger.lines.map((l) => JSON.parse(l) as { level: string; delayMs?: number }).find((l) => l.level === 'warn');
    expect(warn?.delayMs).toBe(1000);
  });

  it('honours Retry-After as an HTTP-date', async () => {
    const s = await raw((_req, res, n) => {
      if (n === 1) {
        res.writeHead(503, { 'retry-after': new Date(Date.now() + 1500).toUTCString(), 'content-type': 'text/plain' });
        res.end('busy');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: SITE_A, has_pulse: true }));
      }
    });
    const c = client(s.url);
    const t = performance.now();
    await c.getSite(SITE_A);
    const warn = JSON.parse(c.logger.lines.find((l) => l.includes('"warn"'))!) as { delayMs: number; cause: string };
    expect(warn.cause).toBe('http_503');
    expect(warn.delayMs).toBeGreaterThan(400);
    expect(warn.delayMs).toBeLessThanOrEqual(1500);
    expect(performance.now() - t).toBeGreaterThanOrEqual(warn.delayMs - 5);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:58 GMT'))).toBe(2000);
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('backs off (full jitter, seeded) on 500, 502, 503 and 429 without Retry-After, then succeeds', async () => {
    const kinds = ['error500', 'html502', 'unavailable503', 'throttle429NoRetryAfter'] as const;
    const sb = await sandbox({ faults: { probability: 1, kinds: [...kinds], limit: 4, seed: 3 } });
    const c = client(sb.url);
    await c.listJobs(SITE_A);
    const s = c.stats();
    expect(s.retries).toBe(4);
    expect(Object.keys(s.retriesByCause).every((k) => /^http_(500|502|503|429)$/.test(k))).toBe(true);
    const delays = c.logger.lines
      .map((l) => JSON.parse(l) as { level: string; delayMs?: number })
      .filter((l) => l.level === 'warn')
      .map((l) => l.delayMs!);
    // Ceiling 2 ms, doubling: each delay is within [0, 2 * 2^n].
    delays.forEach((d, n) => {
      expect(d).toBeLessThanOrEqual(2 * 2 ** n);
    });
  });

  it('gives up after maxRetries with the last cause, and fails at once on a Retry-After beyond maxRetryAfterMs', async () => {
    const sb = await sandbox({ faults: { probability: 1, kinds: ['html502'] } });
    const c = client(sb.url, { maxRetries: 2 });
    const err = await caught(c.getSite(SITE_A));
    expect(err.status).toBe(502);
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(`SDX GET /sites/${SITE_A}: HTTP 502 from ${new URL(sb.url).host} (not JSON, text/html) (gave up after 3 attempts)`);
    sb.configure({ faults: { probability: 1, kinds: ['throttle429'], retryAfterSeconds: 3600 } });
    const t = performance.now();
    const long = await caught(c.getSite(SITE_A));
    expect(performance.now() - t).toBeLessThan(500);
    expect(long.message).toMatch(/retry after 3600 s, longer than maxRetryAfterMs/);
  });

  it('times out a stalled answer and retries it', async () => {
    const sb = await sandbox({ faults: { probability: 1, kinds: ['stall'], stallMs: 400, limit: 1 } });
    const c = client(sb.url, { requestTimeoutMs: 100 });
    await c.getSite(SITE_A);
    expect(c.stats().retriesByCause).toEqual({ timeout: 1 });
  });

  it('times out each stalled request at its own deadline, queued ones included, and keeps no timer once idle', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const s = await raw((req, res) => {
      if (req.url?.startsWith('/sites/')) return; // never answers
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[]');
    });
    const c = client(s.url, { requestTimeoutMs: 150, maxRetries: 0, connections: 2 });
    const t0 = performance.now();
    // Two start at once; two wait for a connection, and their time counts from the call.
    const first = Array.from({ length: 4 }, () => caught(c.getSite(SITE_A)).then((e) => ({ e, at: performance.now() - t0 })));
    await new Promise((r) => setTimeout(r, 100));
    const later = caught(c.getSite(SITE_A)).then((e) => ({ e, at: performance.now() - t0 }));
    const all = await Promise.all([...first, later]);
    for (const { e } of all) expect(e).toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT', retryable: true });
    for (const { at } of all.slice(0, 4)) {
      expect(at).toBeGreaterThanOrEqual(145);
      expect(at).toBeLessThan(240);
    }
    expect(all[4]!.at).toBeGreaterThanOrEqual(245);
    expect(all[4]!.at).toBeLessThan(340);
    // Answered requests leave no timer behind.
    await c.listJobs(SITE_A);
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('keeps under a server rate limit with its own shared limiter (no 429)', async () => {
    const sb = await sandbox({ rateLimit: { requestsPerMinute: 4, windowMs: 400 } });
    const limiter = new RateLimiter(4, 420);
    const a = client(sb.url, { rateLimiter: limiter });
    const b = client(sb.url, { rateLimiter: limiter });
    const t = performance.now();
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).getSite(SITE_A)));
    expect(performance.now() - t).toBeGreaterThanOrEqual(800);
    expect(sb.stats().rateLimited).toBe(0);
  });

  it('shares the default limiter between clients of the same token and API', async () => {
    const sb = await sandbox();
    const a = client(sb.url, { requestsPerMinute: 3, rateLimitWindowMs: 300 });
    const b = client(sb.url, { requestsPerMinute: 3, rateLimitWindowMs: 300 });
    const t = performance.now();
    await Promise.all([a.getSite(SITE_A), a.getSite(SITE_A), b.getSite(SITE_A), b.getSite(SITE_A)]);
    expect(performance.now() - t).toBeGreaterThanOrEqual(280);
  });
});

describe('cancelJob', () => {
  it.each([
    [204, 409],
    [200, 400],
  ] as const)('maps DELETE %i to cancelled, %i job_already_started to already_started, 404 to not_found', async (deleteStatus, deleteStartedStatus) => {
    const sb = await sandbox({ deleteStatus, deleteStartedStatus, checkinIntervalMs: 10, runMs: 60_000 });
    const c = client(sb.url);
    const queued = await c.createJob(jobRequest({ siteId: SITE_OFF }));
    expect(await c.cancelJob(SITE_OFF, queued.job.id)).toBe('cancelled');
    expect(await c.cancelJob(SITE_OFF, queued.job.id)).toBe('not_found');
    const running = await c.createJob(jobRequest());
    await waitFor(async () => jobState(await c.getJob(SITE_A, running.job.id)) === 'running', 3000, 'the job to start');
    expect(await c.cancelJob(SITE_A, running.job.id)).toBe('already_started');
    expect(await c.cancelJob(SITE_A, uuidv4())).toBe('not_found');
    expect(validator.violations).toEqual([]);
  });

  it('counts a DELETE whose answer was lost, then 404, as cancelled', async () => {
    const sb = await sandbox({ faults: { probability: 1, kinds: ['lostAfter'], limit: 1, methods: ['DELETE'] } });
    const c = client(sb.url);
    const queued = await c.createJob(jobRequest({ siteId: SITE_OFF }));
    expect(await c.cancelJob(SITE_OFF, queued.job.id)).toBe('cancelled');
    expect(sb.jobs(SITE_OFF)[0]!.cancelled).toBe(true);
  });

  it('throws for other answers', async () => {
    const s = await raw((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'invalid_request_error', code: 'parameter_invalid', message: 'bad', doc_url: 'x' }));
    });
    const err = await caught(client(s.url).cancelJob(SITE_A, SITE_A));
    expect(err).toMatchObject({ status: 400, code: 'parameter_invalid', type: 'invalid_request_error', retryable: false });
  });
});

describe('errors', () => {
  it('keeps status, code, type and message from an ErrorResponse and from the 401 gateway shape', async () => {
    const sb = await sandbox();
    const c = client(sb.url);
    const missing = await caught(c.createJob(jobRequest({ siteId: SITE_UNKNOWN })));
    expect(missing).toMatchObject({ status: 404, code: 'not_found', type: 'invalid_request_error', retryable: false });
    expect(missing.message).toBe(`SDX POST /site/${SITE_UNKNOWN}/job: HTTP 404 not_found: No site with id ${SITE_UNKNOWN}.`);
    const bad = client(sb.url, { token: 'alto_sk_WRONG_token_value' });
    const denied = await caught(bad.getSite(SITE_A));
    expect(denied).toMatchObject({ status: 401, code: undefined, retryable: false });
    expect(denied.message).toBe(`SDX GET /sites/${SITE_A}: HTTP 401: Unauthenticated. - the SDX API token was refused: check it is valid and not expired`);
    expect(denied.message).not.toContain('alto_sk_WRONG_token_value');
  });

  it('never follows a redirect, and never sends the token to the other host', async () => {
    const other = await raw((_req, res) => res.end('{}'));
    const s = await raw((_req, res) => {
      res.writeHead(302, { location: `${other.url}/site/x/job?token=${TOKEN}` });
      res.end();
    });
    const c = client(s.url);
    const err = await caught(c.getSite(SITE_A));
    expect(err).toMatchObject({ status: 302, code: 'redirect', retryable: false });
    expect(err.message).toBe(
      `SDX GET /sites/${SITE_A}: HTTP 302 redirect from ${new URL(s.url).host} to another host, ${new URL(other.url).host}; redirects are not followed (check the SDX base URL)`,
    );
    expect(other.received).toHaveLength(0);
    expect(s.received).toHaveLength(1);
  });

  it('says "not JSON" for an HTML error page and for a 200 that is not JSON', async () => {
    const s = await raw((req, res) => {
      res.writeHead(req.url?.startsWith('/sites') ? 502 : 200, { 'content-type': 'text/html' });
      res.end('<html><body>Bad Gateway</body></html>');
    });
    const c = client(s.url, { maxRetries: 0 });
    const host = new URL(s.url).host;
    expect((await caught(c.getSite(SITE_A))).message).toBe(`SDX GET /sites/${SITE_A}: HTTP 502 from ${host} (not JSON, text/html) (gave up after 1 attempts)`);
    const notJson = await caught(c.listJobs(SITE_A));
    expect(notJson).toMatchObject({ status: 200, code: 'malformed_response' });
    expect(notJson.message).toBe(`SDX GET /site/${SITE_A}/job: HTTP 200 from ${host}: unexpected response, body is not JSON (text/html, 37 bytes)`);
  });

  it('refuses huge bodies, declared or streamed, without reading them all', async () => {
    const big = 'x'.repeat(64 * 1024);
    const s = await raw((req, res) => {
      if (req.url?.startsWith('/sites')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) });
        res.write('{"id":"');
        return; // never finishes: the client must not wait for 50 MB
      }
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked, no length
      const write = (n: number) => {
        if (n === 0 || res.destroyed) return res.end();
        res.write(big, () => write(n - 1));
      };
      write(200);
    });
    const c = client(s.url, { maxResponseBytes: 1024 * 1024 });
    const declared = await caught(c.getSite(SITE_A));
    expect(declared).toMatchObject({ code: 'response_too_large', retryable: false });
    expect(declared.message).toContain('response body larger than 1048576 bytes (maxResponseBytes); not read');
    const streamed = await caught(c.listJobs(SITE_A));
    expect(streamed.code).toBe('response_too_large');
  });

  it('explains malformed JSON, wrongly shaped jobs and sites, and a mismatched idempotency key', async () => {
    const bodies: Record<string, string> = {
      [`GET /site/${SITE_A}/job`]: '{"jobs": []}',
      [`GET /site/${SITE_A}/job/${SITE_A}`]: JSON.stringify(sampleJob({ id: 17, started_at: 5 })),
      [`GET /sites/${SITE_A}`]: '{"id": "x", "name": "n"}',
      [`POST /site/${SITE_A}/job`]: JSON.stringify(sampleJob({ idempotency_key: '99999999-9999-4999-8999-999999999999' })),
      [`GET /site/${SITE_OFF}/job`]: '[{"id": "a", "idempotency_key": "k"', // truncated
    };
    const s = await raw((req, res) => {
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
      res.end(bodies[`${req.method} ${req.url}`] ?? 'null');
    });
    const c = client(s.url);
    const host = new URL(s.url).host;
    const list = await caught(c.listJobs(SITE_A));
    expect(list.message).toBe(
      `SDX GET /site/${SITE_A}/job: HTTP 200 from ${host}: unexpected response, not a list of Jobs: expected a JSON array, got an object`,
    );
    const job = await caught(c.getJob(SITE_A, SITE_A));
    expect(job.message).toMatch(/not a Job: id: .*expected string.*; started_at: /);
    const site = await caught(c.getSite(SITE_A));
    expect(site.message).toMatch(/not a Site: has_pulse: /);
    const post = await caught(c.createJob(jobRequest()));
    expect(post.message).toMatch(/the job has idempotency key 99999999-9999-4999-8999-999999999999, not /);
    const cut = await caught(c.listJobs(SITE_OFF));
    expect(cut).toMatchObject({ code: 'malformed_response', status: 200 });
    expect(cut.message).toMatch(/body is not valid JSON \(.*, \d+ bytes\)/);
  });

  it('retries a body cut off by a closed connection, then explains', async () => {
    const s = await raw((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('[{"id":');
      setTimeout(() => res.socket?.destroy(), 5);
    });
    const c = client(s.url, { maxRetries: 1 });
    const err = await caught(c.listJobs(SITE_A));
    expect(err).toMatchObject({ status: 0, type: 'network_error', retryable: true });
    expect(err.message).toMatch(
      new RegExp(`no answer from SDX at http://${new URL(s.url).host} \\(the connection was closed; .*\\(gave up after 2 attempts\\)`),
    );
    expect(s.received).toHaveLength(2);
  });
});

describe('secrets', () => {
  const PASSWORD = 'pa55-W0rd-xyz';

  it('never puts the token or a base-URL password in errors, causes, stacks or log lines', async () => {
    // A server that echoes everything it was sent, in a message, in every failure shape.
    const s = await raw((req, res, n) => {
      const echo = `you sent ${req.headers.authorization} to ${req.url}`;
      if (n % 3 === 1) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'api_error', code: 'internal_server_error', message: echo, doc_url: 'x' }));
      } else if (n % 3 === 2) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: echo }));
      } else {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(echo);
      }
    });
    const port = new URL(s.url).port;
    const c = client(`http://admin:${PASSWORD}@127.0.0.1:${port}/`, { maxRetries: 1 });
    const errors: SdxApiError[] = [];
    errors.push(await caught(c.getSite(SITE_A))); // 500 then 401
    errors.push(await caught(c.listJobs(SITE_A))); // 400 text
    // Network errors, from undici, wrapped.
    await s.close();
    errors.push(await caught(c.getSite(SITE_A)));
    const closed = client(`http://admin:${encodeURIComponent(PASSWORD)}@127.0.0.1:1/`, { maxRetries: 0 });
    errors.push(await caught(closed.getSite(SITE_A)));
    expect(errors.map((e) => e.status)).toEqual([401, 400, 0, 0]);
    expect(errors[0]!.message).toContain('you sent Bearer ***');
    expect(s.received[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    for (const e of errors) {
      const everything = [e.message, e.stack, String(e.cause), (e.cause as Error | undefined)?.stack, JSON.stringify(e), JSON.stringify(e.cause ?? null)].join(
        '\n',
      );
      expect(everything).not.toContain(TOKEN);
      expect(everything).not.toContain(PASSWORD);
      expect(everything).not.toContain('admin:');
    }
    const logs = c.logger.text() + closed.logger.text();
    expect(c.logger.lines.length).toBeGreaterThan(2);
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(PASSWORD);
  });

  it('does not send the base-URL credentials, and keeps a path prefix', async () => {
    const s = await raw((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: SITE_A, has_pulse: true }));
    });
    const c = client(`http://admin:${PASSWORD}@${new URL(s.url).host}/api/v1/`);
    await c.getSite(SITE_A);
    expect(s.received[0]!.url).toBe(`/api/v1/sites/${SITE_A}`);
    expect(s.received[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('rejects an invalid base URL without repeating it', () => {
    expect(() => createSdxClient({ token: TOKEN, baseUrl: `ht!tp://admin:${PASSWORD}@` })).toThrow(/base URL is not a valid URL/);
    try {
      createSdxClient({ token: TOKEN, baseUrl: `ht!tp://admin:${PASSWORD}@` });
    } catch (e) {
      expect(String((e as Error).message)).not.toContain(PASSWORD);
    }
    expect(() => createSdxClient({ token: ' ' })).toThrow(/token is empty/);
  });
});

afterAll(() => {
  expect(validator.violations).toEqual([]);
  expect(validator.seen()).toBeGreaterThan(500);
});
