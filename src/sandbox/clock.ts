// The sandbox's time sources: the real clock, and a manual one that tests move by hand.
import type { SandboxClock } from './options.js';

/** The real clock; timers do not keep the process alive. */
export const realClock: SandboxClock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

/** A clock that only moves when told: `advance(ms)` fires due router timers in order. */
export function createManualClock(startMs = Date.UTC(2025, 0, 1)): SandboxClock & { advance(ms: number): void } {
  let now = startMs;
  let seq = 0;
  let timers: Array<{ at: number; seq: number; fn: () => void; live: boolean }> = [];
  return {
    now: () => now,
    setTimer(fn, ms) {
      const t = { at: now + Math.max(0, ms), seq: seq++, fn, live: true };
      timers.push(t);
      return () => {
        t.live = false;
      };
    },
    advance(ms) {
      const target = now + Math.max(0, ms);
      for (;;) {
        timers = timers.filter((t) => t.live);
        let next: (typeof timers)[number] | undefined;
        for (const t of timers) if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
        if (!next) break;
        next.live = false;
        now = next.at;
        next.fn();
      }
      now = target;
    },
  };
}
