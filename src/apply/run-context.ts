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
  /** Why no new job may be sent now (stopped, lease lost or about to expire), or null. */
  cannotSend(): string | null;
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
    cannotSend() {
      if (stopReason) return stopReason;
      if (input.lease && !input.lease.canSend()) {
        stopWith('the apply lease could not be renewed in time');
        return stopReason;
      }
      return null;
    },
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

/** A result without finished_at, as lanes build them. */
export type PartialResult = Omit<ChangeResult, 'finished_at'>;

/** Why an SDX call failed, in words for the report. */
export function errorReason(e: unknown): string {
  if (e instanceof SdxApiError) {
    if (e.status === 0) return e.message;
    return `SDX answered ${e.status}${e.code ? ` ${e.code}` : ''}: ${e.message}`;
  }
  return (e as Error)?.message ?? String(e);
}
