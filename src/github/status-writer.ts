// Commit statuses for an apply: `routeros-gitops/<site>` per site and `routeros-gitops` for the
// fleet, on the commit each change came from (a job an earlier run started keeps its commit).
// Used by the Action and by the watch daemon: give onEvent to reconcile(), call begin(plan) before
// it and flush() after it.
//
// - pending when a site's first job is created; success only once the router reported every
//   change of the site; failure as soon as one change failed or was blocked;
// - a status identical to what GitHub already shows (read once per commit, then remembered) is
//   not posted again: GitHub keeps at most 1000 statuses per commit and context;
// - above `siteLimit` sites in a run, only the roll-up and the failed sites get statuses (a site
//   that already has a status on that commit is still kept up to date);
// - writes go out one at a time (the client spaces them and honours rate limits); a failed write
//   is logged, never thrown: statuses report an apply, they must not break it.
import { basename } from 'node:path';
import { absoluteUrl, type ApplyEvent, type ChangeResult } from '../core/outcome.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import type { Plan } from '../core/plan.js';
import type { Redact } from '../core/redact.js';
import { DEFAULT_WEB_URL } from '../core/settings.js';
import type { GitHubClient } from './octokit.js';
import { StatusPoster } from './status-poster.js';

export { cutDescription, MAX_DESCRIPTION } from './status-poster.js';

export type CommitState = 'error' | 'failure' | 'pending' | 'success';

export const DEFAULT_CONTEXT = 'routeros-gitops';
export const DEFAULT_SITE_LIMIT = 50;

export interface StatusWriterOptions {
  readonly octokit: GitHubClient;
  readonly owner: string;
  readonly repo: string;
  /** Default silent. */
  readonly logger?: Logger;
  /** Above this many sites in one run, only the roll-up and failed sites get statuses. Default 50. */
  readonly siteLimit?: number;
  /** Roll-up context, and prefix of the per-site ones (`<context>/<site>`). Default 'routeros-gitops'. */
  readonly context?: string;
  /** target_url of the roll-up: the Actions run, the daemon's page. Default none. */
  readonly rollupUrl?: string;
  /** SDX web UI base, to make a job's relative log_url absolute. Default https://app.altostrat.io. */
  readonly webUrl?: string;
  /** Scrubs secrets from descriptions. Default: none needed (descriptions hold no values). */
  readonly redact?: Redact;
}

export interface PostedStatus {
  sha: string;
  context: string;
  state: CommitState;
  description: string;
  target_url: string | null;
}

export interface StatusWriterReport {
  /** Statuses posted by this writer, in order. */
  posted: PostedStatus[];
  /** Statuses not posted because GitHub already showed exactly that. */
  unchanged: number;
  /** Writes that failed (logged). */
  failed: number;
  /** Why writing stopped (no permission), or null. */
  disabled: string | null;
}

export interface StatusWriter {
  /** Announce the run: the roll-up turns pending, and the site limit is decided on the plan's size. */
  begin(plan: Plan): void;
  /** Give to reconcile()/applyPlan() as onEvent. */
  readonly onEvent: (e: ApplyEvent) => void;
  /** Post the roll-ups and wait for every write. */
  flush(): Promise<StatusWriterReport>;
  /** The run stopped before or while applying (invalid input, a crash): say so on the roll-up, then flush. */
  abort(reason: string): Promise<StatusWriterReport>;
}

export type SiteOutcome = 'applied' | 'failed' | 'pending' | 'stale';

interface Counts {
  applied: number;
  failed: number;
  pending: number;
  stale: number;
}

export function createStatusWriter(options: StatusWriterOptions): StatusWriter {
  const run = new RunStatuses(options);
  return {
    onEvent: (e) => run.onEvent(e),
    begin: (plan) => run.begin(plan),
    flush: () => run.flush(),
    abort: (reason) => run.abort(reason),
  };
}

const noCounts = (): Counts => ({ applied: 0, failed: 0, pending: 0, stale: 0 });

