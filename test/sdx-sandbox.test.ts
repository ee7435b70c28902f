// The sandbox against the spec: real HTTP over loopback, raw requests (no client), an independent
// OpenAPI validator as the referee of what is malformed.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { InputError } from '../src/core/errors.js';
import { parseListen } from '../src/core/listen.js';
import { createManualClock, parseSandboxOptions, startSandbox, type Sandbox, type SandboxOptions } from '../src/sandbox/sandbox.js';
import { jobState, type Job } from '../src/core/jobs.js';
import { createSpecValidator, SITE_A, SITE_B, SITE_OFF, SITE_UNKNOWN, type SpecValidator } from './helpers/sandbox.js';

const KEY = '7c7c1e4e-1918-4918-8a18-1e1818181818';
const TOKEN = 'sandbox-test-token';

let validator: SpecValidator;
beforeAll(async () => {
  validator = await createSpecValidator();
});

const open: Sandbox[] = [];
async function sandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const sb = await startSandbox({
    token: TOKEN,
    sites: [{ id: SITE_A, name: 'alpha' }, { id: SITE_B }, { id: SITE_OFF, online: false }],
    checkinIntervalMs: 60_000,
    ...opts,
  });
  open.push(sb);
  return sb;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

interface Sent {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

async function send(sb: Sandbox, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Sent> {
  const res = await request(sb.url + path, { method: method as 'GET', headers, body });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

function postHeaders(over: Record<string, string | undefined> = {}): Record<string, string> {
  const h: Record<string, string | undefined> = {
    authorization: `Bearer ${TOKEN}`,
    'content-type': 'text/plain',
    'x-idempotency-key': KEY,
    'x-description': 'Add a firewall rule',
    'x-needs-ack': 'true',
    'x-backup': 'false',
    'x-express-execute': 'false',
    ...over,
  };
  return Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>;
}
const auth = { authorization: `Bearer ${TOKEN}` };
const SCRIPT = '/ip address add address=192.168.99.1/24 interface=ether2';

describe('POST /site/{siteId}/job validation', () => {
  const malformed: Array<{ name: string; site?: string; headers?: Record<string, string | undefined>; body?: string; code: string }> = [
    { name: 'missing X-Idempotency-Key', headers: { 'x-idempotency-key': undefined }, code: 'parameter_missing' },
    { name: 'X-Idempotency-Key not a uuid', headers: { 'x-idempotency-key': 'not-a-uuid' }, code: 'parameter_invalid' },
    { name: 'X-Idempotency-Key uuid with extra text', headers: { 'x-idempotency-key': `${KEY}x` }, code: 'parameter_invalid' },
    { name: 'missing X-Description', headers: { 'x-description': undefined }, code: 'parameter_missing' },
    { name: 'X-Description of 2 characters', headers: { 'x-description': 'ab' }, code: 'parameter_invalid' },
    { name: 'X-Description of 101 characters', headers: { 'x-description': 'x'.repeat(101) }, code: 'parameter_invalid' },
    { name: 'X-Needs-Ack yes', headers: { 'x-needs-ack': 'yes' }, code: 'parameter_invalid' },
    { name: 'X-Backup 1', headers: { 'x-backup': '1' }, code: 'parameter_invalid' },
    { name: 'X-Express-Execute TRUE', headers: { 'x-express-execute': 'TRUE' }, code: 'parameter_invalid' },
    { name: 'X-Needs-Ack empty', headers: { 'x-needs-ack': '' }, code: 'parameter_invalid' },
    { name: 'siteId not a uuid', site: 'site-12', code: 'parameter_invalid' },
    {
      name: 'Content-Type application/json',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ script: SCRIPT }),
      code: 'parameter_invalid',
    },
    { name: 'no Content-Type', headers: { 'content-type': undefined }, code: 'parameter_invalid' },
    { name: 'empty body', body: '', code: 'parameter_missing' },
  ];

  it.each(malformed)('rejects $name with 400 $code, creates nothing, and the spec agrees', async (v) => {
    const sb = await sandbox();
    const path = `/site/${v.site ?? SITE_A}/job`;
    const headers = postHeaders(v.headers);
    const body = v.body ?? SCRIPT;
    const res = await send(sb, 'POST', path, headers, body);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ type: 'invalid_request_error', code: v.code, doc_url: expect.stringContaining(v.code) });
    expect((res.json as { message: string }).message.length).toBeGreaterThan(5);
    expect(validator.checkResponse('POST', path, 400, res.json)).toEqual([]);
    expect(sb.jobs()).toHaveLength(0);
    // The independent validator rejects the same request: the sandbox is not stricter than the spec.
    expect(validator.check({ method: 'POST', path, query: {}, headers, body })).not.toEqual([]);
  });

