// The parts of a plan's rendering that tell what apply would do with it (issue 14): the lockout
// risks, shown first; why a change would not be sent; the summary's truth about the run; the
// uncommitted files a plan does not read; and a compact diff per change for the text plan.
import type { PlannedChange } from '../core/plan.js';
import type { FindingAt, PlanVerdict } from '../core/verdict.js';
import type { Style } from './style.js';

/** A lockout risk, once per script and line, with the sites it concerns. */
export interface LockoutEntry {
  sites: string[];
  path: string;
  shared: boolean;
  line: number;
  column: number;
  rule: string;
  message: string;
}

/** The verdict's lockout risks, a shared script's once (with every site it goes to). */
export function lockoutEntries(v: PlanVerdict): LockoutEntry[] {
  const byKey = new Map<string, LockoutEntry>();
  for (const x of v.lockouts) {
    const f = x.finding;
    const key = `${x.path}:${f.line}:${f.column}:${f.rule}`;
    const e = byKey.get(key);
    if (e) e.sites.push(x.site);
    else byKey.set(key, { sites: [x.site], path: x.path, shared: x.group !== null, line: f.line, column: f.column, rule: f.rule, message: f.message });
  }
  return [...byKey.values()];
}

/** The sites of an entry, for one line: `site-1`, or `3 sites (a, b, c)`. */
export function entrySites(e: Pick<LockoutEntry, 'sites'>): string {
  if (e.sites.length === 1) return e.sites[0]!;
  return `${e.sites.length} sites (${e.sites.slice(0, 4).join(', ')}${e.sites.length > 4 ? ', ...' : ''})`;
}

/** How a lockout risk is acknowledged, in one sentence. */
export function acknowledgeHow(rules: readonly string[], flag = '--allow-lockout'): string {
  const list = [...new Set(rules)];
  return `Acknowledge each in its script with "# routeros-gitops: allow ${list.length === 1 ? list[0] : '<rule>'}" on the line above the command (or at the top of the file), or apply with ${flag}.`;
}

/** The lockout block of the text plan: first, before the changes. Empty when there is none. */
export function lockoutBlockText(v: PlanVerdict, style: Style): string[] {
  const entries = lockoutEntries(v);
  if (!entries.length) return [];
  const head = v.gate.allowLockout
    ? style.bold(style.red(`Lockout risks (${entries.length}): sent anyway (--allow-lockout)`))
    : style.bold(style.red(`Lockout risks (${entries.length}): apply refuses to send anything until each is acknowledged`));
  const out = [head];
  for (const e of entries) {
    out.push(`  ${style.red('!')} ${entrySites(e)}: ${e.path}:${e.line}:${e.column} ${style.dim(`[${e.rule}]`)}`);
    out.push(`      ${e.message}`);
  }
  if (!v.gate.allowLockout) out.push(style.dim(`  ${acknowledgeHow(entries.map((e) => e.rule))}`));
  out.push('');
  return out;
}

/** Why apply would not send this change, or '' when it goes out as planned. */
export function blockedNote(c: PlannedChange, v: PlanVerdict): string {
  return v.blocked.get(c)?.reason ?? '';
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The end of the summary line: what apply would send, refuse or block. */
export function verdictTail(v: PlanVerdict): string {
  if (v.refused) {
    const why = [
      !v.gate.allowCheckErrors && v.errors.length ? plural(new Set(v.errors.map(key)).size, 'script check error') : '',
      !v.gate.allowLockout && v.lockouts.length ? `${plural(new Set(v.lockouts.map(key)).size, 'lockout risk')} not acknowledged` : '',
    ].filter(Boolean);
    return `apply refuses this commit (${why.join(' and ')}): no job would be sent`;
  }
  let held = 0;
  for (const [c, b] of v.blocked) if ((c.action === 'create' || c.action === 'follow') && b.kind !== 'stale' && b.kind !== 'unknown-history') held++;
  return `${plural(v.toSend, 'job')} to send${held ? `; ${plural(held, 'change')} blocked (see above)` : ''}`;
}

const key = (x: FindingAt) => `${x.path}:${x.finding.line}:${x.finding.column}:${x.finding.rule}`;

/** `plan reads the commit, not your working tree`: up to a few of the files that differ. */
export function uncommittedNote(files: readonly string[], max = 3): string | null {
  if (!files.length) return null;
  const named = files.slice(0, max).join(', ');
  const more = files.length > max ? ` and ${files.length - max} more` : '';
  return `${plural(files.length, 'file')} under the sites directory ${files.length === 1 ? 'is' : 'are'} not committed (${named}${more}): plan reads the commit, not your working tree; commit ${files.length === 1 ? 'it' : 'them'} to include ${files.length === 1 ? 'it' : 'them'}.`;
}

/**
 * A unified diff (core/diff.ts) for the terminal: its file header left out, hunks as they are
 * (three lines of context), `+` green and `-` red, cut after `maxLines` lines with "… N more lines".
 */
export function compactDiff(diff: string, style: Style, maxLines = 20, indent = '      '): string[] {
  const lines = diff
    .replace(/\n$/, '')
    .split('\n')
    .filter((l) => !l.startsWith('+++ ') && !l.startsWith('--- ') && l !== '\\ No newline at end of file');
  const shown = lines.slice(0, maxLines).map((l) => {
    if (l.startsWith('@@')) return indent + style.cyan(l);
    if (l.startsWith('+')) return indent + style.green(l);
    if (l.startsWith('-')) return indent + style.red(l);
    return indent + style.dim(l);
  });
  if (lines.length > maxLines) shown.push(indent + style.dim(`… ${lines.length - maxLines} more lines (--format markdown shows the whole diff)`));
  return shown;
}
