// Acknowledgements: `# routeros-gitops: allow <rule>[, <rule>...]` in a comment. In the file's
// leading comment block it covers the whole file; elsewhere it covers the command on the same line
// (after a `;`) or the command right below the comment lines it sits in.
import { ruleInfo, suggestRule, RULES } from './rules.js';
import type { Comment, ScanProblem, Statement } from './scanner.js';

const MARK = /routeros-gitops\s*:/i;
const ALLOW = /routeros-gitops\s*:\s*allow\s+([a-z0-9][a-z0-9-]*(?:\s*,\s*[a-z0-9][a-z0-9-]*)*)/i;

export interface Acknowledgements {
  /** Rules acknowledged for the whole file. */
  readonly file: ReadonlySet<string>;
  /** Does a comment acknowledge `rule` for this statement (or the whole file)? */
  covers(rule: string, st: Statement): boolean;
  /** Acknowledgement comments that name nothing it can acknowledge. */
  readonly problems: ReadonlyArray<Omit<ScanProblem, 'rule'> & { rule: 'unknown-allow' }>;
}

export function readAcknowledgements(comments: readonly Comment[], statements: readonly Statement[]): Acknowledgements {
  const file = new Set<string>();
  const byLine = new Map<number, Set<string>>();
  const ownLine = new Set<number>();
  const problems: Array<Omit<ScanProblem, 'rule'> & { rule: 'unknown-allow' }> = [];
  const firstLine = statements[0]?.line ?? Infinity;
  const acknowledgeable = RULES.filter((r) => r.acknowledgeable);

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
        const guess = suggestRule(id, acknowledgeable);
        message = `unknown rule "${id}" in this acknowledgement, so it acknowledges nothing${guess ? `; did you mean "${guess}"?` : '.'}`;
      }
      problems.push({ rule: 'unknown-allow', line: c.line, column: c.column, message });
    }
  }

  const covers = (rule: string, st: Statement): boolean => {
    if (file.has(rule)) return true;
    for (let l = st.line; l <= st.endLine; l++) if (byLine.get(l)?.has(rule)) return true;
    for (let l = st.line - 1; ownLine.has(l); l--) if (byLine.get(l)?.has(rule)) return true;
    return false;
  };
  return { file, covers, problems };
}