  it('rejects a whitespace-only script (a required string after trimming) and a script above maxScriptLength', async () => {
    const sb = await sandbox({ maxScriptLength: 10 });
    expect((await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders(), '  \n ')).json).toMatchObject({ code: 'parameter_missing' });
    expect((await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders(), 'x'.repeat(11))).json).toMatchObject({ code: 'parameter_invalid' });
    expect(sb.jobs()).toHaveLength(0);
  });

  it('limits a script to 10,000 characters by default, counted as code points, as the real API validates it', async () => {
    const sb = await sandbox();
    const path = `/site/${SITE_A}/job`;
    const post = (body: string, key: string) => send(sb, 'POST', path, postHeaders({ 'x-idempotency-key': key }), body);
    // 10,000 characters, 5,000 of them emoji: 15,000 UTF-16 units, accepted.
    const atLimit = `${'😀'.repeat(5000)}${':'.repeat(5000)}`;
    expect((await post(atLimit, KEY)).status).toBe(201);
    const over = `:put "${'x'.repeat(9994)}"`;
    expect([...over]).toHaveLength(10_001);
    const res = await post(over, '8d8d2f5f-2a29-4a29-9b29-2f2929292929');
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      type: 'invalid_request_error',
      code: 'parameter_invalid',
      message: 'The request body (the RouterOS script) may not be longer than 10000 characters, got 10001.',
      doc_url: expect.stringContaining('parameter_invalid'),
    });
    expect(validator.checkResponse('POST', path, 400, res.json)).toEqual([]);
    // The spec says the same: the independent validator refuses the one and accepts the other.
    const headers = postHeaders();
    expect(validator.check({ method: 'POST', path, query: {}, headers, body: over })).toEqual([
      `POST ${path}: the request body is longer than 10000 characters`,
    ]);
    expect(validator.check({ method: 'POST', path, query: {}, headers, body: atLimit })).toEqual([]);
    expect(sb.jobs()).toHaveLength(1);
  });

  it('takes a larger limit, or none (maxScriptLength 0), when told to', async () => {
    const big = `:put "${'x'.repeat(20_000)}"`;
    for (const maxScriptLength of [0, 50_000]) {
      const sb = await sandbox({ maxScriptLength });
      expect((await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders(), big)).status).toBe(201);
    }
    expect(parseSandboxOptions({ maxScriptLength: 0 })).toEqual({ maxScriptLength: 0 });
  });

  const valid: Array<{ name: string; headers: Record<string, string | undefined> }> = [
    { name: 'all headers', headers: {} },
    { name: 'only the required headers', headers: { 'x-needs-ack': undefined, 'x-backup': undefined, 'x-express-execute': undefined } },
    { name: 'a 3-character description', headers: { 'x-description': 'abc' } },
    { name: 'a 100-character description', headers: { 'x-description': 'd'.repeat(100) } },
    { name: 'text/plain with a charset', headers: { 'content-type': 'text/plain; charset=utf-8' } },
    { name: 'an upper-case key', headers: { 'x-idempotency-key': KEY.toUpperCase() } },
  ];
  it.each(valid)('accepts $name with 201 and a Job the spec accepts', async (v) => {
    const sb = await sandbox();
    const headers = postHeaders(v.headers);
    const path = `/site/${SITE_A}/job`;
    expect(validator.check({ method: 'POST', path, query: {}, headers, body: SCRIPT })).toEqual([]);
    const res = await send(sb, 'POST', path, headers, SCRIPT);
    expect(res.status).toBe(201);
    expect(validator.checkResponse('POST', path, 201, res.json)).toEqual([]);
    expect(sb.jobs()).toHaveLength(1);
  });

  it('answers 404 for an unknown site, and any uuid is a site with autoSites', async () => {
    const sb = await sandbox();
    const res = await send(sb, 'POST', `/site/${SITE_UNKNOWN}/job`, postHeaders(), SCRIPT);
    expect(res.status).toBe(404);
    expect((await send(sb, 'GET', `/sites/${SITE_UNKNOWN}`, auth)).status).toBe(404);
    const auto = await sandbox({ autoSites: true });
    expect((await send(auto, 'POST', `/site/${SITE_UNKNOWN}/job`, postHeaders(), SCRIPT)).status).toBe(201);
    expect((await send(auto, 'GET', `/sites/${SITE_UNKNOWN}`, auth)).json).toMatchObject({ id: SITE_UNKNOWN, has_pulse: true });
  });
});

