// The turns of overlapping runs (apply/site-turns.ts): a newer run gets a site only once every older
// run's write to it has ended; an older run never takes a site back; a job a newer run cancelled
// is known as superseded.
import { describe, expect, it } from 'vitest';
import { SiteTurns } from '../src/apply/site-turns.js';

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('site turns', () => {
  it('hands a site over at once when the older run is not writing to it, and after its write when it is', async () => {
    const turns = new SiteTurns();
    const r1 = turns.begin('aaaaaaa');
    const r2 = turns.begin('bbbbbbb');
    const t1 = await r1.take('s');
    expect(t1.handedTo).toBeNull();
    // r1 is between writes: r2 gets the site at once.
    const t2 = await r2.take('s');
    expect(t1.handedTo).toBe('bbbbbbb');
    expect(t2.handedTo).toBeNull();

    // r2 writes; r3 asks meanwhile: it waits for the write to end.
    const r3 = turns.begin('ccccccc');
    const post = deferred<string>();
    const writing = t2.write(() => post.promise);
    let got = false;
    const t3p = r3.take('s').then((t) => {
      got = true;
      return t;
    });
    await tick();
    expect(got).toBe(false);
    expect(t2.handedTo).toBe('ccccccc');
    post.resolve('job');
    expect(await writing).toBe('job');
    const t3 = await t3p;
    expect(got).toBe(true);
    expect(t3.handedTo).toBeNull();
  });

  it('makes the newest run wait for the oldest write when a middle run took over but never wrote', async () => {
    const turns = new SiteTurns();
    const r1 = turns.begin('1111111');
    const r2 = turns.begin('2222222');
    const r3 = turns.begin('3333333');
    const t1 = await r1.take('s');
    const post = deferred();
    const writing = t1.write(() => post.promise);
    let second = false;
    void r2.take('s').then(() => (second = true));
    let third = false;
    void r3.take('s').then(() => (third = true));
    await tick();
    expect([second, third]).toEqual([false, false]);
    post.resolve();
    await writing;
    await tick();
    expect([second, third]).toEqual([true, true]);
  });

  it('never gives a site back to an older run, and a lane that ended frees it', async () => {
    const turns = new SiteTurns();
    const older = turns.begin('0000001');
    const newer = turns.begin('0000002');
    const tn = await newer.take('s');
    const to = await older.take('s'); // the older run's lane starts late
    expect(to.handedTo).toBe('0000002');
    expect(tn.handedTo).toBeNull();
    // A lane that ended: the next run does not wait for anything.
    tn.done();
    const t3 = await turns.begin('0000003').take('s');
    expect(t3.handedTo).toBeNull();
  });

  it('remembers which run cancelled a job to send newer content', () => {
    const turns = new SiteTurns();
    const r = turns.begin('abcdef1');
    r.noteSuperseded('job-1');
    expect(turns.begin('x').supersededBy('job-1')).toBe('abcdef1');
    expect(r.supersededBy('job-2')).toBeUndefined();
  });
});
