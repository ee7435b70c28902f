// What a run produced, as the executor, the reports, the GitHub adapter and the daemon share it:
// the outcome of each change, the events a run emits while it goes, and the run's summary.
import type { Job } from './jobs.js';
import type { Plan, PlannedChange, SitePlan } from './plan.js';

/**
 * What became of one change in a run: `succeeded`/`failed` (the router reported it); `timed_out`
 * (still queued or running at the timeout: the next run follows the same job); `queued` (not
 * followed: --no-wait, or the run was stopped); `lost` (SDX no longer knows the job: cancelled outside
 * this tool or forgotten; it never ran, and the next run sends it again with a new key); `cancelled`
 * (SDX shows it cancelled: likewise); `blocked` (not sent: an earlier change of the site did not
 * succeed, the run was stopped, or secrets are missing); `skipped` (a removed script, or content that
 * failed before); `stale` (never backwards, or history missing: nothing sent to the site).
 */
export type Outcome = 'succeeded' | 'failed' | 'timed_out' | 'queued' | 'lost' | 'cancelled' | 'blocked' | 'skipped' | 'stale';

/** Outcomes that make a run's exit code 1. */
export const FAILING_OUTCOMES: ReadonlySet<Outcome> = new Set(['failed', 'timed_out', 'lost', 'cancelled', 'blocked']);

export interface ChangeResult {
  change: PlannedChange;
  outcome: Outcome;
  job_id: string | null;
  /** Absolute URL of the job's log in the SDX web UI. */
  log_url: string | null;
  /** Why, for failed, blocked, skipped and stale outcomes. */
  reason: string | null;
  /** true when the job already existed (a previous run created it). */
  reused: boolean;
  finished_at: string | null;
  /** For a script sent in parts: the part the outcome is about (the last one sent), 0-based, and how many. */
  part?: { index: number; count: number } | null;
}

export type ApplyEvent =
  | { type: 'site-start'; site: SitePlan }
  | { type: 'job-created'; change: PlannedChange; job: Job; reused: boolean }
  | { type: 'job-cancelled'; change: PlannedChange; job_id: string }
  | { type: 'result'; result: ChangeResult }
  | { type: 'site-done'; site: SitePlan; results: ChangeResult[] };

export type ApplySummary = Record<Outcome, number>;

export function emptySummary(): ApplySummary {
  return { succeeded: 0, failed: 0, timed_out: 0, queued: 0, lost: 0, cancelled: 0, blocked: 0, skipped: 0, stale: 0 };
}

export interface ApplyResult {
  plan: Plan;
  results: ChangeResult[];
  summary: ApplySummary;
  /** 0 all good; 1 some change failed, timed out, was lost or blocked, history is missing, or the run was stopped. */
  exitCode: 0 | 1;
  /** SDX requests made by this run. */
  requests: number;
  /** Requests retried, by cause. */
  retries: Record<string, number>;
  /** The run stopped early (a signal, or the apply lease lost): what was not sent is sent by the next run. */
  interrupted: boolean;
  /** Why it stopped early. */
  stop_reason?: string | null;
}

export function absoluteUrl(base: string, relative: string): string {
  try {
    return new URL(relative.replace(/^\/+/, ''), base.endsWith('/') ? base : `${base}/`).toString();
  } catch {
    return relative;
  }
}