describe('authentication', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer nope' }],
    ['Basic instead of Bearer', { authorization: `Basic ${TOKEN}` }],
    ['Bearer without a token', { authorization: 'Bearer ' }],
  ])('answers 401 {"message": ...} for %s, on every endpoint', async (_name, headers) => {
    const sb = await sandbox();
    for (const [method, path] of [
      ['POST', `/site/${SITE_A}/job`],
      ['GET', `/site/${SITE_A}/job`],
      ['GET', `/site/${SITE_A}/job/${KEY}`],
      ['DELETE', `/site/${SITE_A}/job/${KEY}`],
      ['GET', `/sites/${SITE_A}`],
    ] as const) {
      const res = await send(sb, method, path, { ...postHeaders(), authorization: '', ...headers }, method === 'POST' ? SCRIPT : undefined);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.json).toEqual({ message: 'Unauthenticated.' });
    }
    expect(sb.jobs()).toHaveLength(0);
  });
});

describe('jobs and routers', () => {
  it('creates a Job with the documented fields; lists newest first without scripts; GET one has the script', async () => {
    const sb = await sandbox();
    const keys = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
    const first = (await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders({ 'x-idempotency-key': keys[0], 'x-backup': 'true' }), SCRIPT)).json as Job;
    const second = (await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders({ 'x-idempotency-key': keys[1], 'x-needs-ack': 'false' }), 'second')).json as Job;
    expect(first).toMatchObject({
      site_id: SITE_A,
      idempotency_key: keys[0],
      description: 'Add a firewall rule',
      needs_acknowledgement: true,
      should_backup: true,
      script: SCRIPT,
    });
    expect(first.token).toMatch(/^[A-Za-z0-9]{10}$/);
    expect(first.log_url).toBe(`logs?group=sites&streams=${SITE_A}&filter={$.message=*${first.token}*}`);
    expect(first.associated_backup).toMatch(new RegExp(`^${SITE_A}/\\d{10}\\.rsc$`));
    expect(second.associated_backup).toBeNull();
    expect(second.needs_acknowledgement).toBe(false);
    expect(jobState(first)).toBe('queued');

    const list = await send(sb, 'GET', `/site/${SITE_A}/job`, auth);
    expect(list.status).toBe(200);
    expect((list.json as Job[]).map((j) => j.id)).toEqual([second.id, first.id]);
    expect((list.json as Job[])[0]).not.toHaveProperty('script');
    expect(validator.checkResponse('GET', `/site/${SITE_A}/job`, 200, list.json)).toEqual([]);
    const one = await send(sb, 'GET', `/site/${SITE_A}/job/${first.id}`, auth);
    expect(one.json).toMatchObject({ id: first.id, script: SCRIPT });
    expect(validator.checkResponse('GET', `/site/${SITE_A}/job/${first.id}`, 200, one.json)).toEqual([]);
    expect((await send(sb, 'GET', `/site/${SITE_B}/job/${first.id}`, auth)).status).toBe(404);
    expect((await send(sb, 'GET', `/site/${SITE_A}/job/not-a-uuid`, auth)).status).toBe(400);
    const site = await send(sb, 'GET', `/sites/${SITE_A}`, auth);
    expect(site.json).toMatchObject({ id: SITE_A, name: 'alpha', has_pulse: true, software_version: '7.15.1' });
    expect(validator.checkResponse('GET', `/sites/${SITE_A}`, 200, site.json)).toEqual([]);
    expect((await send(sb, 'GET', `/sites/${SITE_OFF}`, auth)).json).toMatchObject({ has_pulse: false });
  });

  it('runs jobs one at a time in creation order at each check-in (manual clock)', async () => {
    const clock = createManualClock();
    const sb = await sandbox({ clock, checkinIntervalMs: 1000, runMs: 300, expressDelayMs: 50 });
    const post = async (key: string, body: string, over: Record<string, string> = {}) =>
      (await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders({ 'x-idempotency-key': key, ...over }), body)).json as Job;
    const a = await post('a0000000-0000-4000-8000-000000000001', 'ok 1');
    const b = await post('a0000000-0000-4000-8000-000000000002', `/x\n:error "sandbox-fail"\n`);
    const c = await post('a0000000-0000-4000-8000-000000000003', 'ok 3', { 'x-needs-ack': 'false' });
    const state = () => Object.fromEntries(sb.jobs(SITE_A).map((j) => [j.id, jobState(j)]));

    clock.advance(999);
    expect(state()).toEqual({ [a.id]: 'queued', [b.id]: 'queued', [c.id]: 'queued' });
    clock.advance(1);
    expect(state()).toEqual({ [a.id]: 'running', [b.id]: 'queued', [c.id]: 'queued' });
    clock.advance(300);
    expect(state()[a.id]).toBe('succeeded');
    clock.advance(700); // next heartbeat at t=2000
    expect(state()[b.id]).toBe('running');
    clock.advance(300);
    expect(state()[b.id]).toBe('failed');
    clock.advance(700); // t=3000: downloaded, and complete at once without acknowledgement
    const cj = sb.jobs(SITE_A).find((j) => j.id === c.id)!;
    expect(jobState(cj)).toBe('succeeded');
    expect(cj.started_at).toBe(cj.completed_at);
    expect((await send(sb, 'GET', `/sites/${SITE_A}`, auth)).json).toMatchObject({ last_seen_at: new Date(clock.now()).toISOString() });
  });

  it('checks in sooner for express jobs; offline routers never run jobs until back online', async () => {
    const clock = createManualClock();
    const sb = await sandbox({ clock, checkinIntervalMs: 10_000, runMs: 100, expressDelayMs: 50 });
    await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders({ 'x-express-execute': 'true' }), 'express');
    await send(sb, 'POST', `/site/${SITE_OFF}/job`, postHeaders({ 'x-express-execute': 'true' }), 'offline');
    clock.advance(50);
    expect(jobState(sb.jobs(SITE_A)[0]!)).toBe('running');
    clock.advance(60_000);
    expect(jobState(sb.jobs(SITE_A)[0]!)).toBe('succeeded');
    expect(jobState(sb.jobs(SITE_OFF)[0]!)).toBe('queued');
    sb.setOnline(SITE_OFF, true);
    clock.advance(50);
    expect(jobState(sb.jobs(SITE_OFF)[0]!)).toBe('running');
    sb.setOnline(SITE_A, false);
    expect((await send(sb, 'GET', `/sites/${SITE_A}`, auth)).json).toMatchObject({ has_pulse: false });
  });

  it('fails scripts by per-site patterns and failAll', async () => {
    const clock = createManualClock();
    const sb = await sandbox({
      clock,
      checkinIntervalMs: 100,
      runMs: 10,
      sites: [
        { id: SITE_A, failScripts: ['bad-word', /^\/system reboot/m] },
        { id: SITE_B, failAll: true },
      ],
    });
    const keys = ['b0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-000000000003'];
    await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders({ 'x-idempotency-key': keys[0] }), 'has bad-word in it');
    await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders({ 'x-idempotency-key': keys[1] }), '/x\n/system reboot');
    await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders({ 'x-idempotency-key': keys[2] }), 'fine');
    await send(sb, 'POST', `/site/${SITE_B}/job`, postHeaders(), 'fine');
    clock.advance(1000);
    expect(sb.jobs(SITE_A).map(jobState)).toEqual(['failed', 'failed', 'succeeded']);
    expect(sb.jobs(SITE_B).map(jobState)).toEqual(['failed']);
  });

  it.each([
    ['original-201', 201],
    ['original-200', 200],
    ['conflict-409', 409],
    ['conflict-400', 400],
  ] as const)('answers a repeated key per replayAnswer=%s (%i) and creates one job', async (replayAnswer, status) => {
    const sb = await sandbox({ replayAnswer });
    const first = await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders(), SCRIPT);
    const again = await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders({ 'x-idempotency-key': KEY.toUpperCase() }), 'different');
    expect(again.status).toBe(status);
    if (status >= 400) expect(again.json).toMatchObject({ type: 'invalid_request_error', code: 'idempotency_key_in_use' });
    else expect((again.json as Job).id).toBe((first.json as Job).id);
    expect(sb.createdCount(SITE_A, KEY)).toBe(1);
    expect(sb.stats()).toMatchObject({ posts: 2, jobsCreated: 1, replays: 1, replayMismatches: 1 });
    // The same key on another site is another job.
    expect((await send(sb, 'POST', `/site/${SITE_B}/job`, postHeaders(), SCRIPT)).status).toBe(201);
  });

  it.each([
    [204, 409],
    [200, 400],
  ] as const)('DELETE answers %i for a queued job and %i job_already_started for a started one', async (deleteStatus, deleteStartedStatus) => {
    const clock = createManualClock();
    const sb = await sandbox({ clock, deleteStatus, deleteStartedStatus, checkinIntervalMs: 100, runMs: 1000 });
    const queued = (await send(sb, 'POST', `/site/${SITE_OFF}/job`, postHeaders(), SCRIPT)).json as Job;
    const started = (await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders(), SCRIPT)).json as Job;
    clock.advance(100);
    const del = await send(sb, 'DELETE', `/site/${SITE_OFF}/job/${queued.id}`, auth);
    expect(del.status).toBe(deleteStatus);
    expect(del.text === '').toBe(deleteStatus === 204);
    expect((await send(sb, 'GET', `/site/${SITE_OFF}/job/${queued.id}`, auth)).status).toBe(404);
    expect((await send(sb, 'DELETE', `/site/${SITE_OFF}/job/${queued.id}`, auth)).status).toBe(404);
    const refused = await send(sb, 'DELETE', `/site/${SITE_A}/job/${started.id}`, auth);
    expect(refused.status).toBe(deleteStartedStatus);
    expect(refused.json).toMatchObject({ type: 'invalid_request_error', code: 'job_already_started' });
    // The cancelled job's key is free again.
    expect((await send(sb, 'POST', `/site/${SITE_OFF}/job`, postHeaders(), SCRIPT)).status).toBe(201);
    expect(sb.createdCount(SITE_OFF, KEY)).toBe(2);
  });
});

