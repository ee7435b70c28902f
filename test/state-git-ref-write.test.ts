// The git ref store's write path under a large batch, against a real repository: the per-site work
// is done in slices with the event loop running in between (lanes sending jobs meanwhile are not
// held up), and the result is the same as one slice would give.
import { afterEach, describe, expect, it } from 'vitest';
import type { ScriptRecord, StateUpdate } from '../src/core/state.js';
import { createGitRefStateStore } from '../src/state/git-ref-store.js';
import { createTempRepo, type TempRepo } from './helpers/git-repo.js';

const COMMIT = `${'c0ffee'.repeat(6)}c0ff`;

function record(key: string): ScriptRecord {
  return {
    fingerprint: `fp-${key}`,
    commit: COMMIT,
    key,
    job_id: `job-${key}`,
    phase: 'queued',
    at: '2026-03-01T10:00:00.000Z',
    intended_at: '2026-03-01T10:00:00.000Z',
    path: `sites/x/${key}`,
    generation: 1,
    source: { blob: 'b'.repeat(40), inputs: 'i' },
  };
}

function update(siteId: string, p: string): StateUpdate {
  return { site_id: siteId, site: `name-${siteId}`, file: p, record: record(`${siteId}/${p}`) };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function tempRepo(): Promise<TempRepo> {
  const t = await createTempRepo({ files: { 'sites/hq/10-firewall.rsc': '/ip firewall filter print\n' } });
  cleanups.push(() => t.cleanup());
  return t;
}

/** The longest time the event loop went without a turn while `work` ran. */
async function longestStall(work: () => Promise<unknown>): Promise<{ stall: number; total: number }> {
  let last = performance.now();
  let stall = 0;
  let running = true;
  const tick = () => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const t0 = performance.now();
  await work();
  const total = performance.now() - t0;
  running = false;
  return { stall, total };
}

describe('git ref state store, large writes', () => {
  it('lets the event loop run while it prepares a write of thousands of sites, and stores them all', async () => {
    const t = await tempRepo();
    const store = await createGitRefStateStore({ cwd: t.dir });
    const n = 6000;
    // Second writes of existing sites: each site's file is read, updated and written again.
    await store.record(Array.from({ length: n }, (_, i) => update(`site-${i}`, 'a.rsc')));
    const batch = Array.from({ length: n }, (_, i) => update(`site-${i}`, 'b.rsc'));
    batch.push(update('site-7', 'c.rsc'));
    const { stall, total } = await longestStall(() => store.record(batch));
    // Done in one go, preparing 6,000 sites holds the loop for about a third of the write.
    expect(stall).toBeLessThan(total / 8);
    const state = await (await createGitRefStateStore({ cwd: t.dir })).load();
    expect(Object.keys(state.sites)).toHaveLength(n);
    expect(Object.keys(state.sites['site-7']!.scripts).sort()).toEqual(['a.rsc', 'b.rsc', 'c.rsc']);
    expect(Object.keys(state.sites[`site-${n - 1}`]!.scripts).sort()).toEqual(['a.rsc', 'b.rsc']);
    await store.close();
  });
});