/** One run's statuses: what the plan expects per commit, what each site came to, and the posts that follow. */
class RunStatuses {
  private readonly poster: StatusPoster;
  private readonly prefix: string;
  private readonly limit: number;
  private readonly webUrl: string;
  private readonly rollupUrl: string | null;
  private plan: Plan | null = null;
  private sitesInRun = 0;
  private readonly sitesSeen = new Set<string>();
  /** Sites each commit's roll-up counts, from the plan (change.commit). */
  private readonly expected = new Map<string, Set<string>>();
  /** This run's final outcome per commit and site. */
  private readonly outcomes = new Map<string, Map<string, SiteOutcome>>();
  /** `${sha}\0${site_id}`: pending posted (or decided against) */
  private readonly started = new Set<string>();
  private readonly failedPosted = new Set<string>();

  constructor(options: StatusWriterOptions) {
    this.poster = new StatusPoster(options.octokit, options.owner, options.repo, options.logger ?? silentLogger, options.redact ?? ((s: string) => s));
    this.prefix = options.context ?? DEFAULT_CONTEXT;
    this.limit = options.siteLimit ?? DEFAULT_SITE_LIMIT;
    this.webUrl = options.webUrl ?? DEFAULT_WEB_URL;
    this.rollupUrl = options.rollupUrl ?? null;
  }

  begin(p: Plan): void {
    this.plan = p;
    this.sitesInRun = p.sites.filter((s) => s.changes.length).length;
    for (const c of p.changes) {
      if (c.action === 'stale') continue;
      if (!this.expected.has(c.commit)) this.expected.set(c.commit, new Set());
      this.expected.get(c.commit)!.add(c.site_id);
    }
    const mine = this.expected.get(p.commit.sha)?.size ?? 0;
    if (mine) this.poster.post(p.commit.sha, this.prefix, 'pending', rollupText({ applied: 0, failed: 0, pending: mine, stale: 0 }), this.rollupUrl);
  }

  onEvent(e: ApplyEvent): void {
    switch (e.type) {
      case 'site-start':
        this.sitesSeen.add(e.site.site_id);
        break;
      case 'job-created':
        this.jobCreated(e);
        break;
      case 'result':
        this.result(e.result);
        break;
      case 'site-done':
        this.siteDone(e.site, e.results);
        break;
    }
  }

  async flush(): Promise<StatusWriterReport> {
    const plan = this.plan;
    const shas = new Set<string>([...(plan ? [plan.commit.sha] : []), ...this.outcomes.keys()]);
    for (const sha of shas) {
      const mine = this.outcomes.get(sha) ?? new Map<string, SiteOutcome>();
      const counts = plan && sha === plan.commit.sha ? this.runCommitCounts(plan, sha, mine) : await this.olderCommitCounts(sha, mine);
      if (!counts) continue;
      const state: CommitState = counts.failed ? 'failure' : counts.pending ? 'pending' : 'success';
      this.poster.post(sha, this.prefix, state, rollupText(counts), this.rollupUrl);
    }
    await this.poster.idle();
    return this.poster.report;
  }

  async abort(reason: string): Promise<StatusWriterReport> {
    if (this.plan) this.poster.post(this.plan.commit.sha, this.prefix, 'error', `not applied: ${reason}`, this.rollupUrl);
    await this.poster.idle();
    return this.poster.report;
  }

  private siteContext(site: string): string {
    return `${this.prefix}/${site}`;
  }

  private overLimit(): boolean {
    return (this.plan ? this.sitesInRun : this.sitesSeen.size) > this.limit;
  }

  private jobCreated(e: Extract<ApplyEvent, { type: 'job-created' }>): void {
    const c = e.change;
    const k = `${c.commit}\0${c.site_id}`;
    if (this.started.has(k)) return;
    this.started.add(k);
    const n =
      this.plan?.changes.filter((x) => x.site_id === c.site_id && x.commit === c.commit && (x.action === 'create' || x.action === 'follow')).length ?? 1;
    const what = n > 1 ? `applying ${n} scripts` : `applying ${basename(c.path)}`;
    const url = e.job.log_url ? absoluteUrl(this.webUrl, e.job.log_url) : null;
    this.poster.post(c.commit, this.siteContext(c.site), 'pending', `${what}: job ${e.job.id.slice(0, 8)} sent, waiting for the router`, url, {
      onlyIfShown: this.overLimit(),
    });
  }

