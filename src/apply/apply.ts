// Apply: execute a plan. The only code that changes the world. Sites go in parallel up to the
// concurrency limit, each in its own lane (site-lane.ts); within a site, changes go one at a time in
// file order. Exactly once: the intent (key, content) of every change is stored before any job is
// created, keys are deterministic and never repeat (core/keys.ts), and the client turns a replayed
// key into the original job.
import PQueue from 'p-queue';
import { realClock, type Clock } from '../core/clock.js';
import type { SdxClient } from '../core/jobs.js';
import type { Logger } from '../core/logger.js';
import type { DesiredFleet } from '../core/model.js';
import { emptySummary, FAILING_OUTCOMES, type ApplyEvent, type ApplyResult, type ChangeResult } from '../core/outcome.js';
import type { Plan } from '../core/plan.js';
import type { StateStore } from '../core/ports.js';
import type { AppliedState } from '../core/state.js';
import { intentUpdates, scriptIndex } from './records.js';
import { createRunContext } from './run-context.js';
import { runSiteLane } from './site-lane.js';
import type { SiteTurns } from './site-turns.js';

export type { ApplyEvent, ApplyResult, ApplySummary, ChangeResult, Outcome } from '../core/outcome.js';

export interface ApplyOptions {
  sdx: SdxClient;
  store: StateStore;
  logger: Logger;
  /** Sites applied at once. */
  concurrency: number;
  /** Create the jobs and return without following them. */
  noWait?: boolean;
  /** SDX web UI base, to make log_url absolute. */
  webUrl: string;
  /** First poll of a job this many ms after it was created; then ×1.5 (×2 while queued) up to pollMaxMs. Defaults 3000 and 30000. */
  pollInitialMs?: number;
  pollMaxMs?: number;
  /** Stop intake: no new job is created; jobs being followed are recorded as they are. */
  signal?: AbortSignal;
  /** The apply lease held for this run: no job is sent once it may have been lost. */
  lease?: { canSend(): boolean; lost: AbortSignal };
  /** The check value of the secrets key, recorded the first time (see core/keys.ts). */
  secretsKeyCheck?: string | null;
  onEvent?: (e: ApplyEvent) => void;
  /** Default: the real clock. */
  clock?: Clock;
  /**
   * Sites' turns shared with other runs of this process that may overlap this one (the daemon): a
   * newer run takes each site over from this one (see site-turns.ts). Default: none.
   */
  turns?: SiteTurns;
  /** Called once the intents are stored, before the first job is created: a newer run may start planning. */
  onSending?: () => void;
}

export async function applyPlan(plan: Plan, desired: DesiredFleet, state: AppliedState, opts: ApplyOptions): Promise<ApplyResult> {
  const clock = opts.clock ?? realClock;
  const iso = () => new Date(clock.now()).toISOString();
  const scriptOf = scriptIndex(desired);
  const statsBefore = opts.sdx.stats();
  const retriesBefore = { ...statsBefore.retriesByCause };

  // 1. Store the intent of every job before creating any: a crashed run's job is then always found
  //    (same key) or superseded (its key is known), and no older run can start later.
  const intents = intentUpdates(plan, state, scriptOf, iso(), opts.secretsKeyCheck ?? null);
  if (intents.length) await opts.store.record(intents);
  opts.onSending?.();

  const run = createRunContext({
    sdx: opts.sdx,
    store: opts.store,
    logger: opts.logger,
    clock,
    state,
    noWait: !!opts.noWait,
    poll: { initialMs: opts.pollInitialMs ?? 3000, maxMs: opts.pollMaxMs ?? 30_000 },
    webUrl: opts.webUrl,
    signal: opts.signal,
    lease: opts.lease,
    scriptOf,
    onEvent: opts.onEvent,
    turns: opts.turns?.begin(plan.commit.sha.slice(0, 7)),
  });
  const results: ChangeResult[] = [];
  const finish = (r: Omit<ChangeResult, 'finished_at'>): ChangeResult => {
    const full = { ...r, finished_at: iso() };
    results.push(full);
    run.ctx.emit({ type: 'result', result: full });
    return full;
  };

  // 2. The lanes. A lane never throws; the client is closed by the caller only after every lane ended.
  const queue = new PQueue({ concurrency: Math.max(1, opts.concurrency) });
  await Promise.all(plan.sites.filter((s) => s.changes.length).map((s) => queue.add(() => runSiteLane(run.ctx, s, finish))));
  // Removed sites with nothing live left are marked removed.
  for (const s of plan.sites) if (s.removed && !s.changes.length && s.status === 'ok') run.ctx.write([{ site_id: s.site_id, site: s.site, removed_at: iso() }]);
  await run.flush();

  const order = new Map(plan.changes.map((c, i) => [c, i]));
  results.sort((a, b) => order.get(a.change)! - order.get(b.change)!);
  const summary = emptySummary();
  for (const r of results) summary[r.outcome]++;
  const stats = opts.sdx.stats();
  const retries: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats.retriesByCause)) if (v - (retriesBefore[k] ?? 0) > 0) retries[k] = v - (retriesBefore[k] ?? 0);
  const interrupted = run.stopReason() !== null;
  const failing = results.some((r) => FAILING_OUTCOMES.has(r.outcome)) || plan.missing_history.length > 0 || interrupted;
  return {
    plan,
    results,
    summary,
    exitCode: failing ? 1 : 0,
    requests: stats.requests - statsBefore.requests,
    retries,
    interrupted,
    stop_reason: run.stopReason(),
  };
}
