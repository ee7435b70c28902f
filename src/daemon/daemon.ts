// The watch-mode daemon's core: the loop (watch-loop.ts) around reconcile(), the apply lock held
// during each run, metrics and the HTTP endpoints, an ApplyEvent fan-out, and a clean stop. The CLI
// entry (src/cli/watch-command.ts) builds the adapters and the settings and calls startDaemon.
import { reconcile, type ReconcileRequest, type ReconcileResult } from '../apply/reconcile.js';
import type { Plan } from '../core/plan.js';
import type { DesiredFleet } from '../core/model.js';
import type { ApplyEvent } from '../core/outcome.js';
import { InputError, formatProblem } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { CommitInfo } from '../core/ports.js';
import { LeaseBusyError } from '../apply/lease.js';
import { startHttpServer, type HttpServer } from './http-server.js';
import { DaemonMetrics, type RunResult } from './metrics.js';
import { WatchLoop, type HeadSource, type RunReport } from './watch-loop.js';

/** A consumer of every run's ApplyEvents (the metrics, a GitHub commit status writer). */
export interface EventSink {
  /** Called with the run's plan before its first job (a status writer sizes the run here). */
  onPlan?(plan: Plan, desired: DesiredFleet): void | Promise<void>;
  onEvent(e: ApplyEvent): void;
  /** Called after each run (e.g. to send statuses still queued); awaited, failures only logged. */
  flush?(): Promise<void>;
  /** Called instead of flush when the run stopped with an error after its plan. */
  abort?(reason: string): Promise<void>;
}

/** What reconcile() gets on every run, apart from the commit, the stop signal and the event sink. */
export type RunSettings = Omit<ReconcileRequest, 'ref' | 'signal' | 'onEvent' | 'onPlan'>;

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
}

export interface LastRun {
  commit: string;
  subject: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  result: RunResult;
  summary: ReconcileResult['summary'] | null;
  error: string | null;
}

