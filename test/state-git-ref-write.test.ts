// The git ref store's write path under a large batch, against a real repository: the per-site work
// is done in slices with the event loop running in between (lanes sending jobs meanwhile are not
// held up), and the result is the same as one slice would give.
import { describe, expect, it } from 'vitest';
import { createGitRefStateStore } from '../src/state/git-ref-store.js';
import { useLifecycle } from './helpers/lifecycle.js';
import { scriptRecord, STATE_REPO_FILES, stateUpdate } from './helpers/state-records.js';

const life = useLifecycle();
const update = (siteId: string, file: string) => stateUpdate(siteId, file, scriptRecord(`${siteId}/${file}`, 'queued'));

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
    const t = await life.repo(STATE_REPO_FILES);
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
