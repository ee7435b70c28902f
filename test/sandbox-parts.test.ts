// The sandbox's parts alone, without HTTP: request validation, the rate limit on a clock the test
// moves, and the simulated routers with their jobs on a manual clock.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/core/logger.js';
import { seededRandom } from '../src/core/random.js';
import type { Answer } from '../src/sandbox/answers.js';
import { createManualClock } from '../src/sandbox/clock.js';
import { FaultInjector } from '../src/sandbox/faults.js';
import { isAnswer, type JobRequest, parseJobRequest } from '../src/sandbox/job-request.js';
import { JobStore } from '../src/sandbox/job-store.js';
import { TokenRateLimit } from '../src/sandbox/rate-limit.js';
import { Routers } from '../src/sandbox/routers.js';
import { resolveSettings } from '../src/sandbox/settings.js';

const SITE = '9a9a3e6f-1b1a-4b1a-8c1a-1e1a1a1a1a1a';
const KEY = '7c7c1e4e-1918-4918-8a18-1e1818181818';
const headers = (over: Record<string, string | undefined> = {}) => ({
  'x-idempotency-key': KEY,
  'x-description': 'Add a firewall rule',
  'content-type': 'text/plain; charset=utf-8',
  ...over,
});
const message = (a: JobRequest | Answer) =>
  isAnswer(a) ? `${a.status} ${(a.body as { code: string; message: string }).code}: ${(a.body as { message: string }).message}` : 'ok';

describe('job request validation', () => {
  it('reads a valid request with the documented defaults (acknowledged, no backup, not express)', () => {
    const r = parseJobRequest(headers(), '/ip dns set servers=1.1.1.1\n', 10_000);
    expect(r).toEqual({
      idempotencyKey: KEY,
      description: 'Add a firewall rule',
      needsAck: true,
      backup: false,
      express: false,
      script: '/ip dns set servers=1.1.1.1\n',
    });
    const flags = parseJobRequest(headers({ 'x-needs-ack': 'false', 'x-backup': 'true', 'x-express-execute': 'true' }), 'x', 10_000);
    expect(flags).toMatchObject({ needsAck: false, backup: true, express: true });
  });

  it('counts the description in the characters the client meant (UTF-8 bytes arrive as latin1)', () => {
    const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
    expect(parseJobRequest(headers({ 'x-description': latin1('Café über alles') }), 'x', 0)).toMatchObject({ description: 'Café über alles' });
    // Three characters, six bytes: accepted; two characters: refused, counted as two.
    expect(isAnswer(parseJobRequest(headers({ 'x-description': latin1('ééé') }), 'x', 0))).toBe(false);
    expect(message(parseJobRequest(headers({ 'x-description': latin1('éé') }), 'x', 0))).toBe(
      '400 parameter_invalid: The X-Description header must be between 3 and 100 characters, got 2.',
    );
  });

  it('answers the first problem, in the order the API checks them', () => {
    const cases: Array<[Record<string, string | undefined>, string, string]> = [
      [{ 'x-idempotency-key': undefined, 'x-description': undefined }, 'x', '400 parameter_missing: The X-Idempotency-Key header is required.'],
      [{ 'x-idempotency-key': 'not-a-uuid' }, 'x', '400 parameter_invalid: The X-Idempotency-Key header must be a UUID.'],
      [{ 'x-description': '' }, 'x', '400 parameter_missing: The X-Description header is required.'],
      [{ 'x-backup': 'yes', 'content-type': 'application/json' }, 'x', '400 parameter_invalid: The X-Backup header must be true or false.'],
      [
        { 'content-type': 'application/json' },
        'x',
        '400 parameter_invalid: The request body must be text/plain (the RouterOS script), got "application/json".',
      ],
      [{ 'content-type': undefined }, 'x', '400 parameter_invalid: The request body must be text/plain (the RouterOS script), got no Content-Type.'],
      [{}, ' \n', '400 parameter_missing: The request body (the RouterOS script) is required.'],
    ];
    for (const [over, body, expected] of cases) expect(message(parseJobRequest(headers(over), body, 10)), JSON.stringify(over)).toBe(expected);
  });

  it('limits the script in code points, and not at all with 0', () => {
    const emoji = '😀'.repeat(10); // 20 UTF-16 units, 10 characters
    expect(isAnswer(parseJobRequest(headers(), emoji, 10))).toBe(false);
    expect(message(parseJobRequest(headers(), `${emoji}!`, 10))).toBe(
      '400 parameter_invalid: The request body (the RouterOS script) may not be longer than 10 characters, got 11.',
    );
    expect(isAnswer(parseJobRequest(headers(), 'x'.repeat(50_000), 0))).toBe(false);
  });
});

