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
import { describeGitHubError, httpStatus, type GitHubClient } from './octokit.js';

export type CommitState = 'error' | 'failure' | 'pending' | 'success';

/** GitHub rejects a longer description with 422. */
export const MAX_DESCRIPTION = 140;
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
interface Shown {
  state: string;
  description: string;
  target_url: string | null;
}
interface Counts {
  applied: number;
  failed: number;
  pending: number;
  stale: number;
}

export function createStatusWriter(options: StatusWriterOptions): StatusWriter {
  const { octokit, owner, repo } = options;
  const logger = options.logger ?? silentLogger;
  const prefix = options.context ?? DEFAULT_CONTEXT;
  const limit = options.siteLimit ?? DEFAULT_SITE_LIMIT;
  const webUrl = options.webUrl ?? DEFAULT_WEB_URL;
  const redact = options.redact ?? ((s: string) => s);

  const shown = new Map<string, Shown>(); // `${sha}\0${context lower-cased}` -> what GitHub shows
  const loaded = new Map<string, Promise<boolean>>(); // sha -> read (false: GitHub does not know it)
  const full = new Set<string>(); // `${sha}\0${context}` that reached GitHub's 1000 statuses
  const report: StatusWriterReport = { posted: [], unchanged: 0, failed: 0, disabled: null };
  let queue: Promise<void> = Promise.resolve();

  let plan: Plan | null = null;
  let sitesInRun = 0;
  const sitesSeen = new Set<string>();
  /** Sites each commit's roll-up counts, from the plan (change.commit). */
  const expected = new Map<string, Set<string>>();
  /** This run's final outcome per commit and site. */
  const outcomes = new Map<string, Map<string, SiteOutcome>>();
  const started = new Set<string>(); // `${sha}\0${site_id}`: pending posted (or decided against)
  const failedPosted = new Set<string>();

  const siteContext = (site: string) => `${prefix}/${site}`;
  const overLimit = () => (plan ? sitesInRun : sitesSeen.size) > limit;

  /** Read what GitHub shows on `sha` (latest status per context), once per commit. */
  const load = (sha: string): Promise<boolean> => {
    let p = loaded.get(sha);
    if (!p) {
      p = (async () => {
        try {
          for (let page = 1; page <= 50; page++) {
            const res = await octokit.request('GET /repos/{owner}/{repo}/commits/{ref}/status', { owner, repo, ref: sha, per_page: 100, page });
            for (const s of res.data.statuses) {
              const key = `${sha}\0${s.context.toLowerCase()}`;
              if (!shown.has(key)) shown.set(key, { state: s.state, description: s.description ?? '', target_url: s.target_url ?? null });
            }
            if (res.data.statuses.length < 100) break;
          }
          return true;
        } catch (e) {
          const status = httpStatus(e);
          if (status === 404 || status === 422) {
            logger.warn({ sha, err: describeGitHubError(e) }, 'GitHub does not know this commit; no status is written on it');
            return false;
          }
          // Cannot read (permissions, network): post anyway; GitHub keeps the newest.
          logger.debug({ sha, err: describeGitHubError(e) }, 'could not read the existing statuses');
          return true;
        }
      })();
      loaded.set(sha, p);
    }
    return p;
  };

  /**
   * Queue one status; skipped when identical to what GitHub shows, when the context has none yet
   * (onlyIfShown), or when it has one already (onlyIfAbsent).
   */
  const post = (
    sha: string,
    context: string,
    state: CommitState,
    description: string,
    targetUrl: string | null,
    opts: { onlyIfShown?: boolean; onlyIfAbsent?: boolean } = {},
  ) => {
    const desc = cutDescription(redact(description));
    const url = targetUrl && /^https?:\/\//i.test(targetUrl) ? targetUrl : null;
    queue = queue.then(async () => {
      if (report.disabled) return;
      if (!(await load(sha))) return;
      const key = `${sha}\0${context.toLowerCase()}`;
      if (full.has(key)) return;
      const now = shown.get(key);
      if ((opts.onlyIfShown && !now) || (opts.onlyIfAbsent && now)) return;
      if (now && now.state === state && now.description === desc && (now.target_url ?? null) === url) {
        report.unchanged++;
        return;
      }
      try {
        await octokit.request('POST /repos/{owner}/{repo}/statuses/{sha}', {
          owner,
          repo,
          sha,
          state,
          context,
          description: desc,
          ...(url ? { target_url: url } : {}),
        });
        shown.set(key, { state, description: desc, target_url: url });
        report.posted.push({ sha, context, state, description: desc, target_url: url });
        logger.debug({ sha: sha.slice(0, 7), context, state, description: desc }, 'status posted');
      } catch (e) {
        report.failed++;
        const status = httpStatus(e);
        if (status === 422 && /maximum number of statuses/i.test(describeGitHubError(e))) {
          full.add(key);
          logger.warn(
            { sha: sha.slice(0, 7), context },
            'GitHub keeps at most 1000 statuses per commit and context, and this one is full; no more are written to it',
          );
        } else if (status === 403 || status === 401) {
          report.disabled = `${describeGitHubError(e)}; the token cannot write commit statuses (give the workflow "permissions: statuses: write")`;
          logger.warn({ err: describeGitHubError(e) }, 'cannot write commit statuses; no more will be tried in this run');
        } else {
          logger.warn({ sha: sha.slice(0, 7), context, state, err: describeGitHubError(e) }, 'could not write a commit status');
        }
      }
    });
  };

  const record = (sha: string, siteId: string, outcome: SiteOutcome) => {
    if (!outcomes.has(sha)) outcomes.set(sha, new Map());
    outcomes.get(sha)!.set(siteId, outcome);
  };

  const onEvent = (e: ApplyEvent) => {
    switch (e.type) {
      case 'site-start':
        sitesSeen.add(e.site.site_id);
        return;
      case 'job-created': {
        const c = e.change;
        const k = `${c.commit}\0${c.site_id}`;
        if (started.has(k)) return;
        started.add(k);
        const n = plan?.changes.filter((x) => x.site_id === c.site_id && x.commit === c.commit && (x.action === 'create' || x.action === 'follow')).length ?? 1;
        const what = n > 1 ? `applying ${n} scripts` : `applying ${basename(c.path)}`;
        const url = e.job.log_url ? absoluteUrl(webUrl, e.job.log_url) : null;
        post(c.commit, siteContext(c.site), 'pending', `${what}: job ${e.job.id.slice(0, 8)} sent, waiting for the router`, url, { onlyIfShown: overLimit() });
        return;
      }
      case 'result': {
        const r = e.result;
        if (!isFailure(r)) return;
        const k = `${r.change.commit}\0${r.change.site_id}`;
        if (failedPosted.has(k)) return;
        failedPosted.add(k);
        post(r.change.commit, siteContext(r.change.site), 'failure', failureText(r), r.log_url);
        return;
      }
      case 'site-done': {
        const byCommit = new Map<string, ChangeResult[]>();
        for (const r of e.results) {
          if (!byCommit.has(r.change.commit)) byCommit.set(r.change.commit, []);
          byCommit.get(r.change.commit)!.push(r);
        }
        for (const [sha, results] of byCommit) {
          const verdict = siteVerdict(results);
          record(sha, e.site.site_id, verdict.outcome);
          if (verdict.outcome === 'stale') continue;
          const state: CommitState = verdict.outcome === 'applied' ? 'success' : verdict.outcome === 'failed' ? 'failure' : 'pending';
          post(sha, siteContext(e.site.site), state, verdict.description, verdict.url, { onlyIfShown: state !== 'failure' && overLimit() });
        }
        return;
      }
      default:
        return;
    }
  };

  return {
    onEvent,
    begin(p: Plan) {
      plan = p;
      sitesInRun = p.sites.filter((s) => s.changes.length).length;
      for (const c of p.changes) {
        if (c.action === 'stale') continue;
        if (!expected.has(c.commit)) expected.set(c.commit, new Set());
        expected.get(c.commit)!.add(c.site_id);
      }
      const mine = expected.get(p.commit.sha)?.size ?? 0;
      if (mine) post(p.commit.sha, prefix, 'pending', rollupText({ applied: 0, failed: 0, pending: mine, stale: 0 }), options.rollupUrl ?? null);
    },
    async flush() {
      const shas = new Set<string>([...(plan ? [plan.commit.sha] : []), ...outcomes.keys()]);
      for (const sha of shas) {
        const mine = outcomes.get(sha) ?? new Map<string, SiteOutcome>();
        let counts: Counts;
        if (plan && sha === plan.commit.sha) {
          counts = { applied: 0, failed: 0, pending: 0, stale: 0 };
          const sites = new Set([...(expected.get(sha) ?? []), ...mine.keys()]);
          for (const id of sites) counts[mine.get(id) ?? 'pending']++;
          if (!sites.size) {
            const stale = plan.sites.filter((s) => s.status !== 'ok').length;
            const description = stale
              ? `nothing applied: ${stale} site${stale === 1 ? ' was' : 's were'} applied from a newer commit`
              : `no changes: ${plan.summary.sites} site${plan.summary.sites === 1 ? ' is' : 's are'} up to date`;
            // A rerun at an applied commit: what the roll-up says there already stands.
            post(sha, prefix, 'success', description, options.rollupUrl ?? null, { onlyIfAbsent: true });
            continue;
          }
        } else {
          // An older commit whose pending jobs this run followed: move those sites out of "pending"
          // in the roll-up an earlier run wrote (this run does not know the other sites).
          await queue;
          const before = (await load(sha)) ? parseRollup(shown.get(`${sha}\0${prefix.toLowerCase()}`)?.description) : null;
          counts = before ?? { applied: 0, failed: 0, pending: 0, stale: 0 };
          for (const o of mine.values()) {
            if (o === 'pending' && before) continue;
            if (before) counts.pending = Math.max(0, counts.pending - 1);
            counts[o]++;
          }
        }
        const state: CommitState = counts.failed ? 'failure' : counts.pending ? 'pending' : 'success';
        post(sha, prefix, state, rollupText(counts), options.rollupUrl ?? null);
      }
      await queue;
      return report;
    },
    async abort(reason: string) {
      if (plan) post(plan.commit.sha, prefix, 'error', `not applied: ${reason}`, options.rollupUrl ?? null);
      await queue;
      return report;
    },
  };
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

/** At most 140 characters, cut on code points (never in the middle of a surrogate pair). */
export function cutDescription(s: string, max = MAX_DESCRIPTION): string {
  const one = s.replace(/\s+/g, ' ').trim();
  const points = [...one];
  return points.length <= max ? one : `${points.slice(0, max - 1).join('')}…`;
}
