// Script checks for RouterOS .rsc files, before they are shipped: syntax errors RouterOS would stop
// on half-way (it keeps what already ran), commands the site's RouterOS version does not have, and
// commands that can lock the router out. Pure: no network, no file system (the command tree is
// passed in; see src/assets/command-data.ts for where it is read).
import { readAcknowledgements } from './acknowledge.js';
import type { RouterOsTarget } from './command-tree.js';
import { findLockouts } from './lockout.js';
import { checkCommands } from './routeros-check.js';
import { RULES, ruleInfo, validateRuleSettings, type RuleSetting, type Severity } from './rules.js';
import { scanScript } from './scanner.js';

export { RULES, validateRuleSettings };
export type { RouterOsTarget };
export type { RuleInfo, RuleId } from './rules.js';
export type { Severity, RuleSetting };

export interface Finding {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units from the start of the line; a tab counts as one. */
  column: number;
  severity: Severity;
  /** A rule id from RULES. */
  rule: string;
  /** What is wrong and how to fix it, or why the command is risky and how to acknowledge it. */
  message: string;
}

export interface LintOptions {
  /** Rule id -> setting; absent rules keep their default. Invalid entries are ignored here (see validateRuleSettings). */
  rules?: Record<string, RuleSetting>;
  /** Template values written raw (${{{ ... }}}), at their place in the source: each is reported. */
  rawValues?: ReadonlyArray<{ kind: string; name: string; line: number; column: number }>;
  /** Check every command against this RouterOS version's command tree. Default: no such check. */
  routeros?: RouterOsTarget;
}

/** Problems after which the statements are not what RouterOS would read: the command checks would only add noise. */
const STRUCTURE = new Set(['unbalanced-bracket', 'unterminated-string']);

function severityOf(rule: string, settings: Record<string, RuleSetting> | undefined): Severity | 'off' {
  const info = ruleInfo(rule);
  if (!info) return 'error';
  const s = settings && Object.hasOwn(settings, rule) ? settings[rule] : undefined;
  if (!info.configurable || (s !== 'error' && s !== 'warning' && s !== 'off') || (info.alwaysOn && s === 'off')) return info.defaultSeverity;
  return s;
}

const NO_RULES: ReadonlySet<string> = new Set();

/** Check one script. Findings are sorted by line, then column. */
export function lintScript(text: string, options: LintOptions = {}): Finding[] {
  const settings = options.rules;
  const scan = scanScript(text);
  const findings: Finding[] = [];
  const push = (rule: string, line: number, column: number, message: string) => {
    const severity = severityOf(rule, settings);
    if (severity !== 'off') findings.push({ line, column, severity, rule, message });
  };

  for (const p of scan.problems) push(p.rule, p.line, p.column, p.message);
  for (const r of options.rawValues ?? []) {
    push(
      'raw-template-value',
      r.line,
      r.column,
      `\${{{ ${r.kind}.${r.name} }}} inserts its value raw, without escaping: a value holding " or a line break can end a string or add commands. ` +
        `Review it; write \${{ ${r.kind}.${r.name} }} (escaped) unless the value is meant to be RouterOS code.`,
    );
  }

  const acks = readAcknowledgements(scan.comments, scan.statements);
  for (const p of acks.problems) push(p.rule, p.line, p.column, p.message);

  const off = settings ? new Set(Object.keys(settings).filter((rule) => severityOf(rule, settings) === 'off')) : NO_RULES;
  if (options.routeros && !scan.problems.some((p) => STRUCTURE.has(p.rule))) {
    for (const h of checkCommands(scan.statements, options.routeros, off)) {
      if (acks.covers(h.rule, h.statement, h.enclosing)) continue;
      push(h.rule, h.line, h.column, h.message);
    }
  }
  const hits = findLockouts(scan.statements, off);
  for (const h of hits) {
    if (acks.covers(h.rule, h.statement, h.enclosing)) continue;
    push(
      h.rule,
      h.statement.line,
      h.statement.column,
      `${h.message} If this is intended, acknowledge it with "# routeros-gitops: allow ${h.rule}" on the line above the command or at the top of the file.`,
    );
  }

  return findings.sort((a, b) => a.line - b.line || a.column - b.column);
}
