// Script check findings and input problems as workflow annotations at file and line. GitHub shows
// at most 10 of each kind per step (and drops the rest silently), so at most 10 of each are sent,
// errors first, and the caller is told how many were left out.
import { relative, resolve } from 'node:path';
import type { Problem } from '../core/errors.js';
import type { Plan } from '../core/plan.js';

export const ANNOTATIONS_PER_KIND = 10;

export interface Annotation {
  kind: 'error' | 'warning' | 'notice';
  message: string;
  title?: string;
  /** Relative to the workspace (GITHUB_WORKSPACE), as GitHub wants it. */
  file?: string;
  startLine?: number;
  startColumn?: number;
}

/** The check findings of a plan's changes, once each (a shared script is checked on every site). */
export function planAnnotations(plan: Plan, warnings: readonly Problem[] = [], paths: PathMapper = (p) => p): Annotation[] {
  const out: Annotation[] = [];
  const seen = new Set<string>();
  for (const c of plan.changes) {
    for (const f of c.findings) {
      const key = `${c.path}:${f.line}:${f.column}:${f.rule}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        // A lockout-level finding stops apply as an error does (until acknowledged): shown as one.
        kind: f.level === 'advice' ? 'warning' : 'error',
        title: `routeros-gitops: ${f.level === 'lockout' ? 'lockout risk: ' : ''}${f.rule}`,
        message: f.message,
        file: paths(c.path),
        startLine: f.line || undefined,
        startColumn: f.column || undefined,
      });
    }
  }
  for (const w of warnings) out.push(problemAnnotation(w, 'warning', paths));
  return out;
}

export function problemAnnotation(p: Problem, kind: 'error' | 'warning', paths: PathMapper = (x) => x): Annotation {
  const isFile = !p.file.startsWith('(');
  return {
    kind,
    title: 'routeros-gitops',
    message: p.message + (p.hint ? `\nhint: ${p.hint}` : ''),
    file: isFile ? paths(p.file) : undefined,
    startLine: isFile ? p.line : undefined,
    startColumn: isFile ? p.column : undefined,
  };
}

export type PathMapper = (repoPath: string) => string;

/** Map repository-relative paths to workspace-relative ones (the repository may be checked out in a subfolder). */
export function workspacePaths(repoRoot: string, workspace: string | undefined): PathMapper {
  if (!workspace) return (p) => p;
  return (p) => relative(workspace, resolve(repoRoot, p)).split('\\').join('/') || p;
}

/** At most `perKind` of each kind, errors first; returns those to send and how many were left out. */
export function capAnnotations(all: readonly Annotation[], perKind = ANNOTATIONS_PER_KIND): { send: Annotation[]; dropped: number } {
  const order = { error: 0, warning: 1, notice: 2 } as const;
  const sorted = [...all].sort((a, b) => order[a.kind] - order[b.kind]);
  const count = { error: 0, warning: 0, notice: 0 };
  const send: Annotation[] = [];
  for (const a of sorted) if (count[a.kind]++ < perKind) send.push(a);
  return { send, dropped: all.length - send.length };
}
