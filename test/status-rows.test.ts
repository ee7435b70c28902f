// Issue 14, item 7: what `status` says of a site. A send that was intended but never reached SDX
// (a run stopped between storing its intents and its POSTs) reads "not sent", not "pending"; a site
// that left the repository is marked removed, with its scripts gone from the list.
import { describe, expect, it } from 'vitest';
import { applyUpdates, emptyState, type ScriptRecord } from '../src/core/state.js';
import { statusRows } from '../src/report/status.js';

const A = '3f1c2a9e-7b4d-4c8e-9a61-2d5e8f0b7c13';
const B = 'c0ffee00-0000-4000-8000-000000000002';

function record(path: string, phase: ScriptRecord['phase'], job: string | null): ScriptRecord {
  return {
    path,
    generation: 1,
    fingerprint: `fp-${path}`,
    commit: 'a'.repeat(40),
    key: `key-${path}`,
    job_id: job,
    phase,
    at: '2026-11-30T07:00:00.000Z',
    intended_at: '2026-11-30T07:00:00.000Z',
    source: { blob: 'b'.repeat(40), inputs: '' },
  };
}

describe('status rows', () => {
  it('an intent without a job reads "not sent"; a queued job "pending"; a removed site "removed" without scripts', () => {
    let state = applyUpdates(emptyState(), [
      { site_id: A, site: 'hq', file: '10-dns.rsc', record: record('sites/hq/10-dns.rsc', 'intent', null) },
      { site_id: B, site: 'branch', file: '10-dns.rsc', record: record('sites/branch/10-dns.rsc', 'succeeded', 'job-1') },
    ]);
    const hq = () => statusRows(state).find((r) => r.site === 'hq')!;
    expect(hq().outcome).toBe('not-sent');
    expect(hq().scripts.map((s) => s.phase)).toEqual(['not sent']);
    state = applyUpdates(state, [
      { site_id: A, site: 'hq', file: '10-dns.rsc', record: { ...record('sites/hq/10-dns.rsc', 'queued', 'job-2'), at: '2026-11-30T07:01:00.000Z' } },
    ]);
    expect(hq().outcome).toBe('pending');
    state.sites[B]!.removed_at = '2026-11-30T08:00:00.000Z';
    const branch = statusRows(state).find((r) => r.site === 'branch')!;
    expect(branch.outcome).toBe('removed');
    expect(branch.removed_at).toBe('2026-11-30T08:00:00.000Z');
  });
});
