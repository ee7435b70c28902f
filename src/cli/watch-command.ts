// `watch`: the daemon. Parses its flags; the daemon's wiring, its lock and its signals are in
// src/daemon/run-watch.ts.
import { parseListen } from '../core/listen.js';
import { runWatch } from '../daemon/run-watch.js';
import { parseOptions } from '../wiring/options.js';
import type { Context } from './context.js';
import { WATCH_SPEC } from './option-specs.js';

export async function watchCommand(ctx: Context, raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(WATCH_SPEC, raw);
  const signal = ctx.io.signal ?? new AbortController().signal;
  return runWatch(
    ctx.runtime,
    {
      ...opts,
      stateRemote: opts.stateRemote,
      jitter: (opts.jitter ?? 10) / 100,
      debounceMs: opts.debounce,
      intervalMs: opts.interval,
      retryIntervalMs: opts.retryInterval,
      shutdownTimeoutMs: opts.shutdownTimeout,
      listen: opts.listen !== undefined ? parseListen(opts.listen) : undefined,
      leaseWaitMs: opts.leaseTimeout ?? opts.lockTimeout ?? 300_000,
    },
    { err: (t) => ctx.err(t), signal },
  );
}