export interface Daemon {
  /** The HTTP endpoints' base URL, when listening. */
  readonly url: string | null;
  /** Ask for a run now, even at the same head (after a reload). */
  reconcileNow(why: string): void;
  /** Resolves with the exit code once stopped: 0 after a clean stop. */
  readonly done: Promise<number>;
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const log = opts.logger;
  const metrics = new DaemonMetrics({ mode: opts.head.mode, ...opts.info });
  const staticSinks: EventSink[] = [metrics, ...(opts.sinks ?? [])];
  /** The ApplyEvent fan-out of one run. */
  const fanOut = (sinks: readonly EventSink[]) => (e: ApplyEvent) => {
    for (const s of sinks) {
      try {
        s.onEvent(e);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'an event sink failed');
      }
    }
  };
  let lastRun: LastRun | null = null;
  let lastApplied: string | null = null;
  let stopping = false;
  let started = false;

  /** One run: the apply lock, reconcile() at exactly this commit, then what it means for the loop. */
  const run = async (commit: CommitInfo, why: string): Promise<RunReport> => {
    const startedAt = new Date();
    metrics.reconciling = true;
    log.info({ event: 'reconcile-started', commit: commit.sha, subject: commit.subject, why }, 'reconcile started');
    let report: RunReport;
    let result: ReconcileResult | null = null;
    let error: string | null = null;
    const sinks = [...staticSinks];
    try {
      const extra = await opts.runSink?.(commit).catch((e: unknown) => {
        log.warn({ commit: commit.sha, err: (e as Error).message }, 'could not prepare the commit statuses of this run; applying without them');
        return null;
      });
      if (extra) sinks.push(extra);
      const settings = opts.settings();
      result = await reconcile({
        ...settings,
        ref: commit.sha,
        signal: opts.signal,
        onEvent: fanOut(sinks),
        onPlan: async (p, d) => {
          for (const s of sinks) {
            await Promise.resolve(s.onPlan?.(p, d)).catch((e: unknown) => log.warn({ err: (e as Error).message }, 'an event sink could not take the plan'));
          }
        },
        sdxFor: async (fleet) => metrics.trackClient(await settings.sdxFor(fleet)),
        // The daemon holds the lease only while it applies: one run at a time, across every clone.
        lease: { purpose: 'watch', waitMs: opts.leaseWaitMs },
      });
      report = classify(result);
      if (report.retry) error = result.results.find((x) => x.outcome === 'failed' && x.job_id === null)?.reason ?? null;
    } catch (e) {
      if (e instanceof InputError) {
        // The commit itself is wrong: retrying cannot help; the next commit (or a reload) may.
        error = e.problems.map(formatProblem).join('\n');
        report = { result: 'invalid', retry: false, followUp: false };
      } else if (e instanceof LeaseBusyError && opts.signal.aborted) {
        report = { result: 'interrupted', retry: false, followUp: false };
      } else {
        error = (e as Error)?.message ?? String(e);
        report = { result: 'error', retry: true, followUp: false };
      }
    }
    for (const s of sinks) {
      const done = error !== null && !result && s.abort ? s.abort(error.split('\n')[0]!) : s.flush?.();
      await done?.catch((e: unknown) => log.warn({ err: (e as Error).message }, 'an event sink could not flush'));
    }
    const finishedAt = new Date();
    const durationMs = finishedAt.getTime() - startedAt.getTime();
    metrics.recordReconcile(report.result, durationMs, finishedAt);
    metrics.reconciling = false;
    if (result) metrics.pendingJobs = pendingCount(result);
    if (report.result === 'succeeded') {
      lastApplied = commit.sha;
      const t = Date.parse(commit.time);
      if (Number.isFinite(t)) metrics.lastAppliedCommitTime = t / 1000;
    }
    lastRun = {
      commit: commit.sha,
      subject: commit.subject,
      started_at: startedAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      duration_ms: durationMs,
      result: report.result,
      summary: result?.summary ?? null,
      error,
    };
    const fields = {
      event: 'reconcile-finished',
      commit: commit.sha,
      result: report.result,
      duration_ms: durationMs,
      summary: lastRun.summary,
      requests: result?.requests,
      retry: report.retry,
      follow_up: report.followUp,
    };
    if (report.result === 'error' || report.result === 'invalid')
      log.error({ ...fields, err: error }, report.retry ? 'reconcile failed; it will be retried' : 'the commit is invalid; nothing was sent');
    else log.info(fields, 'reconcile finished');
    updateReady();
    return report;
  };

  const head: HeadSource = {
    mode: opts.head.mode,
    describe: opts.head.describe,
    resolve: () => opts.head.resolve(),
    watch: (onChange) => opts.head.watch(onChange),
    close: () => opts.head.close(),
    refresh: async () => {
      if (opts.head.mode !== 'remote') return opts.head.refresh();
      try {
        await opts.head.refresh();
        metrics.recordFetch(true);
      } catch (e) {
        metrics.recordFetch(false);
        throw e;
      }
    },
  };
  const loop = new WatchLoop({
    head,
    run,
    intervalMs: opts.intervalMs,
    retryIntervalMs: opts.retryIntervalMs,
    jitter: opts.jitter,
    logger: log,
  });

  const health = () => {
    const snap = loop.snapshot();
    const ready = isReady();
    const status = stopping ? 'stopping' : !lastRun ? 'starting' : ready ? 'ready' : 'failing';
    return {
      ready,
      body: {
        status,
        ready,
        mode: opts.head.mode,
        ref: opts.head.describe,
        head: snap.head?.sha ?? null,
        reconciling: snap.running,
        last_applied_revision: lastApplied,
        last_attempted_revision: snap.lastAttempted,
        last_reconcile: lastRun,
        pending_jobs: metrics.pendingJobs,
        consecutive_failures: snap.consecutiveFailures,
        next_retry_at: snap.nextRetryAt,
      },
    };
  };
  /** Ready: started, not stopping, and the last run did not fail with an error (git, SDX, state unreachable). */
  const isReady = () => started && !stopping && lastRun !== null && lastRun.result !== 'error' && lastRun.result !== 'interrupted';
  const updateReady = () => (metrics.ready = isReady());

  // /status reads the state (a git fetch with a remote): one read serves every request for a second.
  let statusCache: { at: number; value: Promise<{ state: string; sites: unknown[] }> } | null = null;
  const siteStatus = () => {
    if (!statusCache || Date.now() - statusCache.at > 1000) statusCache = { at: Date.now(), value: opts.siteStatus() };
    return statusCache.value;
  };

  let server: HttpServer | null = null;
  if (opts.listen) {
    try {
      server = await startHttpServer(
        opts.listen,
        {
          health,
          metrics: () => metrics.render(),
          status: async () => {
            const { head, ...rest } = health().body;
            return { daemon: { ...rest, head }, ...(await siteStatus()) };
          },
        },
        log,
        opts.redact,
      );
    } catch (e) {
      throw new Error(`cannot listen on ${opts.listen.host}:${opts.listen.port} (--listen): ${(e as Error).message}`);
    }
    log.info({ event: 'listening', url: server.url }, `serving /healthz, /metrics and /status on ${server.url}`);
  }

  const stop = async (): Promise<number> => {
    stopping = true;
    updateReady();
    log.info(
      { event: 'stopping', reason: String((opts.signal.reason as Error)?.message ?? opts.signal.reason ?? 'stop') },
      'stopping: no new run; the run in progress records what it knows',
    );
    const bound = opts.shutdownTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([loop.stop().then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), bound)))]);
    clearTimeout(timer);
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
  };

  const done = new Promise<number>((resolve, reject) => {
    const onAbort = () => void stop().then(resolve, reject);
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  });

  if (!opts.signal.aborted) {
    await loop.start();
    started = true;
    updateReady();
    log.info(
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

/** What a finished reconcile means for the loop. */
export function classify(r: ReconcileResult): RunReport {
  if (r.interrupted) return { result: 'interrupted', retry: false, followUp: false };
  // A change that could not be sent (SDX unreachable, 5xx after the client's own retries) is
  // transient: its intent is stored, and a retry finds or creates the same job by its key.
  const unsent = r.results.some((x) => x.outcome === 'failed' && x.job_id === null && x.change.action === 'create');
  // A job SDX lost (or that was cancelled there) never ran: the follow-up run sends it again.
  const pending = pendingCount(r) > 0 || r.summary.lost + r.summary.cancelled > 0;
  if (unsent) return { result: 'error', retry: true, followUp: false };
  // Changes blocked behind a job that is still pending go out once it ends: that is pending, not failed.
  if (r.summary.failed || (r.summary.blocked && !pending)) return { result: 'failed', retry: false, followUp: pending };
  if (pending) return { result: 'pending', retry: false, followUp: true };
  return { result: 'succeeded', retry: false, followUp: false };
}

function pendingCount(r: ReconcileResult): number {
  return r.summary.queued + r.summary.timed_out;
}