describe('limits, latency and faults', () => {
  it('rate-limits per token, with and without Retry-After', async () => {
    const sb = await sandbox({ token: [TOKEN, 'other'], rateLimit: { requestsPerMinute: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(sb, 'GET', `/sites/${SITE_A}`, auth)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await send(sb, 'GET', `/sites/${SITE_A}`, auth);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await send(sb, 'GET', `/sites/${SITE_A}`, { authorization: 'Bearer other' })).status).toBe(200);
    sb.configure({ rateLimit: { requestsPerMinute: 1, retryAfter: false } });
    await send(sb, 'GET', `/sites/${SITE_A}`, auth);
    const bare = await send(sb, 'GET', `/sites/${SITE_A}`, auth);
    expect(bare.status).toBe(429);
    expect(bare.headers['retry-after']).toBeUndefined();
    expect(sb.stats().rateLimited).toBe(3);
  });

  it('adds latency to every request', async () => {
    const sb = await sandbox({ latencyMs: 40 });
    const t = performance.now();
    await send(sb, 'GET', `/sites/${SITE_A}`, auth);
    expect(performance.now() - t).toBeGreaterThanOrEqual(38);
  });

  it.each([
    ['error500', 500, 'application/json'],
    ['html502', 502, 'text/html'],
    ['unavailable503', 503, 'text/plain'],
    ['throttle429', 429, 'application/json'],
    ['throttle429NoRetryAfter', 429, 'application/json'],
  ] as const)('injects %s before processing: %i %s, no job', async (kind, status, type) => {
    const sb = await sandbox({ faults: { probability: 1, kinds: [kind], retryAfterSeconds: 7 } });
    const res = await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders(), SCRIPT);
    expect(res.status).toBe(status);
    expect(String(res.headers['content-type'])).toContain(type);
    expect(res.headers['retry-after']).toBe(kind === 'throttle429' ? '7' : undefined);
    if (kind === 'error500') expect(res.json).toMatchObject({ type: 'api_error', code: 'internal_server_error' });
    expect(sb.jobs()).toHaveLength(0);
    expect(sb.stats().faults).toEqual({ [kind]: 1 });
  });

  it('resets the connection before processing (no job) or after it (job created, answer lost)', async () => {
    const sb = await sandbox({ faults: { probability: 1, kinds: ['resetBefore'], limit: 1 } });
    await expect(send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders(), SCRIPT)).rejects.toThrow();
    expect(sb.jobs()).toHaveLength(0);
    sb.configure({ faults: { probability: 1, kinds: ['lostAfter'], limit: 1 } });
    await expect(send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders(), SCRIPT)).rejects.toThrow();
    expect(sb.jobs()).toHaveLength(1);
    expect((await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders(), SCRIPT)).status).toBe(201);
    expect(sb.createdCount(SITE_A, KEY)).toBe(1);
    expect(sb.stats().byMethodStatus).toEqual({ 'POST reset': 2, 'POST 201': 1 });
  });

  it('stalls then answers; limits faults to some methods; is reproducible with a seed', async () => {
    const sb = await sandbox({ faults: { probability: 1, kinds: ['stall'], stallMs: 60, methods: ['POST'] } });
    let t = performance.now();
    await send(sb, 'GET', `/sites/${SITE_A}`, auth);
    expect(performance.now() - t).toBeLessThan(50);
    t = performance.now();
    expect((await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders(), SCRIPT)).status).toBe(201);
    expect(performance.now() - t).toBeGreaterThanOrEqual(58);

    const draws = async () => {
      const s = await sandbox({ faults: { probability: 0.5, kinds: ['error500', 'unavailable503'], seed: 7 } });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await send(s, 'GET', `/sites/${SITE_A}`, auth)).status);
      return out;
    };
    const one = await draws();
    expect(await draws()).toEqual(one);
    expect(new Set(one)).toEqual(new Set([200, 500, 503]));
  });
});

