// The sandbox's public shapes: what it stores, what it counts, and the handle startSandbox returns.
import type { Job } from '../core/jobs.js';
import type { FaultKind, SandboxOptions, SandboxSiteOptions } from './options.js';

/** A job as the sandbox stores it: always with its script, whether it was cancelled (DELETE), and whether SDX lost it. */
export interface SandboxJob extends Job {
  script: string;
  cancelled: boolean;
  /** SDX no longer knows it (see Sandbox.forgetJob): 404, never listed, its key free. */
  forgotten?: boolean;
}

export interface SandboxStats {
  /** API requests received (not /_sandbox/). */
  requests: number;
  /** POST /site/{id}/job requests received, valid or not. */
  posts: number;
  /** "POST 201", "GET 200", "POST reset" (connection reset by a fault), ... */
  byMethodStatus: Record<string, number>;
  jobsCreated: number;
  /** POSTs answered as a replay of an existing key. */
  replays: number;
  /** Replays whose script or description differed from the original job's. */
  replayMismatches: number;
  /** Faults injected, by kind. */
  faults: Record<string, number>;
  /** 429 answers from the rate limit (not from faults). */
  rateLimited: number;
}

export interface SandboxRequestRecord {
  method: string;
  path: string;
  /** The HTTP status answered, or 'reset' when the connection was reset instead. */
  status: number | 'reset';
  idempotencyKey?: string;
  fault?: FaultKind;
}

/** Settings that can change while the sandbox runs (see Sandbox.configure). */
export type SandboxRuntimeSettings = Pick<
  SandboxOptions,
  | 'replayAnswer'
  | 'deleteStatus'
  | 'deleteStartedStatus'
  | 'latencyMs'
  | 'faults'
  | 'rateLimit'
  | 'maxScriptLength'
  | 'keyRetentionMs'
  | 'cancelledJobs'
  | 'failMarker'
  | 'checkinIntervalMs'
  | 'expressDelayMs'
  | 'runMs'
  | 'autoSites'
>;

export interface Sandbox {
  /** `http://127.0.0.1:<port>`: the base URL to give the client. */
  readonly url: string;
  /** The first accepted token. */
  readonly token: string;
  /** Jobs in creation order (of one site, or all), cancelled ones included, as copies. */
  jobs(siteId?: string): SandboxJob[];
  /** How many jobs were created for (site, idempotency key): 1 is exactly-once. */
  createdCount(siteId: string, idempotencyKey: string): number;
  createdCounts(): Array<{ siteId: string; idempotencyKey: string; count: number }>;
  stats(): SandboxStats;
  /** The API requests received, oldest first (the last 10 000). */
  requests(): SandboxRequestRecord[];
  /** Forget every job, counter and request; sites back to their configured state. Settings stay. */
  reset(): void;
  /** Take a router offline (it stops checking in; its jobs stay queued) or bring it back. */
  setOnline(siteId: string, online: boolean): void;
  addSite(site: SandboxSiteOptions): void;
  /** Change what a site shows: its name, RouterOS version (software_version), model or identity. */
  updateSite(siteId: string, patch: Pick<SandboxSiteOptions, 'name' | 'softwareVersion' | 'model' | 'identity'>): void;
  /** Make a router check in now (when online). */
  checkin(siteId: string): void;
  /** Delete a site in SDX: every request about it answers 404 from now on (autoSites does not bring it back). */
  removeSite(siteId: string): void;
  /** Cancel a queued job as someone outside routeros-gitops would (false: it already started, or is unknown). */
  cancelJob(jobId: string): boolean;
  /** Lose a job, as a server that forgets would: it answers 404 from now on, and its key is free. */
  forgetJob(jobId: string): boolean;
  /** Change settings while running. */
  configure(patch: SandboxRuntimeSettings): void;
  close(): Promise<void>;
}