  private result(r: ChangeResult): void {
    if (!isFailure(r)) return;
    const k = `${r.change.commit}\0${r.change.site_id}`;
    if (this.failedPosted.has(k)) return;
    this.failedPosted.add(k);
    this.poster.post(r.change.commit, this.siteContext(r.change.site), 'failure', failureText(r), r.log_url);
  }

  private siteDone(site: { site: string; site_id: string }, results: readonly ChangeResult[]): void {
    const byCommit = new Map<string, ChangeResult[]>();
    for (const r of results) {
      if (!byCommit.has(r.change.commit)) byCommit.set(r.change.commit, []);
      byCommit.get(r.change.commit)!.push(r);
    }
    for (const [sha, rs] of byCommit) {
      const verdict = siteVerdict(rs);
      if (!this.outcomes.has(sha)) this.outcomes.set(sha, new Map());
      this.outcomes.get(sha)!.set(site.site_id, verdict.outcome);
      if (verdict.outcome === 'stale') continue;
      const state: CommitState = verdict.outcome === 'applied' ? 'success' : verdict.outcome === 'failed' ? 'failure' : 'pending';
      this.poster.post(sha, this.siteContext(site.site), state, verdict.description, verdict.url, { onlyIfShown: state !== 'failure' && this.overLimit() });
    }
  }

  /** The run's own commit: every site the plan expected, pending unless it came to an outcome. Null when nothing was expected (posted here). */
  private runCommitCounts(plan: Plan, sha: string, mine: Map<string, SiteOutcome>): Counts | null {
    const counts = noCounts();
    const sites = new Set([...(this.expected.get(sha) ?? []), ...mine.keys()]);
    for (const id of sites) counts[mine.get(id) ?? 'pending']++;
    if (sites.size) return counts;
    const stale = plan.sites.filter((s) => s.status !== 'ok').length;
    const description = stale
      ? `nothing applied: ${stale} site${stale === 1 ? ' was' : 's were'} applied from a newer commit`
      : `no changes: ${plan.summary.sites} site${plan.summary.sites === 1 ? ' is' : 's are'} up to date`;
    // A rerun at an applied commit: what the roll-up says there already stands.
    this.poster.post(sha, this.prefix, 'success', description, this.rollupUrl, { onlyIfAbsent: true });
    return null;
  }

  /**
   * An older commit whose pending jobs this run followed: move those sites out of "pending" in the
   * roll-up an earlier run wrote (this run does not know the other sites).
   */
  private async olderCommitCounts(sha: string, mine: Map<string, SiteOutcome>): Promise<Counts> {
    await this.poster.idle();
    const before = parseRollup(await this.poster.shownDescription(sha, this.prefix));
    const counts = before ?? noCounts();
    for (const o of mine.values()) {
      if (o === 'pending' && before) continue;
      if (before) counts.pending = Math.max(0, counts.pending - 1);
      counts[o]++;
    }
    return counts;
  }
}

/** A change that failed: the router reported a failure, the job could not be created, or the same content failed before. */
function isFailure(r: ChangeResult): boolean {
  return r.outcome === 'failed' || (r.outcome === 'skipped' && r.change.action === 'skip-failed');
}

function failureText(r: ChangeResult): string {
  const file = basename(r.change.path);
  const job = r.job_id ? ` (job ${r.job_id.slice(0, 8)})` : '';
  if (r.outcome === 'failed' && r.reason?.startsWith('the router reported')) return `${file} failed on the router${job}`;
  if (r.outcome === 'skipped') return `${file} failed before with this content${job}; not sent again`;
  return `${file}: ${r.reason ?? r.outcome}`;
}

