// What a run produced, as the executor, the reports, the GitHub adapter and the daemon share it:
// the outcome of each change, the events a run emits while it goes, and the run's summary.
import type { Job } from './jobs.js';
import type { Plan, PlannedChange, SitePlan } from './plan.js';

export type Outcome = 'succeeded' | 'failed' | 'timed_out' | 'queued' | 'blocked' | 'skipped' | 'stale';

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
}

export type ApplyEvent =
  | { type: 'site-start'; site: SitePlan }
  | { type: 'job-created'; change: PlannedChange; job: Job; reused: boolean }
  | { type: 'job-cancelled'; change: PlannedChange; job_id: string }
  | { type: 'result'; result: ChangeResult }
  | { type: 'site-done'; site: SitePlan; results: ChangeResult[] };

export interface ApplySummary {
  succeeded: number;
  failed: number;
  timed_out: number;
  queued: number;
  blocked: number;
  skipped: number;
  stale: number;
}

export interface ApplyResult {
  plan: Plan;
  results: ChangeResult[];
  summary: ApplySummary;
  /** 0 all good; 1 some change failed, timed out or was blocked. */
  exitCode: 0 | 1;
  /** SDX requests made by this run. */
  requests: number;
  /** Requests retried, by cause. */
  retries: Record<string, number>;
  interrupted: boolean;
}

export function absoluteUrl(base: string, relative: string): string {
  try {
    return new URL(relative.replace(/^\/+/, ''), base.endsWith('/') ? base : `${base}/`).toString();
  } catch {
    return relative;
  }
}