describe('rate limit', () => {
  it('allows requestsPerMinute per token in a sliding window, and says when the oldest slot frees', () => {
    let now = 1_000_000;
    const settings = resolveSettings({ rateLimit: { requestsPerMinute: 3 } });
    const rl = new TokenRateLimit(settings, () => now);
    for (const at of [0, 10_000, 20_000]) {
      now = 1_000_000 + at;
      expect(rl.check('a')).toBeUndefined();
    }
    now = 1_000_000 + 30_000;
    expect(rl.check('a')).toEqual({
      status: 429,
      body: { message: 'Too Many Attempts.' },
      headers: { 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '0', 'retry-after': '30' },
    });
    expect(rl.check('b')).toBeUndefined();
    // The first request leaves the window 60 s after it was made.
    now = 1_000_000 + 59_999;
    expect(rl.check('a')?.headers?.['retry-after']).toBe('1');
    now = 1_000_000 + 60_000;
    expect(rl.check('a')).toBeUndefined();
    settings.rateLimit = { requestsPerMinute: 1, retryAfter: false };
    rl.clear();
    expect(rl.check('a')).toBeUndefined();
    expect(rl.check('a')?.headers).toEqual({ 'x-ratelimit-limit': '1', 'x-ratelimit-remaining': '0' });
  });

  it('is off without a rateLimit setting, or with 0 requests per minute', () => {
    const rl = new TokenRateLimit(resolveSettings({}), () => 0);
    for (let i = 0; i < 500; i++) expect(rl.check('a')).toBeUndefined();
    const zero = new TokenRateLimit(resolveSettings({ rateLimit: { requestsPerMinute: 0 } }), () => 0);
    for (let i = 0; i < 500; i++) expect(zero.check('a')).toBeUndefined();
  });
});

describe('faults', () => {
  it('draws the same faults again from the seed, up to the limit, only for the listed methods', () => {
    const settings = resolveSettings({ faults: { probability: 0.5, seed: 7, limit: 5, methods: ['POST'] } });
    const f = new FaultInjector(settings);
    const draws = () => Array.from({ length: 40 }, (_, i) => f.draw(i % 4 === 0 ? 'GET' : 'POST'));
    const first = draws();
    expect(first.filter(Boolean)).toHaveLength(5);
    expect(first.filter((k, i) => k && i % 4 === 0)).toEqual([]);
    expect(draws().filter(Boolean)).toHaveLength(0);
    f.restart();
    expect(draws()).toEqual(first);
  });
});

describe('simulated routers', () => {
  function routers(opts: Parameters<typeof resolveSettings>[0] = {}) {
    const clock = createManualClock();
    const settings = resolveSettings({ checkinIntervalMs: 1000, runMs: 200, expressDelayMs: 50, ...opts });
    const jobs = new JobStore(settings, () => clock.now(), seededRandom(1));
    const r = new Routers([{ id: SITE }], settings, clock, jobs, silentLogger);
    r.reset();
    const queue = (script: string, express = false) => {
      const site = r.find(SITE)!;
      const key = `${KEY.slice(0, -4)}${String(jobs.ofSite(SITE).length).padStart(4, '0')}`;
      const job = jobs.create(SITE, { idempotencyKey: key, description: 'test job', needsAck: true, backup: false, express, script });
      r.jobQueued(site, job);
      return job;
    };
    return { clock, jobs, r, queue };
  }

  it('takes one queued job per check-in, runs it for runMs, and fails a script with the fail marker', () => {
    const { clock, queue } = routers();
    const a = queue('/ip dns print\n');
    const b = queue(':error "sandbox-fail"\n');
    clock.advance(999);
    expect(a.started_at).toBeNull();
    clock.advance(1);
    expect(a.started_at).not.toBeNull();
    expect(b.started_at).toBeNull();
    clock.advance(200);
    expect(a.completed_at).not.toBeNull();
    // The next check-in (one interval after the last) takes b.
    clock.advance(800);
    expect(b.started_at).not.toBeNull();
    clock.advance(200);
    expect(b.failed_at).not.toBeNull();
    expect(b.completed_at).toBeNull();
  });

  it('comes for an express job after expressDelayMs, and stops checking in while offline', () => {
    const { clock, r, queue } = routers();
    const job = queue('/ip dns print\n', true);
    clock.advance(50);
    expect(job.started_at).not.toBeNull();
    r.setOnline(SITE, false);
    const later = queue('/ip dns print\n');
    clock.advance(10_000);
    expect(later.started_at).toBeNull();
    r.setOnline(SITE, true);
    clock.advance(50);
    expect(later.started_at).not.toBeNull();
  });

  it('knows any UUID with autoSites, never a removed site, and brings configured sites back on reset', () => {
    const { r } = routers({ autoSites: true });
    const other = '3b0c8f4e-7d2a-4e6b-9c1d-2f3a4b5c6d7e';
    expect(r.find(other)?.cfg.id).toBe(other);
    expect(r.find('not-a-uuid')).toBeUndefined();
    r.remove(other);
    expect(r.find(other)).toBeUndefined();
    // A reset forgets deletions as it forgets jobs: the sandbox starts over.
    r.reset();
    expect(r.find(other)?.online).toBe(true);
    expect(r.toJson(r.find(SITE)!)).toMatchObject({ id: SITE, name: `Sandbox site ${SITE.slice(0, 8)}`, has_pulse: true });
  });
});