export interface SiteVerdict {
  outcome: SiteOutcome;
  description: string;
  url: string | null;
}

/**
 * A site's outcome on one commit, from its results there: failed when a change failed (or was
 * blocked for a reason of its own, such as missing secrets); pending while a job is still queued or
 * running (changes blocked behind it wait too); applied once the router reported every change.
 */
export function siteVerdict(results: readonly ChangeResult[]): SiteVerdict {
  const failed = results.find(isFailure);
  const blocked = results.filter((r) => r.outcome === 'blocked');
  if (failed) {
    const more = blocked.length;
    return { outcome: 'failed', description: failureText(failed) + (more ? `; ${more} more not sent` : ''), url: failed.log_url };
  }
  if (results.length && results.every((r) => r.outcome === 'stale')) return { outcome: 'stale', description: '', url: null };
  const waiting = results.filter((r) => r.outcome === 'queued' || r.outcome === 'timed_out');
  const stopped = blocked.filter((r) => /stopped/.test(r.reason ?? ''));
  if (waiting.length || (blocked.length && stopped.length === blocked.length)) {
    const w = waiting[0];
    const total = waiting.length + blocked.length;
    if (!w)
      return { outcome: 'pending', description: `${total} script${total === 1 ? '' : 's'} not sent: the run was stopped; the next run sends them`, url: null };
    // Left to a newer run of the daemon (which reports it on this commit): no job of this run.
    if (!w.job_id && w.reason) return { outcome: 'pending', description: `${basename(w.change.path)}: ${w.reason}`, url: null };
    const how = w.outcome === 'timed_out' ? `still ${/still (\w+)/.exec(w.reason ?? '')?.[1] ?? 'running'}` : 'not followed';
    const of = total > 1 ? `${total} scripts waiting, ${basename(w.change.path)}` : basename(w.change.path);
    return { outcome: 'pending', description: `${of} ${how} (job ${w.job_id?.slice(0, 8) ?? '?'}); the next run records the outcome`, url: w.log_url };
  }
  if (blocked.length) {
    const b = blocked[0]!;
    return { outcome: 'failed', description: `${blocked.length} script${blocked.length === 1 ? '' : 's'} not sent: ${b.reason ?? 'blocked'}`, url: null };
  }
  const sent = results.filter((r) => r.job_id);
  const applied = results.filter((r) => r.outcome === 'succeeded').length;
  const removed = results.filter((r) => r.outcome === 'skipped' && r.change.kind === 'removed').length;
  const parts = [applied ? `${applied} script${applied === 1 ? '' : 's'} applied` : '', removed ? `${removed} removed (nothing sent)` : ''].filter(Boolean);
  const last = [...sent].reverse().find((r) => r.log_url);
  return { outcome: 'applied', description: parts.join(', ') || 'nothing to send', url: last?.log_url ?? null };
}

/** Per site (all its commits together), for outputs and reports: which failed and which are still pending. */
export function siteOutcomes(results: readonly ChangeResult[]): Map<string, SiteOutcome> {
  const bySite = new Map<string, ChangeResult[]>();
  for (const r of results) {
    if (!bySite.has(r.change.site)) bySite.set(r.change.site, []);
    bySite.get(r.change.site)!.push(r);
  }
  return new Map([...bySite].map(([site, rs]) => [site, siteVerdict(rs).outcome]));
}

/** "12 applied, 1 failed, 2 pending": the roll-up's description (parsed back by a later run). */
export function rollupText(c: Counts): string {
  const stale = c.stale ? `, ${c.stale} not applied (a newer commit was)` : '';
  return `${c.applied} applied, ${c.failed} failed, ${c.pending} pending${stale}`;
}

export function parseRollup(description: string | undefined): Counts | null {
  const m = /^(\d+) applied, (\d+) failed, (\d+) pending(?:, (\d+) not applied)?/.exec(description ?? '');
  return m ? { applied: Number(m[1]), failed: Number(m[2]), pending: Number(m[3]), stale: Number(m[4] ?? 0) } : null;
}
