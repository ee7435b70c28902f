// The watch-mode daemon's core: the loop (watch-loop.ts) around one run at a time (daemon-run.ts:
// reconcile() under the lease, an ApplyEvent fan-out), metrics and the HTTP endpoints, and a clean
// stop. Its entry (run-watch.ts) builds the adapters and the settings and calls startDaemon.
import { type Clock, realClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { CommitInfo } from '../core/ports.js';
import { type EventSink, type LastRun, type RunDeps, type RunSettings, runOnce } from './daemon-run.js';
import { startHttpServer, type HttpServer } from './http-server.js';
import { SharedLease } from '../apply/lease.js';
import { SiteTurns } from '../apply/site-turns.js';
import { DaemonMetrics } from './metrics.js';
import { WatchLoop, type HeadSource, type RunReport } from './watch-loop.js';

export { classify, type EventSink, type LastRun, type RunSettings } from './daemon-run.js';

export interface DaemonOptions {
  readonly head: HeadSource;
  /** Read at the start of every run, so that a reload (SIGHUP) takes effect at the next run. */
  readonly settings: () => RunSettings;
  /** How long each run waits for the apply lease held by another run (an `apply`, another clone's daemon). Default 300 000 ms. */
  readonly leaseWaitMs?: number;
  /** Per-site status for /status, from the state store. */
  readonly siteStatus: () => Promise<{ state: string; sites: unknown[] }>;
  /** More ApplyEvent consumers for every run; the daemon's own metrics always get every event. Default none. */
  readonly sinks?: readonly EventSink[];
  /**
   * A consumer for one run only (a commit status writer, which needs the run's commit), made once
   * the apply lock is held; flushed after the run. A failure here is logged and the run goes on
   * without it: reporting must never stop an apply. Default none.
   */
  readonly runSink?: (commit: CommitInfo) => Promise<EventSink | null>;
  /** Serve /healthz, /metrics and /status here. Default: no HTTP server. */
  readonly listen?: { host: string; port: number };
  /** See WatchLoopOptions. */
  readonly intervalMs: number;
  readonly retryIntervalMs: number;
  readonly jitter?: number;
  /** How long a stop waits for the run in progress to record what it knows. Default 30 000 ms. */
  readonly shutdownTimeoutMs?: number;
  /** Aborted on SIGTERM/SIGINT: stop intake, let the run end, return. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Labels of routeros_gitops_info (version...). */
  readonly info?: Record<string, string>;
  /** Scrubs secrets from every HTTP answer (the entry's redactor; read on each answer). Default: none. */
  readonly redact?: (text: string) => string;
  /** Run times, the /status cache and the shutdown bound. Default realClock. */
  readonly clock?: Clock;
}

export interface Daemon {
  /** The HTTP endpoints' base URL, when listening. */
  readonly url: string | null;
  /** Ask for a run now, even at the same head (after a reload). */
  reconcileNow(why: string): void;
  /** Resolves with the exit code once stopped: 0 after a clean stop. */
  readonly done: Promise<number>;
}

/** What the daemon knows between runs (read by /healthz, /status and the readiness gauge). */
interface DaemonState {
  lastRun: LastRun | null;
  lastApplied: string | null;
  stopping: boolean;
  started: boolean;
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const clock = opts.clock ?? realClock;
  const metrics = new DaemonMetrics({ mode: opts.head.mode, ...opts.info });
  const state: DaemonState = { lastRun: null, lastApplied: null, stopping: false, started: false };
  const updateReady = () => (metrics.ready = isReady(state));
  const deps: RunDeps = {
    // Overlapping runs share one lease and take sites over from each other (apply/site-turns.ts).
    turns: new SiteTurns(),
    lease: new SharedLease(),
    settings: opts.settings,
    runSink: opts.runSink,
    sinks: [metrics, ...(opts.sinks ?? [])],
    metrics,
    leaseWaitMs: opts.leaseWaitMs,
    signal: opts.signal,
    logger: opts.logger,
    clock,
  };
  let begun = 0;
  let lastAppliedBy = 0;
  const run = async (commit: CommitInfo, why: string, mayOverlap: () => void): Promise<RunReport> => {
    const seq = ++begun;
    const { report, lastRun } = await runOnce(deps, commit, why, mayOverlap);
    state.lastRun = lastRun;
    // Runs overlap: an older run that ends last does not make its commit the last applied.
    if (report.result === 'succeeded' && seq > lastAppliedBy) {
      state.lastApplied = commit.sha;
      lastAppliedBy = seq;
    }
    updateReady();
    return report;
  };
  const loop = new WatchLoop({
    head: meteredHead(opts.head, metrics),
    run,
    intervalMs: opts.intervalMs,
    retryIntervalMs: opts.retryIntervalMs,
    jitter: opts.jitter,
    logger: opts.logger,
  });
  const health = () => healthOf(opts.head, state, loop, metrics);
  const server = opts.listen ? await serveEndpoints(opts, opts.listen, health, metrics, cachedSiteStatus(opts.siteStatus, clock)) : null;

  const done = new Promise<number>((resolve, reject) => {
    const onAbort = () => {
      state.stopping = true;
      updateReady();
      void stopDaemon(opts, loop, server, clock).then(resolve, reject);
    };
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  });

  if (!opts.signal.aborted) {
    await loop.start();
    state.started = true;
    updateReady();
    opts.logger.info(
      { event: 'watching', mode: opts.head.mode, ref: opts.head.describe, interval_ms: opts.intervalMs, retry_interval_ms: opts.retryIntervalMs },
      `watching ${opts.head.describe}`,
    );
  }

  return {
    url: server?.url ?? null,
    reconcileNow: (why) => loop.kick(why, true),
    done,
  };
}

/** The followed head, with each fetch of a remote counted in the metrics. */
export function meteredHead(source: HeadSource, metrics: DaemonMetrics): HeadSource {
  return {
    mode: source.mode,
    describe: source.describe,
    resolve: () => source.resolve(),
    watch: (onChange) => source.watch(onChange),
    close: () => source.close(),
    refresh: async () => {
      if (source.mode !== 'remote') return source.refresh();
      try {
        await source.refresh();
        metrics.recordFetch(true);
      } catch (e) {
        metrics.recordFetch(false);
        throw e;
      }
    },
  };
}

/** Ready: started, not stopping, and the last run did not fail with an error (git, SDX, state unreachable). */
function isReady(s: DaemonState): boolean {
  return s.started && !s.stopping && s.lastRun !== null && s.lastRun.result !== 'error' && s.lastRun.result !== 'interrupted';
}

/** /healthz: readiness, and the body Flux-like tools read (last applied and attempted revisions). */
function healthOf(head: HeadSource, s: DaemonState, loop: WatchLoop, metrics: DaemonMetrics) {
  const snap = loop.snapshot();
  const ready = isReady(s);
  const status = s.stopping ? 'stopping' : !s.lastRun ? 'starting' : ready ? 'ready' : 'failing';
  return {
    ready,
    body: {
      status,
      ready,
      mode: head.mode,
      ref: head.describe,
      head: snap.head?.sha ?? null,
      reconciling: snap.running,
      last_applied_revision: s.lastApplied,
      last_attempted_revision: snap.lastAttempted,
      last_reconcile: s.lastRun,
      pending_jobs: metrics.pendingJobs,
      consecutive_failures: snap.consecutiveFailures,
      next_retry_at: snap.nextRetryAt,
    },
  };
}

type SiteStatus = { state: string; sites: unknown[] };

/** /status reads the state (a git fetch with a remote): one read serves every request for a second. */
export function cachedSiteStatus(read: () => Promise<SiteStatus>, clock: Clock, maxAgeMs = 1000): () => Promise<SiteStatus> {
  let cache: { at: number; value: Promise<SiteStatus> } | null = null;
  return () => {
    const now = clock.now();
    if (!cache || now - cache.at > maxAgeMs) cache = { at: now, value: read() };
    return cache.value;
  };
}

/** Serve /healthz, /metrics and /status; a port that cannot be had names --listen. */
async function serveEndpoints(
  opts: DaemonOptions,
  listen: { host: string; port: number },
  health: () => ReturnType<typeof healthOf>,
  metrics: DaemonMetrics,
  siteStatus: () => Promise<SiteStatus>,
): Promise<HttpServer> {
  let server: HttpServer;
  try {
    server = await startHttpServer(
      listen,
      {
        health,
        metrics: () => metrics.render(),
        status: async () => {
          const { head, ...rest } = health().body;
          return { daemon: { ...rest, head }, ...(await siteStatus()) };
        },
      },
      opts.logger,
      opts.redact,
    );
  } catch (e) {
    throw new Error(`cannot listen on ${listen.host}:${listen.port} (--listen): ${(e as Error).message}`);
  }
  opts.logger.info({ event: 'listening', url: server.url }, `serving /healthz, /metrics and /status on ${server.url}`);
  return server;
}

/** Stop intake, give the run in progress up to shutdownTimeoutMs to record what it knows, close the server: the exit code. */
async function stopDaemon(opts: DaemonOptions, loop: WatchLoop, server: HttpServer | null, clock: Clock): Promise<number> {
  const log = opts.logger;
  log.info(
    { event: 'stopping', reason: String((opts.signal.reason as Error)?.message ?? opts.signal.reason ?? 'stop') },
    'stopping: no new run; the run in progress records what it knows',
  );
  const bound = opts.shutdownTimeoutMs ?? 30_000;
  const waited = new AbortController();
  const timedOut = await Promise.race([loop.stop().then(() => false), clock.sleep(bound, waited.signal).then(() => true)]);
  waited.abort();
  await server?.close();
  if (timedOut) {
    log.error(
      { event: 'stopped', timed_out: true },
      `the run in progress did not end within ${bound} ms; stopping anyway (its pending jobs are followed by the next start)`,
    );
    return 1;
  }
  log.info({ event: 'stopped' }, 'stopped');
  return 0;
}
