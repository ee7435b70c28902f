// The sandbox's jobs: by id, by site (in creation order) and by idempotency key, with how many jobs
// each (site, key) produced (1 is exactly-once). Decides what the API shows of a job: a lost job is
// never shown, a cancelled one only when the cancelledJobs setting lists them.
import { randomUuid } from '../core/random.js';
import type { Job } from '../core/jobs.js';
import type { JobRequest } from './job-request.js';
import type { SandboxSettings } from './settings.js';
import type { SandboxJob } from './types.js';

const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const keyOf = (siteId: string, key: string) => `${siteId.toLowerCase()}|${key.toLowerCase()}`;
export const iso = (ms: number) => new Date(ms).toISOString();

export class JobStore {
  private readonly byId = new Map<string, SandboxJob>();
  private readonly bySite = new Map<string, SandboxJob[]>();
  private readonly byKey = new Map<string, SandboxJob>();
  private readonly created = new Map<string, number>();

  /**
   * @param settings read live (keyRetentionMs, cancelledJobs)
   * @param now the time of creation and cancellation, in ms since the epoch
   * @param idRandom the source of job ids and tokens (seeded: reproducible data)
   */
  constructor(
    private readonly settings: SandboxSettings,
    private readonly now: () => number,
    private readonly idRandom: () => number,
  ) {}

  /** The job that holds (site, key) now; a key kept longer than keyRetentionMs is forgotten on the way. */
  holderOf(siteId: string, key: string): SandboxJob | undefined {
    const existing = this.byKey.get(keyOf(siteId, key));
    if (existing && this.settings.keyRetentionMs > 0 && this.now() - Date.parse(existing.created_at) > this.settings.keyRetentionMs) {
      this.byKey.delete(keyOf(siteId, key));
      return undefined;
    }
    return existing;
  }

  /** Queue a new job for the site (`siteId` as the site is configured). */
  create(siteId: string, req: JobRequest): SandboxJob {
    const now = this.now();
    let token = '';
    for (let i = 0; i < 10; i++) token += TOKEN_ALPHABET[Math.floor(this.idRandom() * TOKEN_ALPHABET.length)];
    const job: SandboxJob = {
      id: randomUuid(this.idRandom),
      token,
      site_id: siteId,
      idempotency_key: req.idempotencyKey,
      description: req.description,
      express_execute: req.express,
      needs_acknowledgement: req.needsAck,
      should_backup: req.backup,
      associated_backup: req.backup ? `${siteId}/${Math.floor(now / 1000)}.rsc` : null,
      started_at: null,
      completed_at: null,
      failed_at: null,
      created_at: iso(now),
      log_url: `logs?group=sites&streams=${siteId}&filter={$.message=*${token}*}`,
      script: req.script,
      cancelled: false,
    };
    const siteKey = siteId.toLowerCase();
    this.byId.set(job.id, job);
    if (!this.bySite.has(siteKey)) this.bySite.set(siteKey, []);
    this.bySite.get(siteKey)!.push(job);
    const k = keyOf(siteId, req.idempotencyKey);
    this.byKey.set(k, job);
    this.created.set(k, (this.created.get(k) ?? 0) + 1);
    return job;
  }

  /** Every job of a site, in creation order, cancelled and lost ones included. */
  ofSite(siteId: string): readonly SandboxJob[] {
    return this.bySite.get(siteId.toLowerCase()) ?? [];
  }

  all(): SandboxJob[] {
    return [...this.byId.values()];
  }

  /** The site's jobs still waiting for the router, oldest first. */
  queued(siteId: string): SandboxJob[] {
    return this.ofSite(siteId).filter((j) => !j.cancelled && !j.forgotten && j.started_at === null);
  }

  /** The site's oldest job still waiting for the router. */
  nextQueued(siteId: string): SandboxJob | undefined {
    return this.ofSite(siteId).find((j) => !j.cancelled && !j.forgotten && j.started_at === null);
  }

  /** Whether the API shows a job: not lost, and not cancelled unless cancelled jobs are listed. */
  visible(j: SandboxJob): boolean {
    return !j.forgotten && (!j.cancelled || this.settings.cancelledJobs === 'listed');
  }

  /** The jobs the API lists for a site, oldest first. */
  visibleOfSite(siteId: string): SandboxJob[] {
    return this.ofSite(siteId).filter((j) => this.visible(j));
  }

  /** A job the API shows, of that site. */
  find(siteId: string, jobId: string): SandboxJob | undefined {
    const j = this.byId.get(jobId.toLowerCase());
    return j && this.visible(j) && j.site_id.toLowerCase() === siteId.toLowerCase() ? j : undefined;
  }

  /** Any job by id, shown or not. */
  get(jobId: string): SandboxJob | undefined {
    return this.byId.get(jobId.toLowerCase());
  }

  /** Cancel a queued job (DELETE, or someone in the SDX UI); false when it started already. */
  cancel(job: SandboxJob): boolean {
    if (job.started_at !== null || job.completed_at !== null || job.failed_at !== null) return false;
    job.cancelled = true;
    job.cancelled_at = iso(this.now());
    // The key is free again: a new POST with it queues a new job.
    this.byKey.delete(keyOf(job.site_id, job.idempotency_key));
    return true;
  }

  /** Lose a job, as a server that forgets would: it answers 404 from now on, and its key is free. */
  forget(jobId: string): boolean {
    const j = this.byId.get(jobId.toLowerCase());
    if (!j || j.forgotten) return false;
    j.forgotten = true;
    if (this.byKey.get(keyOf(j.site_id, j.idempotency_key)) === j) this.byKey.delete(keyOf(j.site_id, j.idempotency_key));
    return true;
  }

  createdCount(siteId: string, key: string): number {
    return this.created.get(keyOf(siteId, key)) ?? 0;
  }

  createdCounts(): Array<{ siteId: string; idempotencyKey: string; count: number }> {
    return [...this.created.entries()].map(([k, count]) => {
      const [siteId, idempotencyKey] = k.split('|') as [string, string];
      return { siteId, idempotencyKey, count };
    });
  }

  /** Forget every job (ids keep their sequence: a restarted server never hands out an id it used before). */
  clear(): void {
    this.byId.clear();
    this.bySite.clear();
    this.byKey.clear();
    this.created.clear();
  }

  /** A job as the API shows it. */
  toJson(j: SandboxJob, withScript: boolean): Job {
    const { cancelled: _cancelled, forgotten: _forgotten, cancelled_at, script, ...rest } = j;
    const shown: Job = this.settings.cancelledJobs === 'listed' ? { ...rest, cancelled_at: cancelled_at ?? null } : rest;
    return withScript ? { ...shown, script } : shown;
  }
}