describe('admin endpoints and inspection', () => {
  it('serves /_sandbox/jobs, /_sandbox/stats, /_sandbox/sites/{id}, /_sandbox/reset', async () => {
    const sb = await sandbox();
    await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders(), SCRIPT);
    await send(sb, 'POST', `/site/${SITE_A}/job`, postHeaders(), SCRIPT);
    const jobs = (await send(sb, 'GET', '/_sandbox/jobs')).json as { jobs: Array<Job & { cancelled: boolean }> };
    expect(jobs.jobs).toHaveLength(1);
    expect(jobs.jobs[0]).toMatchObject({ script: SCRIPT, cancelled: false });
    expect(((await send(sb, 'GET', `/_sandbox/jobs?site=${SITE_B}`)).json as { jobs: unknown[] }).jobs).toHaveLength(0);
    const stats = (await send(sb, 'GET', '/_sandbox/stats')).json;
    expect(stats).toMatchObject({
      posts: 2,
      jobsCreated: 1,
      byMethodStatus: { 'POST 201': 2 },
      createdCounts: [{ siteId: SITE_A, idempotencyKey: KEY, count: 1 }],
    });
    expect(sb.requests().map((r) => r.status)).toEqual([201, 201]);
    expect((await send(sb, 'POST', `/_sandbox/sites/${SITE_A}`, {}, '{"online": false}')).json).toMatchObject({ has_pulse: false });
    expect((await send(sb, 'POST', `/_sandbox/sites/${SITE_A}`, {}, '{"online": "no"}')).status).toBe(400);
    expect((await send(sb, 'POST', '/_sandbox/reset')).status).toBe(204);
    expect(sb.jobs()).toHaveLength(0);
    expect(sb.stats().posts).toBe(0);
    expect((await send(sb, 'GET', `/sites/${SITE_A}`, auth)).json).toMatchObject({ has_pulse: true });
    expect((await send(sb, 'GET', '/_sandbox/nope')).status).toBe(404);
  });

  it('parses settings from JSON and --listen values, naming the bad field', () => {
    const opts = parseSandboxOptions({
      port: 8787,
      sites: [{ id: SITE_A, failScripts: ['/^reboot/m', 'plain'] }],
      replayAnswer: 'conflict-409',
      faults: { probability: 0.3, kinds: ['html502'] },
    });
    expect(opts.sites?.[0]?.failScripts?.[0]).toBeInstanceOf(RegExp);
    expect(opts.sites?.[0]?.failScripts?.[1]).toBe('plain');
    expect(() => parseSandboxOptions({ replayAnswer: 'maybe' })).toThrow(/replayAnswer/);
    expect(() => parseSandboxOptions({ sites: [{ id: 'x' }] })).toThrow(InputError);
    expect(() => parseSandboxOptions({ nope: 1 })).toThrow(InputError);
    expect(parseListen('127.0.0.1:8787')).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(parseListen('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListen(':9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseListen('9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListen('localhost:http')).toThrow(/host:port/);
    expect(() => parseListen('a:70000')).toThrow(InputError);
  });
});

afterAll(() => {
  // Nothing the validator saw in this file came from the client; violations here would be a helper bug.
  expect(validator.violations).toEqual([]);
});
