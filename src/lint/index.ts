// Script checks for RouterOS .rsc files, before they are shipped: syntax errors RouterOS would stop
// on half-way (it keeps what already ran), commands the site's RouterOS version does not have, and
// commands that can lock the router out. Pure: no network, no file system (the command tree is
// passed in; see src/assets/command-data.ts for where it is read).
import { readAcknowledgements } from './acknowledge.js';
import type { RouterOsTarget } from './command-tree.js';
import { findLockouts } from './lockout.js';
import { findUnguardedAdds } from './rerun.js';
import { checkCommands } from './routeros-check.js';
import {
  deprecatedRuleSettings,
  levelOfSetting,
  RULES,
  ruleInfo,
  severityOf,
  validateRuleSettings,
  type Level,
  type RuleSetting,
  type Severity,
} from './rules.js';
import { scanScript, type Statement } from './scanner.js';

export { deprecatedRuleSettings, RULES, severityOf, validateRuleSettings };
export type { RouterOsTarget };
export type { RuleInfo, RuleId } from './rules.js';
export type { Level, Severity, RuleSetting };

export interface Finding {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units from the start of the line; a tab counts as one. */
  column: number;
  /** What it does to apply: error (never sent), lockout (refused until acknowledged), advice (shown). */
  level: Level;
  /** severityOf(level): `error` or `warning`, the older field tools may read. */
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

/** The level a rule reports at under `settings` (invalid settings keep the default: validateRuleSettings reports them). */
function levelOf(rule: string, settings: Record<string, RuleSetting> | undefined): Level | 'off' {
  const info = ruleInfo(rule);
  if (!info) return 'error';
  const s = settings && Object.hasOwn(settings, rule) ? settings[rule] : undefined;
  if (!info.configurable || s === undefined || (info.alwaysOn && s === 'off')) return info.defaultLevel;
  if (s === 'off') return 'off';
  const level = levelOfSetting(s);
  if (!level || (level === 'lockout' && !info.acknowledgeable)) return info.defaultLevel;
  return level;
}

const NO_RULES: ReadonlySet<string> = new Set();

/** Check one script. Findings are sorted by line, then column. */
export function lintScript(text: string, options: LintOptions = {}): Finding[] {
  const settings = options.rules;
  const scan = scanScript(text);
  const findings: Finding[] = [];
  const push = (rule: string, line: number, column: number, message: string) => {
    const level = levelOf(rule, settings);
    if (level !== 'off') findings.push({ line, column, level, severity: severityOf(level), rule, message });
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

  const off = settings ? new Set(Object.keys(settings).filter((rule) => levelOf(rule, settings) === 'off')) : NO_RULES;
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

  // Whether the script is safe to run again: advice, on statements RouterOS would read as written.
  if (!off.has('unguarded-add') && !scan.problems.some((p) => STRUCTURE.has(p.rule))) {
    const covered = (st: Statement, enclosing: readonly Statement[]) => acks.covers('unguarded-add', st, enclosing);
    for (const h of findUnguardedAdds(scan.statements, covered)) push(h.rule, h.statement.line, h.statement.column, h.message);
  }

  return findings.sort((a, b) => a.line - b.line || a.column - b.column);
}
