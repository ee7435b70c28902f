// The write queue's pacing, on its own (the stores that use it are tested against real git in
// state-git-ref.test.ts and state-file.test.ts): group commit, the stretched interval during a
// burst, prompt writes when idle, and drain writing at once.
import { describe, expect, it } from 'vitest';
import type { StateUpdate } from '../src/core/state.js';
import { createWriteQueue } from '../src/state/write-queue.js';

const u = (i: number): StateUpdate => ({ site_id: `s${i}`, site: `s${i}`, last_commit: 'c'.repeat(40) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A write that takes `ms` and notes when it started and what it carried. */
function slowWriter(ms: number) {
  const writes: Array<{ at: number; updates: StateUpdate[] }> = [];
  const write = async (updates: StateUpdate[]) => {
    writes.push({ at: performance.now(), updates });
    await sleep(ms);
  };
  return { writes, write };
}

describe('write queue', () => {
  it('writes an update that comes after a quiet time promptly, and groups what arrives during a write', async () => {
    const w = slowWriter(30);
    const q = createWriteQueue(w.write, { minIntervalMs: 50, maxIntervalMs: 1000 });
    const t0 = performance.now();
    const first = q.push([u(0)]);
    await sleep(5);
    const others = [1, 2, 3].map((i) => q.push([u(i)]));
    await Promise.all([first, ...others]);
    expect(w.writes).toHaveLength(2);
    expect(w.writes[0]!.at - t0).toBeLessThan(20);
    expect(w.writes[1]!.updates).toHaveLength(3);
    // Not stretched to maxIntervalMs: the burst paused.
    expect(w.writes[1]!.at - w.writes[0]!.at).toBeLessThan(300);
    await sleep(200);
    const t1 = performance.now();
    await q.push([u(4)]);
    expect(w.writes[2]!.at - t1).toBeLessThan(20);
  });

  it('stretches the interval while a burst goes on, and stores every update within maxIntervalMs plus a write', async () => {
    const w = slowWriter(20);
    const q = createWriteQueue(w.write, { minIntervalMs: 50, maxIntervalMs: 400 });
    const pushed: Array<{ at: number; done: Promise<number> }> = [];
    const t0 = performance.now();
    for (let i = 0; performance.now() - t0 < 1500; i++) {
      const at = performance.now();
      pushed.push({ at, done: q.push([u(i)]).then(() => performance.now()) });
      await sleep(5);
    }
    const doneAt = await Promise.all(pushed.map((p) => p.done));
    // Every 50 ms would be ~30 writes; every 400 ms while the burst lasts is ~5.
    expect(w.writes.length).toBeGreaterThanOrEqual(3);
    expect(w.writes.length).toBeLessThanOrEqual(7);
    expect(w.writes.flatMap((x) => x.updates)).toHaveLength(pushed.length);
    const worst = Math.max(...pushed.map((p, i) => doneAt[i]! - p.at));
    expect(worst).toBeLessThan(400 + 20 + 150);
    // The end of the burst is written once it pauses, not a whole interval later.
    const lastPush = pushed[pushed.length - 1]!.at;
    expect(w.writes[w.writes.length - 1]!.at - lastPush).toBeLessThan(50 + 100);
  });

  it('writes at once on drain, even in the middle of a stretched interval', async () => {
    const w = slowWriter(10);
    const q = createWriteQueue(w.write, { minIntervalMs: 5000, maxIntervalMs: 10_000 });
    await q.push([u(0)]);
    const p = q.push([u(1)]);
    const t0 = performance.now();
    await q.drain();
    await p;
    expect(performance.now() - t0).toBeLessThan(200);
    expect(w.writes).toHaveLength(2);
  });

  it('settles each caller with the write that carried its updates', async () => {
    let n = 0;
    const q = createWriteQueue(
      async () => {
        if (n++ === 0) throw new Error('disk full');
      },
      { minIntervalMs: 20, maxIntervalMs: 100 },
    );
    await expect(q.push([u(0)])).rejects.toThrow('disk full');
    await expect(q.push([u(1)])).resolves.toBeUndefined();
  });
});
