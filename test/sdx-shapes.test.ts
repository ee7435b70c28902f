// parseJob's hand-built fast path against the zod schema it stands in for: on thousands of
// generated bodies (well-formed, and with each field missing, null, or of another type), both give
// the same verdict and, when they accept, the same job with its keys in the same order.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/core/random.js';
import { parseJob, parseJobBySchema, parseJobList } from '../src/sdx/response-shapes.js';

const FIELDS = [
  'id',
  'token',
  'site_id',
  'idempotency_key',
  'description',
  'express_execute',
  'needs_acknowledgement',
  'should_backup',
  'associated_backup',
  'started_at',
  'completed_at',
  'failed_at',
  'created_at',
  'log_url',
  'script',
  'extra',
];
const FLAGS = new Set(['express_execute', 'needs_acknowledgement', 'should_backup']);

function body(random: () => number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  for (const f of FIELDS) {
    const good = FLAGS.has(f) ? pick([true, false]) : pick(['x', '2026-03-01T10:00:00Z', 'aaaaaaaa-bbbb-4ccc-8ddd-000000000001']);
    // Mostly well-formed, so that many bodies are accepted; sometimes anything at all.
    if (random() < 0.8) o[f] = good;
    else {
      const v = pick(['missing', null, '', 'text', 0, 7, true, false, {}, [], ['x'], { a: 1 }] as const);
      if (v !== 'missing') o[f] = v;
    }
  }
  return o;
}

describe('parseJob fast path', () => {
  it('agrees with the schema on generated bodies, value and key order', () => {
    const random = seededRandom(20260301);
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const b = body(random);
      const wrapped = random() < 0.1 ? { data: b } : b;
      const fast = parseJob(wrapped);
      const schema = parseJobBySchema(wrapped);
      expect(fast).toEqual(schema);
      if (fast.ok && schema.ok) {
        accepted++;
        expect(Object.keys(fast.value)).toEqual(Object.keys(schema.value));
      }
      const one = parseJobBySchema(b);
      const list = parseJobList([b]);
      expect(list.ok).toBe(one.ok);
      if (list.ok && one.ok) expect(list.value).toEqual([one.value]);
    }
    expect(accepted).toBeGreaterThan(500);
  });

  it('agrees on bodies that are not objects', () => {
    for (const b of [null, 1, 'job', [], [{}], true, { data: null }, { data: [] }, { data: { id: 'a' } }]) {
      expect(parseJob(b)).toEqual(parseJobBySchema(b));
    }
  });
});
