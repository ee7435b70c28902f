// The SDX jobs API as the core sees it (contracts: ../shared/contracts/sdx-api.md and the seed spec).

/** A job as the API returns it. State is derived from the timestamps (there is no status field). */
export interface Job {
  id: string;
  token: string;
  site_id: string;
  idempotency_key: string;
  description: string;
  express_execute: boolean;
  needs_acknowledgement: boolean;
  should_backup: boolean;
  associated_backup: string | null;
  started_at: string | null;
  completed_at: string | null;
  failed_at: string | null;
  created_at: string;
  log_url: string;
  /** Set when the job was cancelled (an API that lists cancelled jobs; the sandbox can, see its cancelledJobs setting). */
  cancelled_at?: string | null;
  script?: string;
}

export interface Site {
  id: string;
  name: string;
  has_pulse: boolean;
  last_seen_at: string | null;
  software_version?: string;
  model?: string;
  identity?: string;
}

/**
 * A site as SDX lists the token's sites (GET /site-minimal): its id, name, whether it is online and
 * its RouterOS version; the model and last-seen time are only in the one-site answer (Site).
 */
export interface SiteSummary {
  id: string;
  name: string;
  has_pulse: boolean;
  software_version?: string;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Derive a job's state from its timestamps, as the API documentation says. */
export function jobState(job: Pick<Job, 'started_at' | 'completed_at' | 'failed_at' | 'cancelled_at'>): JobState {
  if (job.cancelled_at) return 'cancelled';
  if (job.failed_at) return 'failed';
  if (job.completed_at) return 'succeeded';
  if (job.started_at) return 'running';
  return 'queued';
}

export interface CreateJobRequest {
  siteId: string;
  idempotencyKey: string;
  /** 3..100 characters, printable ASCII (it travels as a header). */
  description: string;
  /** The whole RouterOS script, sent as text/plain. */
  script: string;
  needsAck: boolean;
  backup: boolean;
  express: boolean;
  /**
   * Asked right before each attempt goes on the wire (after the rate limit, between retries): a
   * reason not to send any more (the run was stopped, the apply lease may be lost) cancels the
   * request, unsent. Default: none.
   */
  guard?: () => string | null;
}

export interface CreateJobResult {
  job: Job;
  /** true when the server answered with a job created earlier for the same idempotency key. */
  replayed: boolean;
}

export type CancelResult = 'cancelled' | 'already_started' | 'not_found';

/** Counters a run reports ("requests per applied change", retries by cause). */
export interface SdxStats {
  requests: number;
  retries: number;
  byStatus: Record<string, number>;
  retriesByCause: Record<string, number>;
  /** Requests waiting for the client's rate limit right now (optional: progress lines). */
  waitingForRateLimit?: number;
}

export interface SdxClient {
  createJob(req: CreateJobRequest): Promise<CreateJobResult>;
  listJobs(siteId: string): Promise<Job[]>;
  getJob(siteId: string, jobId: string): Promise<Job>;
  cancelJob(siteId: string, jobId: string): Promise<CancelResult>;
  getSite(siteId: string): Promise<Site>;
  /** Every site of the token's organisation (GET /site-minimal; pages followed when the API pages). */
  listSites(): Promise<SiteSummary[]>;
  /**
   * One request that shows the URL reaches SDX and the token is accepted (GET /site-minimal), made
   * before anything is sent. A server that cannot be reached is not retried. Throws SdxAccessError.
   */
  checkAccess(): Promise<void>;
  stats(): SdxStats;
  close(): Promise<void>;
}
