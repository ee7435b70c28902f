// Only reviewed commits reach a router (issue 13). Anyone who can push a branch can trigger a
// workflow on it; review happens on the way into the default branch. So the Action's `apply` runs
// only on a push to the repository's default branch, or to a branch the operator names in the
// `apply-branches` input (a release branch, say); on any other event or branch it sends nothing
// and the step fails, saying why.
import { globRegExp } from '../core/glob.js';
import type { WorkflowEvent } from '../github/event.js';

/** `apply-branches`: branch names or globs, separated by commas or new lines. */
export function parseBranchPatterns(text: string | undefined): string[] {
  return (text ?? '')
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A glob as GitHub's branch filters read it: `*` within a path segment, `**` across `/`, `?` one character. */
export const branchGlob = globRegExp;

/** Why `apply` must not run for this event, or null when it may. */
export function applyRefusal(event: WorkflowEvent, patterns: readonly string[]): string | null {
  if (event.kind === 'pull_request' || event.kind === 'merge_group') {
    return `apply does not run on ${event.name} events: it would send scripts that are not merged`;
  }
  const ref = event.ref;
  const what = event.kind === 'push' ? 'a push to' : `a ${event.name || 'run'} event on`;
  const named = patterns.length ? ` or to a branch named in apply-branches (${patterns.join(', ')})` : '';
  const rule = `apply runs only on a push to the default branch${event.defaultBranch ? ` (${event.defaultBranch})` : ''}${named}`;
  if (!ref?.startsWith('refs/heads/')) {
    return `${rule}; this run is ${what} ${ref ?? 'no branch'}, which is not a branch, so nothing was sent`;
  }
  const branch = ref.slice('refs/heads/'.length);
  if (event.defaultBranch !== null && branch === event.defaultBranch) return null;
  if (patterns.some((p) => branchGlob(p).test(branch))) return null;
  return `${rule}; this run is ${what} ${branch}, whose commits have not been reviewed into it, so nothing was sent. To apply from ${branch} on purpose, add it to the apply-branches input of the workflow`;
}
