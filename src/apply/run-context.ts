// What every part of one apply run shares: the SDX client, the clock, the state writes, the event
// fan-out, and whether the run may still send (not stopped, lease held).
import type { Clock } from '../core/clock.js';
import { SdxApiError } from '../core/errors.js';
import type { Job, SdxClient } from '../core/jobs.js';
import type { Logger } from '../core/logger.js';
import type { DesiredScript } from '../core/model.js';
import { absoluteUrl, type ApplyEvent, type ChangeResult } from '../core/outcome.js';
import type { PlannedChange } from '../core/plan.js';
import type { StateStore } from '../core/ports.js';
import type { AppliedState, ScriptRecord, StateUpdate } from '../core/state.js';
import { makeRecord, type RecordFields } from './records.js';
import type { RunTurns, SiteTurn } from './site-turns.js';

export interface RunContext {
  readonly sdx: SdxClient;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The state the plan was made from. */
  readonly state: AppliedState;
  readonly noWait: boolean;
  readonly poll: { initialMs: number; maxMs: number };
  /** Aborted when the run must stop waiting (a signal, or the lease lost). */
  readonly stopSignal: AbortSignal;
  scriptOf(c: PlannedChange): DesiredScript | undefined;
  /** The record the plan saw for a change's script. */
  previous(c: PlannedChange): ScriptRecord | undefined;
  /** Queue a state write (awaited at the end of the run). */
  write(updates: StateUpdate[]): void;
  /** Record change `c`'s send in `fields.phase`. */
  recordSend(c: PlannedChange, fields: Omit<RecordFields, 'at'>): void;
  emit(e: ApplyEvent): void;
  /**
   * Why no new job may be sent now (stopped, lease lost or about to expire; for `siteId`, the site
   * handed over to a newer run of this process), or null.
   */
  cannotSend(siteId?: string): string | null;
  /** Take the site's turn from an older run of this process (see site-turns.ts); at once without one. */
  takeSite(siteId: string): Promise<void>;
  /** Run one write (POST, DELETE) to the site: the site is not handed over in the middle of it. */
  writing<T>(siteId: string, write: () => Promise<T>): Promise<T>;
  /** The run writes to the site no more. */
  siteDone(siteId: string): void;
  /** The newer run of this process that took the site over, or null. */
  handedTo(siteId: string): string | null;
  /** Note a job this run cancelled to send newer content; and which run of this process cancelled a job so. */
  noteSuperseded(jobId: string): void;
  supersededBy(jobId: string): string | undefined;
  /** Whether the run was asked to stop. */
  stopped(): boolean;
  logUrl(job: Job | null): string | null;
  iso(): string;
}

export interface RunContextInput {
  sdx: SdxClient;
  store: StateStore;
  logger: Logger;
  clock: Clock;
  state: AppliedState;
  noWait: boolean;
  poll: { initialMs: number; maxMs: number };
  webUrl: string;
  signal?: AbortSignal;
  lease?: { canSend(): boolean; lost: AbortSignal };
  scriptOf(c: PlannedChange): DesiredScript | undefined;
  onEvent?: (e: ApplyEvent) => void;
  /** This run's turns among overlapping runs of this process (the daemon); absent: runs never overlap. */
  turns?: RunTurns;
}

export interface RunHandle {
  ctx: RunContext;
  /** Every state write queued so far; rejects with the first failure. */
  flush(): Promise<void>;
  /** Why the run stopped early, or null. */
  stopReason(): string | null;
}

export function createRunContext(input: RunContextInput): RunHandle {
  const pending: Promise<void>[] = [];
  const stop = new AbortController();
  let stopReason: string | null = null;
  const stopWith = (why: string) => {
    if (stopReason) return;
    stopReason = why;
    stop.abort(new Error(why));
  };
  if (input.signal) {
    const onSignal = () => stopWith(`the run was stopped (${(input.signal!.reason as Error | undefined)?.message ?? 'signal'})`);
    if (input.signal.aborted) onSignal();
    else input.signal.addEventListener('abort', onSignal, { once: true });
  }
  if (input.lease) {
    const onLost = () => stopWith('the apply lease was lost to another run');
    if (input.lease.lost.aborted) onLost();
    else input.lease.lost.addEventListener('abort', onLost, { once: true });
  }
  const iso = () => new Date(input.clock.now()).toISOString();
  const write = (updates: StateUpdate[]) => {
    const p = input.store.record(updates);
    p.catch(() => {}); // awaited by flush
    pending.push(p);
  };
  const held = new Map<string, SiteTurn>();
  const ctx: RunContext = {
    sdx: input.sdx,
    logger: input.logger,
    clock: input.clock,
    state: input.state,
    noWait: input.noWait,
    poll: input.poll,
    stopSignal: stop.signal,
    scriptOf: input.scriptOf,
    previous: (c) => input.state.sites[c.site_id]?.scripts[c.file],
    write,
    recordSend(c, fields) {
      write([{ site_id: c.site_id, site: c.site, file: c.file, record: makeRecord(c, input.scriptOf(c), ctx.previous(c), { ...fields, at: iso() }) }]);
    },
    emit(e) {
      try {
        input.onEvent?.(e);
      } catch (err) {
        input.logger.warn({ err: (err as Error).message }, 'an event handler failed');
      }
    },
    cannotSend(siteId) {
      if (stopReason) return stopReason;
      const to = siteId === undefined ? null : ctx.handedTo(siteId);
      if (to) return handOverReason(to);
      if (input.lease && !input.lease.canSend()) {
        stopWith('the apply lease could not be renewed in time');
        return stopReason;
      }
      return null;
    },
    async takeSite(siteId) {
      if (input.turns && !held.has(siteId)) held.set(siteId, await input.turns.take(siteId));
    },
    writing: (siteId, write) => held.get(siteId)?.write(write) ?? write(),
    siteDone: (siteId) => held.get(siteId)?.done(),
    handedTo: (siteId) => held.get(siteId)?.handedTo ?? null,
    noteSuperseded: (jobId) => input.turns?.noteSuperseded(jobId),
    supersededBy: (jobId) => input.turns?.supersededBy(jobId),
    stopped: () => stopReason !== null,
    logUrl: (job) => (job?.log_url ? absoluteUrl(input.webUrl, job.log_url) : null),
    iso,
  };
  return {
    ctx,
    async flush() {
      const writes = await Promise.allSettled(pending);
      const failed = writes.find((w) => w.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    },
    stopReason: () => stopReason,
  };
}

/** Why a run sends nothing more to a site a newer run took over. */
export function handOverReason(to: string): string {
  return `handed over to the run at ${to}, which sends it`;
}

/** A result without finished_at, as lanes build them. */
export type PartialResult = Omit<ChangeResult, 'finished_at'>;

/** Why an SDX call failed, in words for the report. */
export function errorReason(e: unknown): string {
  if (e instanceof SdxApiError) {
    // The message already names the request, the status and the code.
    const tooLong = (e.status === 400 || e.status === 413 || e.status === 422) && /longer than|too long|too large|max(imum)?[ _-]?length/i.test(e.message);
    return tooLong
      ? `${e.message} - SDX refused the job body as too long: lower max_script_size in routeros-gitops.yaml to what it accepts, and the script is sent in smaller parts`
      : e.message;
  }
  return (e as Error)?.message ?? String(e);
}
