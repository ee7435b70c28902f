// Posting commit statuses, one at a time, without repeating what GitHub already shows: what each
// commit shows is read once (then remembered), a status identical to it is not posted again
// (GitHub keeps at most 1000 statuses per commit and context), and a failed write is logged, never
// thrown. Used by the status writer (status-writer.ts).
import type { Logger } from '../core/logger.js';
import type { Redact } from '../core/redact.js';
import { describeGitHubError, httpStatus, type GitHubClient } from './octokit.js';
import type { CommitState, StatusWriterReport } from './status-writer.js';

/** GitHub rejects a longer description with 422. */
export const MAX_DESCRIPTION = 140;

interface Shown {
  state: string;
  description: string;
  target_url: string | null;
}

export interface PostConditions {
  /** Post only when the context already has a status on the commit. */
  onlyIfShown?: boolean;
  /** Post only when the context has no status on the commit yet. */
  onlyIfAbsent?: boolean;
}

export class StatusPoster {
  readonly report: StatusWriterReport = { posted: [], unchanged: 0, failed: 0, disabled: null };
  /** `${sha}\0${context lower-cased}` -> what GitHub shows */
  private readonly shown = new Map<string, Shown>();
  /** sha -> read (false: GitHub does not know it) */
  private readonly loaded = new Map<string, Promise<boolean>>();
  /** `${sha}\0${context}` that reached GitHub's 1000 statuses */
  private readonly full = new Set<string>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly octokit: GitHubClient,
    private readonly owner: string,
    private readonly repo: string,
    private readonly logger: Logger,
    private readonly redact: Redact,
  ) {}

  /** Resolves once every status queued so far is written (or has failed). */
  idle(): Promise<void> {
    return this.queue;
  }

  /** The description GitHub shows for a context on a commit (read first), or undefined. */
  async shownDescription(sha: string, context: string): Promise<string | undefined> {
    if (!(await this.load(sha))) return undefined;
    return this.shown.get(`${sha}\0${context.toLowerCase()}`)?.description;
  }

  /** Queue one status; skipped when identical to what GitHub shows, or when `when` says so. */
  post(sha: string, context: string, state: CommitState, description: string, targetUrl: string | null, when: PostConditions = {}): void {
    const desc = cutDescription(this.redact(description));
    const url = targetUrl && /^https?:\/\//i.test(targetUrl) ? targetUrl : null;
    this.queue = this.queue.then(async () => {
      if (this.report.disabled) return;
      if (!(await this.load(sha))) return;
      const key = `${sha}\0${context.toLowerCase()}`;
      if (this.full.has(key)) return;
      const now = this.shown.get(key);
      if ((when.onlyIfShown && !now) || (when.onlyIfAbsent && now)) return;
      if (now && now.state === state && now.description === desc && (now.target_url ?? null) === url) {
        this.report.unchanged++;
        return;
      }
      await this.write(sha, context, state, desc, url, key);
    });
  }

  private async write(sha: string, context: string, state: CommitState, desc: string, url: string | null, key: string): Promise<void> {
    const { octokit, owner, repo, logger, report } = this;
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
      this.shown.set(key, { state, description: desc, target_url: url });
      report.posted.push({ sha, context, state, description: desc, target_url: url });
      logger.debug({ sha: sha.slice(0, 7), context, state, description: desc }, 'status posted');
    } catch (e) {
      report.failed++;
      const status = httpStatus(e);
      if (status === 422 && /maximum number of statuses/i.test(describeGitHubError(e))) {
        this.full.add(key);
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
  }

  /** Read what GitHub shows on `sha` (latest status per context), once per commit. */
  private load(sha: string): Promise<boolean> {
    let p = this.loaded.get(sha);
    if (!p) {
      p = this.read(sha);
      this.loaded.set(sha, p);
    }
    return p;
  }

  private async read(sha: string): Promise<boolean> {
    const { octokit, owner, repo } = this;
    try {
      for (let page = 1; page <= 50; page++) {
        const res = await octokit.request('GET /repos/{owner}/{repo}/commits/{ref}/status', { owner, repo, ref: sha, per_page: 100, page });
        for (const s of res.data.statuses) {
          const key = `${sha}\0${s.context.toLowerCase()}`;
          if (!this.shown.has(key)) this.shown.set(key, { state: s.state, description: s.description ?? '', target_url: s.target_url ?? null });
        }
        if (res.data.statuses.length < 100) break;
      }
      return true;
    } catch (e) {
      const status = httpStatus(e);
      if (status === 404 || status === 422) {
        this.logger.warn({ sha, err: describeGitHubError(e) }, 'GitHub does not know this commit; no status is written on it');
        return false;
      }
      // Cannot read (permissions, network): post anyway; GitHub keeps the newest.
      this.logger.debug({ sha, err: describeGitHubError(e) }, 'could not read the existing statuses');
      return true;
    }
  }
}

/** At most 140 characters, cut on code points (never in the middle of a surrogate pair). */
export function cutDescription(s: string, max = MAX_DESCRIPTION): string {
  const one = s.replace(/\s+/g, ' ').trim();
  const points = [...one];
  return points.length <= max ? one : `${points.slice(0, max - 1).join('')}…`;
}
