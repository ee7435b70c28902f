// The sticky plan comment: one comment per pull request, found by a hidden marker across every
// page of comments, edited in place, left alone when unchanged, and cut on a line boundary well
// below GitHub's 65,536-character limit with a pointer to the full report.
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { describeGitHubError, httpStatus, type GitHubClient } from './octokit.js';

export const PLAN_MARKER = '<!-- routeros-gitops:plan -->';
/** GitHub rejects a longer comment body with 422. */
export const MAX_COMMENT_LENGTH = 65_536;
/** Where a long plan is cut (room for the pointer and for GitHub counting differently). */
export const COMMENT_BUDGET = 60_000;

/** The marker of a sticky comment; one per sites directory, so two fleets in one repository do not share one. */
export function planMarker(sitesDir = 'sites'): string {
  const dir = sitesDir.replace(/^\.\/|\/+$/g, '');
  return dir === 'sites' ? PLAN_MARKER : `<!-- routeros-gitops:plan:${dir.replace(/--/g, '-')} -->`;
}

/**
 * Fit a Markdown body into `budget` characters: cut at the end of a line, close a code fence or
 * <details> left open, then add `pointer` (which says where the rest is). Unchanged when it fits.
 */
export function fitComment(body: string, pointer: (shown: number, total: number) => string, budget = COMMENT_BUDGET): { body: string; cut: boolean } {
  if (body.length <= budget) return { body, cut: false };
  const lines = body.split('\n');
  const room = budget - pointer(body.length, body.length).length - 64; // 64: closing tags
  let used = 0;
  let fence = false;
  let details = 0;
  const kept: string[] = [];
  for (const line of lines) {
    if (used + line.length + 1 > room) break;
    kept.push(line);
    used += line.length + 1;
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    details += (line.match(/<details>/g)?.length ?? 0) - (line.match(/<\/details>/g)?.length ?? 0);
  }
  const close: string[] = [];
  if (fence) close.push('```');
  for (let i = 0; i < details; i++) close.push('</details>');
  const shown = kept.join('\n').length;
  const out = [...kept, ...close, '', pointer(shown, body.length)].join('\n');
  return { body: out.endsWith('\n') ? out : `${out}\n`, cut: true };
}

export type CommentResult =
  | { result: 'created' | 'updated' | 'unchanged'; id: number | bigint; url: string | null; removedDuplicates: number }
  | { result: 'forbidden'; error: string };

export interface UpsertCommentOptions {
  readonly octokit: GitHubClient;
  readonly owner: string;
  readonly repo: string;
  readonly issueNumber: number;
  /** The hidden marker the comment starts with. */
  readonly marker: string;
  /** The whole body, marker first. */
  readonly body: string;
  /** Default silent. */
  readonly logger?: Logger;
}

/**
 * Create or update the one comment that starts with `marker`. A read-only token (a fork's pull
 * request) gives { result: 'forbidden' } instead of an error; other failures throw.
 */
export async function upsertComment(o: UpsertCommentOptions): Promise<CommentResult> {
  const logger = o.logger ?? silentLogger;
  if (!o.body.startsWith(o.marker)) throw new Error('the comment body must start with its marker');
  if (o.body.length > MAX_COMMENT_LENGTH)
    throw new Error(`the comment body is ${o.body.length} characters; GitHub accepts at most ${MAX_COMMENT_LENGTH} (use fitComment)`);
  const base = { owner: o.owner, repo: o.repo };
  try {
    const mine: Array<{ id: number | bigint; body: string; html_url: string }> = [];
    let pages = 0;
    for await (const page of o.octokit.paginate.iterator('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      ...base,
      issue_number: o.issueNumber,
      per_page: 100,
    })) {
      pages++;
      for (const c of page.data) if ((c.body ?? '').trimStart().startsWith(o.marker)) mine.push({ id: c.id, body: c.body ?? '', html_url: c.html_url });
    }
    logger.debug({ pages, found: mine.length }, 'pull request comments read');
    const [keep, ...extra] = mine;
    // Two runs that raced may each have created one: keep the oldest.
    for (const d of extra) await o.octokit.request('DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}', { ...base, comment_id: d.id });
    if (keep && normalise(keep.body) === normalise(o.body)) return { result: 'unchanged', id: keep.id, url: keep.html_url, removedDuplicates: extra.length };
    if (keep) {
      const res = await o.octokit.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { ...base, comment_id: keep.id, body: o.body });
      return { result: 'updated', id: res.data.id, url: res.data.html_url, removedDuplicates: extra.length };
    }
    const res = await o.octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...base, issue_number: o.issueNumber, body: o.body });
    return { result: 'created', id: res.data.id, url: res.data.html_url, removedDuplicates: 0 };
  } catch (e) {
    if (httpStatus(e) === 403) return { result: 'forbidden', error: describeGitHubError(e) };
    throw e;
  }
}

function normalise(s: string): string {
  return s.replace(/\r\n/g, '\n').trimEnd();
}
