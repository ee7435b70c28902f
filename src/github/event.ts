// The workflow's event, parsed once at the edge (GITHUB_EVENT_NAME + the JSON at GITHUB_EVENT_PATH)
// into the few fields the Action uses. Pull requests: statuses and plans belong to the head commit,
// not to GITHUB_SHA (a merge commit GitHub made). Merge queues: merge_group.head_sha, no PR number.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError } from '../core/errors.js';

const sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/i, 'must be a commit id');
const repoRef = z.object({ full_name: z.string() }).passthrough();

const pushSchema = z.object({
  ref: z.string(),
  before: sha,
  after: sha,
  deleted: z.boolean().optional(),
  repository: z.object({ full_name: z.string(), default_branch: z.string().optional() }).passthrough(),
});

const pullRequestSchema = z.object({
  number: z.number().int().positive(),
  pull_request: z.object({
    head: z.object({ sha, ref: z.string(), repo: repoRef.nullable().optional() }).passthrough(),
    base: z.object({ sha, ref: z.string(), repo: repoRef.nullable().optional() }).passthrough(),
    html_url: z.string().optional(),
  }),
  repository: z.object({ full_name: z.string(), default_branch: z.string().optional() }).passthrough(),
});

const mergeGroupSchema = z.object({
  merge_group: z.object({ head_sha: sha, base_sha: sha, head_ref: z.string(), base_ref: z.string() }).passthrough(),
  repository: z.object({ full_name: z.string(), default_branch: z.string().optional() }).passthrough(),
});

export type WorkflowEvent =
  | { kind: 'push'; name: string; sha: string; before: string; ref: string; defaultBranch: string | null; onDefaultBranch: boolean; deleted: boolean }
  | { kind: 'pull_request'; name: string; number: number; sha: string; baseSha: string; headRef: string; baseRef: string; fork: boolean }
  | { kind: 'merge_group'; name: string; sha: string; baseSha: string; baseRef: string }
  /** Any other event (workflow_dispatch, schedule...): GITHUB_SHA and GITHUB_REF, and the default branch when the payload has one. */
  | { kind: 'other'; name: string; sha: string | null; ref: string | null; defaultBranch: string | null };

/**
 * Parse an event payload. `githubSha` and `githubRef` (GITHUB_SHA, GITHUB_REF) are the commit and
 * ref of events without their own.
 */
export function parseEvent(name: string, payload: unknown, githubSha?: string, githubRef?: string): WorkflowEvent {
  const fail = (what: string, err: z.ZodError): never => {
    const issue = err.issues[0];
    throw new InputError({
      file: '(GITHUB_EVENT_PATH)',
      message: `the ${what} event payload is not what GitHub sends: ${issue ? `${issue.path.join('.') || '(root)'} ${issue.message}` : 'unreadable'}`,
      hint: 'run the Action from a workflow triggered by GitHub, or pass a real payload in GITHUB_EVENT_PATH',
    });
  };
  switch (name) {
    case 'push': {
      const r = pushSchema.safeParse(payload);
      if (!r.success) return fail('push', r.error);
      const p = r.data;
      const defaultBranch = p.repository.default_branch ?? null;
      return {
        kind: 'push',
        name,
        sha: p.after,
        before: p.before,
        ref: p.ref,
        defaultBranch,
        onDefaultBranch: defaultBranch !== null && p.ref === `refs/heads/${defaultBranch}`,
        deleted: p.deleted ?? /^0+$/.test(p.after),
      };
    }
    case 'pull_request':
    case 'pull_request_target': {
      const r = pullRequestSchema.safeParse(payload);
      if (!r.success) return fail(name, r.error);
      const p = r.data;
      const head = p.pull_request.head.repo?.full_name;
      const base = p.pull_request.base.repo?.full_name ?? p.repository.full_name;
      return {
        kind: 'pull_request',
        name,
        number: p.number,
        sha: p.pull_request.head.sha,
        baseSha: p.pull_request.base.sha,
        headRef: p.pull_request.head.ref,
        baseRef: p.pull_request.base.ref,
        // A deleted fork has no head repository: treat it as a fork too.
        fork: head === undefined || head.toLowerCase() !== base.toLowerCase(),
      };
    }
    case 'merge_group': {
      const r = mergeGroupSchema.safeParse(payload);
      if (!r.success) return fail('merge_group', r.error);
      const m = r.data.merge_group;
      return { kind: 'merge_group', name, sha: m.head_sha, baseSha: m.base_sha, baseRef: m.base_ref };
    }
    default: {
      const repo = (payload as { repository?: { default_branch?: unknown } } | null)?.repository;
      const defaultBranch = typeof repo?.default_branch === 'string' ? repo.default_branch : null;
      return { kind: 'other', name, sha: githubSha || null, ref: githubRef || null, defaultBranch };
    }
  }
}

/** Read and parse the event the runner wrote; no file (a local run) gives an 'other' event. */
export function readEvent(env: Record<string, string | undefined>): WorkflowEvent {
  const name = env.GITHUB_EVENT_NAME ?? '';
  const path = env.GITHUB_EVENT_PATH;
  if (!path) return { kind: 'other', name, sha: env.GITHUB_SHA || null, ref: env.GITHUB_REF || null, defaultBranch: null };
  let payload: unknown;
  try {
    payload = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError({
      file: path,
      message: `cannot read the event payload (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      hint: 'GITHUB_EVENT_PATH must name the JSON file the runner writes',
    });
  }
  return parseEvent(name, payload, env.GITHUB_SHA, env.GITHUB_REF);
}

/** owner/name from GITHUB_REPOSITORY. */
export function parseRepository(value: string | undefined): { owner: string; repo: string } | null {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(value ?? '');
  return m ? { owner: m[1]!, repo: m[2]! } : null;
}
