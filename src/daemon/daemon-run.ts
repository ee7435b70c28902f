// One run of the daemon, in small steps: the run's event sinks, reconcile() at exactly one commit
// under the lease, the sinks flushed (or told of the error), then what the run means for the loop
// (classify), for the metrics and for /healthz (the LastRun record). Time comes from the Clock.
import { LeaseBusyError, type SharedLease } from '../apply/lease.js';
import type { SiteTurns } from '../apply/site-turns.js';
import { reconcile, type ReconcileRequest, type ReconcileResult } from '../apply/reconcile.js';
import type { Clock } from '../core/clock.js';
import { formatProblem, InputError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { DesiredFleet } from '../core/model.js';
import type { ApplyEvent } from '../core/outcome.js';
import type { Plan } from '../core/plan.js';
import type { CommitInfo } from '../core/ports.js';
import type { DaemonMetrics, RunResult } from './metrics.js';
import type { RunReport } from './watch-loop.js';

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

/** What a run needs from the daemon around it. */
export interface RunDeps {
  /** Read at the start of the run (a reload takes effect at the next run). */
  readonly settings: () => RunSettings;
  /** The run's own sink (commit statuses); a failure to make it is logged and the run goes on. */
  readonly runSink?: (commit: CommitInfo) => Promise<EventSink | null>;
  /** Every run's sinks (the metrics first). */
  readonly sinks: readonly EventSink[];
  readonly metrics: DaemonMetrics;
  readonly leaseWaitMs?: number;
  /** The lease shared by overlapping runs, and the sites' turns between them. */
  readonly lease: SharedLease;
  readonly turns: SiteTurns;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** How one run ended: reconcile's result (null when it threw), the error to show, the report for the loop. */
export interface RunEnd {
  result: ReconcileResult | null;
  error: string | null;
  report: RunReport;
}

/** One run: reconcile() at exactly this commit with its sinks, then what it means (LastRun, metrics, logs). */
export async function runOnce(
  d: RunDeps,
  commit: CommitInfo,
  why: string,
  mayOverlap: () => void = () => {},
): Promise<{ report: RunReport; lastRun: LastRun }> {
  const startedAt = d.clock.now();
  d.metrics.reconcileBegins();
  d.logger.info({ event: 'reconcile-started', commit: commit.sha, subject: commit.subject, why }, 'reconcile started');
  const sinks = [...d.sinks];
  const end = await reconcileAt(d, commit, sinks, mayOverlap);
  await closeSinks(sinks, end, d.logger);
  const lastRun = recordRun(d.metrics, commit, end, startedAt, d.clock.now());
  logRunFinished(d.logger, lastRun, end);
  return { report: end.report, lastRun };
}

/** The run's sink (added to `sinks`), then reconcile() under the lease; every error becomes a RunEnd. */
export async function reconcileAt(d: RunDeps, commit: CommitInfo, sinks: EventSink[], mayOverlap: () => void = () => {}): Promise<RunEnd> {
  try {
    const extra = await d.runSink?.(commit).catch((e: unknown) => {
      d.logger.warn({ commit: commit.sha, err: (e as Error).message }, 'could not prepare the commit statuses of this run; applying without them');
      return null;
    });
    if (extra) sinks.push(extra);
    const settings = d.settings();
    const result = await reconcile({
      ...settings,
      ref: commit.sha,
      signal: d.signal,
      onEvent: fanOut(sinks, d.logger),
      onPlan: (p, dsr) => planToSinks(sinks, p, dsr, d.logger),
      sdxFor: async (fleet) => d.metrics.trackClient(await settings.sdxFor(fleet)),
      // The daemon holds the lease only while it applies: one applying process at a time, across
      // every clone. Its own runs overlap under it: a newer commit's run begins once this run's
      // intents are stored, and takes each site over (apply/site-turns.ts).
      lease: { purpose: 'watch', waitMs: d.leaseWaitMs, shared: d.lease },
      turns: d.turns,
      onSending: mayOverlap,
    });
    const report = classify(result);
    const error = report.retry ? (result.results.find((x) => x.outcome === 'failed' && x.job_id === null)?.reason ?? null) : null;
    return { result, error, report };
  } catch (e) {
    return { result: null, ...failedRun(e, d.signal) };
  }
}

/** What an error thrown by a run means for the loop. */
export function failedRun(e: unknown, signal: AbortSignal): Omit<RunEnd, 'result'> {
  // The commit itself is wrong: retrying cannot help; the next commit (or a reload) may.
  if (e instanceof InputError) return { error: e.problems.map(formatProblem).join('\n'), report: { result: 'invalid', retry: false, followUp: false } };
  if (e instanceof LeaseBusyError && signal.aborted) return { error: null, report: { result: 'interrupted', retry: false, followUp: false } };
  return { error: (e as Error)?.message ?? String(e), report: { result: 'error', retry: true, followUp: false } };
}

/** The ApplyEvent fan-out of one run: a sink that throws is logged, and the others still get the event. */
export function fanOut(sinks: readonly EventSink[], log: Logger): (e: ApplyEvent) => void {
  return (e) => {
    for (const s of sinks) {
      try {
        s.onEvent(e);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'an event sink failed');
      }
    }
  };
}

async function planToSinks(sinks: readonly EventSink[], plan: Plan, desired: DesiredFleet, log: Logger): Promise<void> {
  for (const s of sinks) {
    await Promise.resolve(s.onPlan?.(plan, desired)).catch((e: unknown) => log.warn({ err: (e as Error).message }, 'an event sink could not take the plan'));
  }
}

/** Flush every sink, or (a run that threw after its plan) tell it the error's first line; failures only logged. */
export async function closeSinks(sinks: readonly EventSink[], end: RunEnd, log: Logger): Promise<void> {
  for (const s of sinks) {
    const done = end.error !== null && !end.result && s.abort ? s.abort(end.error.split('\n')[0]!) : s.flush?.();
    await done?.catch((e: unknown) => log.warn({ err: (e as Error).message }, 'an event sink could not flush'));
  }
}

/** The run in the metrics, and its LastRun record (for /healthz and /status). */
export function recordRun(metrics: DaemonMetrics, commit: CommitInfo, end: RunEnd, startedAt: number, finishedAt: number): LastRun {
  const durationMs = finishedAt - startedAt;
  metrics.recordReconcile(end.report.result, durationMs, new Date(finishedAt));
  metrics.reconcileEnds();
  if (end.result) metrics.pendingJobs = pendingCount(end.result);
  if (end.report.result === 'succeeded') {
    const t = Date.parse(commit.time);
    if (Number.isFinite(t)) metrics.lastAppliedCommitTime = t / 1000;
  }
  return {
    commit: commit.sha,
    subject: commit.subject,
    started_at: new Date(startedAt).toISOString(),
    finished_at: new Date(finishedAt).toISOString(),
    duration_ms: durationMs,
    result: end.report.result,
    summary: end.result?.summary ?? null,
    error: end.error,
  };
}

function logRunFinished(log: Logger, lastRun: LastRun, end: RunEnd): void {
  const fields = {
    event: 'reconcile-finished',
    commit: lastRun.commit,
    result: lastRun.result,
    duration_ms: lastRun.duration_ms,
    summary: lastRun.summary,
    requests: end.result?.requests,
    retry: end.report.retry,
    follow_up: end.report.followUp,
  };
  if (lastRun.result === 'error' || lastRun.result === 'invalid')
    log.error({ ...fields, err: end.error }, end.report.retry ? 'reconcile failed; it will be retried' : 'the commit is invalid; nothing was sent');
  else log.info(fields, 'reconcile finished');
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
