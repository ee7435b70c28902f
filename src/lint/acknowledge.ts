// Acknowledgements: `# routeros-gitops: allow <rule>[, <rule>...]` in a comment. In the file's
// leading comment block it covers the whole file; elsewhere it covers the command on the same line
// (after a `;`) or the command right below the comment lines it sits in, with every command in
// that command's blocks.
import { ruleInfo, suggestRule, RULES } from './rules.js';
import type { Comment, ScanProblem, Statement } from './scanner.js';

/** Any comment that speaks to this tool (split.ts restates the file's leading ones in every part). */
export const MARK = /routeros-gitops\s*:/i;
const ALLOW = /routeros-gitops\s*:\s*allow\s+([a-z0-9][a-z0-9-]*(?:\s*,\s*[a-z0-9][a-z0-9-]*)*)/i;

export interface Acknowledgements {
  /** Rules acknowledged for the whole file. */
  readonly file: ReadonlySet<string>;
  /**
   * Does a comment acknowledge `rule` for this statement: the whole file's, one on its lines or
   * right above it, or one that covers a statement whose block holds it?
   */
  covers(rule: string, st: Statement, enclosing?: readonly Statement[]): boolean;
  /** Acknowledgement comments that name nothing it can acknowledge. */
  readonly problems: ReadonlyArray<Omit<ScanProblem, 'rule'> & { rule: 'unknown-allow' }>;
}

const ACKNOWLEDGEABLE = RULES.filter((r) => r.acknowledgeable);

/** A script without comments acknowledges nothing. */
const NONE: Acknowledgements = { file: new Set(), covers: () => false, problems: [] };

export function readAcknowledgements(comments: readonly Comment[], statements: readonly Statement[]): Acknowledgements {
  if (comments.length === 0) return NONE;
  const file = new Set<string>();
  const byLine = new Map<number, Set<string>>();
  const ownLine = new Set<number>();
  const problems: Array<Omit<ScanProblem, 'rule'> & { rule: 'unknown-allow' }> = [];
  const firstLine = statements[0]?.line ?? Infinity;

  for (const c of comments) {
    if (c.ownLine) ownLine.add(c.line);
    if (!MARK.test(c.text)) continue;
    const m = ALLOW.exec(c.text);
    if (!m) {
      problems.push({
        rule: 'unknown-allow',
        line: c.line,
        column: c.column,
        message: 'this routeros-gitops comment is not understood, so it acknowledges nothing. Write "# routeros-gitops: allow <rule>[, <rule>...]".',
      });
      continue;
    }
    const ids = m[1]!.split(',').map((s) => s.trim().toLowerCase());
    const set = byLine.get(c.line) ?? new Set<string>();
    byLine.set(c.line, set);
    for (const id of ids) {
      const info = ruleInfo(id);
      if (info?.acknowledgeable) {
        set.add(id);
        if (c.line < firstLine) file.add(id);
        continue;
      }
      let message: string;
      if (info) {
        message = `"${id}" cannot be acknowledged: ${info.kind === 'syntax' ? 'RouterOS cannot run the script as written, so fix the script' : 'change its setting in lint.rules instead'}.`;
      } else {
        const guess = suggestRule(id, ACKNOWLEDGEABLE);
        message = `unknown rule "${id}" in this acknowledgement, so it acknowledges nothing${guess ? `; did you mean "${guess}"?` : '.'}`;
      }
      problems.push({ rule: 'unknown-allow', line: c.line, column: c.column, message });
    }
  }

  const coversOne = (rule: string, st: Statement, ownLines: boolean): boolean => {
    // A block statement spans many lines: only its first line (and the lines above) speak for it.
    const last = ownLines ? st.endLine : st.line;
    for (let l = st.line; l <= last; l++) if (byLine.get(l)?.has(rule)) return true;
    for (let l = st.line - 1; ownLine.has(l); l--) if (byLine.get(l)?.has(rule)) return true;
    return false;
  };
  const covers = (rule: string, st: Statement, enclosing: readonly Statement[] = []): boolean =>
    file.has(rule) || coversOne(rule, st, true) || enclosing.some((e) => coversOne(rule, e, false));
  return { file, covers, problems };
}
