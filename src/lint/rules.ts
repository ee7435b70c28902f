// Every check's id, default severity and meaning, in one table: the CLI's `rules` listing, settings
// validation and lintScript all read it.
import type { LockoutRuleId } from './lockout.js';
import type { RouterOsRuleId } from './routeros-check.js';
import type { RerunRuleId } from './rerun.js';
import type { ScanRuleId } from './scanner.js';

/**
 * What a finding does to apply: `error` (the script is never sent), `lockout` (it can cut
 * management access: apply refuses it until the script acknowledges the finding or --allow-lockout
 * is given) and `advice` (shown, never blocks).
 */
export type Level = 'error' | 'lockout' | 'advice';
/** The machine interface's older two-way view of a level (kept stable): `error` for error, else `warning`. */
export type Severity = 'error' | 'warning';
/** A `lint.rules` value; `warning` is the former name of `advice` (still read, with a notice). */
export type RuleSetting = Level | 'off' | 'warning';

export type RuleId = ScanRuleId | LockoutRuleId | RouterOsRuleId | RerunRuleId | 'unknown-allow' | 'raw-template-value';

export function severityOf(level: Level): Severity {
  return level === 'error' ? 'error' : 'warning';
}

export interface RuleInfo {
  readonly id: RuleId;
  readonly defaultLevel: Level;
  /** severityOf(defaultLevel), for tools that read the older field. */
  readonly defaultSeverity: Severity;
  readonly description: string;
  /**
   * 'syntax': RouterOS cannot run the script as written; 'routeros': the router's command tree
   * refuses it (checked against the site's RouterOS version); 'lockout': the script runs but may
   * cut the router off; 'rerun': the script may not be safe to run again (every script is re-run
   * whole on every change); 'notice': about the script's comments or layout.
   */
  readonly kind: 'syntax' | 'routeros' | 'lockout' | 'rerun' | 'notice';
  /** Settings may change its severity or turn it off. */
  readonly configurable: boolean;
  /** `# routeros-gitops: allow <id>` silences it. */
  readonly acknowledgeable: boolean;
  /** Settings may make it an error but never turn it off: every occurrence is reported. */
  readonly alwaysOn?: boolean;
}

type Info = Omit<RuleInfo, 'defaultSeverity'>;

/** A rule of the table, with its older severity field filled in. */
function rule(info: Info): RuleInfo {
  return { ...info, defaultSeverity: severityOf(info.defaultLevel) };
}

function syntax(id: ScanRuleId, description: string): RuleInfo {
  return rule({ id, defaultLevel: 'error', description, kind: 'syntax', configurable: false, acknowledgeable: false });
}

/** Configurable (the data set can be wrong about a router) and acknowledgeable for the same reason. */
function routeros(id: RouterOsRuleId, description: string): RuleInfo {
  return rule({ id, defaultLevel: 'error', description, kind: 'routeros', configurable: true, acknowledgeable: true });
}

/** Every lockout risk is refused by apply until acknowledged (or --allow-lockout): level `lockout`. */
function lockout(id: LockoutRuleId, description: string): RuleInfo {
  return rule({ id, defaultLevel: 'lockout', description, kind: 'lockout', configurable: true, acknowledgeable: true });
}

export const RULES: ReadonlyArray<RuleInfo> = [
  syntax(
    'unbalanced-bracket',
    'A ( [ or { without its closing bracket, a closing bracket without its opener, or a ) ] } that closes the wrong one. RouterOS stops at it; an unmatched } silently ends the script there.',
  ),
  syntax('unterminated-string', 'A " that is never closed. Strings may span lines, so the rest of the script would be read as text.'),
  syntax('invalid-escape', 'A \\ in a string not followed by one of " \\ n r t $ ? _ a b f v, two upper-case hex digits, or the end of the line.'),
  syntax('stray-backslash', 'A \\ outside a string that is not the last character of its line (only line continuations may use it).'),
  syntax(
    'comment-after-continuation',
    'A # comment after a line continuation \\, on the same line or at the start of the continued line: it is not read as a comment.',
  ),
  syntax('line-break-in-brackets', 'A line break inside ( ) or [ ] without a \\ continuation; the command ends there and the bracket stays open.'),
  rule({
    id: 'param-space',
    defaultLevel: 'error',
    description:
      'Whitespace between a parameter name and = (gateway = 1.1.1.1); RouterOS reads separate words and rejects the command. Comparisons inside ( ) and `where` queries are not affected.',
    kind: 'syntax',
    configurable: true,
    acknowledgeable: false,
  }),
  rule({
    id: 'inline-comment',
    defaultLevel: 'advice',
    description:
      'A # after a command on the same line without a ; before it. RouterOS starts comments only where a command starts, so the text is read as part of the command.',
    kind: 'notice',
    configurable: true,
    acknowledgeable: false,
  }),
  rule({
    id: 'continuation-space',
    defaultLevel: 'advice',
    description: 'Spaces after the \\ that ends a line; RouterOS may not read it as a line continuation.',
    kind: 'notice',
    configurable: true,
    acknowledgeable: false,
  }),
  rule({
    id: 'raw-template-value',
    defaultLevel: 'advice',
    description:
      'A template value written raw, ${{{ vars.NAME }}}: it is inserted without escaping, so a value holding " or a line break can end a string or add commands. Every use is reported (set it to "error" to refuse raw values).',
    kind: 'notice',
    configurable: true,
    acknowledgeable: false,
    alwaysOn: true,
  }),
  rule({
    id: 'unknown-allow',
    defaultLevel: 'advice',
    description: 'A "# routeros-gitops: allow ..." comment naming a rule that does not exist or cannot be acknowledged, so it acknowledges nothing.',
    kind: 'notice',
    configurable: true,
    acknowledgeable: false,
  }),
  routeros(
    'unknown-menu',
    "A menu path the site's RouterOS version does not have (/ip firewal filter), in either spelling (/ip firewall filter, /ip/firewall/filter), absolute or relative to the menu line before.",
  ),
  routeros('unknown-command', "A command the menu does not have in the site's RouterOS version (/ip address ad), or parameters with no command before them."),
  routeros('unknown-parameter', "A parameter the command does not take in the site's RouterOS version (add chain=input acton=drop)."),
  routeros('invalid-value', "A value the parameter's list of values does not hold in the site's RouterOS version."),
  routeros(
    'not-in-version',
    "A menu, command, parameter or value that exists in other RouterOS versions but not in the site's (BGP instance= before 7.20, router-id= from 7.20 on).",
  ),
  routeros(
    'missing-package',
    "A menu, command or parameter of an extra package (container, wireless, iot, ...) that the site's packages setting does not list.",
  ),
  routeros('console-paste', 'A console prompt ([admin@MikroTik] >) or printed output pasted into the script: RouterOS cannot run it.'),
  lockout('reset-configuration', '/system reset-configuration: erases the configuration, management access with it.'),
  lockout('shutdown', '/system shutdown: powers the router off; only someone on site can turn it back on.'),
  lockout('device-mode', '/system device-mode changes: need a button press or power cycle on the router to complete.'),
  lockout('reboot', '/system reboot: drops every connection; a configuration that does not come back up leaves the router out of reach.'),
  lockout('backup-load', '/system backup load: replaces the whole configuration and reboots.'),
  lockout(
    'package-change',
    '/system package enable, disable, uninstall, downgrade, apply-changes and /system package update install or download: change the software, with a reboot.',
  ),
  lockout('ip-service', 'Changes to /ip service: can turn off, move or restrict the service the router is managed through.'),
  lockout('ssh-settings', 'Changes to /ip ssh: can stop existing SSH clients from connecting.'),
  lockout(
    'user-change',
    'Changes to /user and /user group entries (set, remove, disable, ...; adding one is not flagged) and removed /user ssh-keys: can lock out the managing account.',
  ),
  lockout(
    'input-drop',
    'drop, reject or tarpit rules in the input chain of /ip firewall filter or /ipv6 firewall filter (added, or set on a rule that may be in the input chain); not disabled rules, nor drops of connection-state=invalid.',
  ),
  lockout(
    'input-accept-removal',
    'Removing or disabling firewall filter rules (IPv4 or IPv6) that are, or may be, input-chain accept rules, including `remove 3` and finds that do not rule them out.',
  ),
  lockout('interface-disable', 'Disabling or removing an interface (any /interface type), a bridge port or a WireGuard peer.'),
  lockout('address-removal', 'Removing, disabling or re-addressing an IPv4 or IPv6 address, or removing or disabling a DHCP client.'),
  lockout('route-removal', 'Removing, disabling or re-pointing an IPv4 or IPv6 route.'),
  lockout('vlan-filtering', 'vlan-filtering=yes on a bridge: frames the bridge VLAN table does not allow are dropped at once.'),
  lockout('interface-list-member', 'Changes to /interface list member, and removed interface lists: the firewall and MAC access rely on them.'),
  lockout('scheduler-removal', 'Removing or disabling /system scheduler entries, which often hold rollback and watchdog jobs.'),
  lockout('script-removal', 'Removing /system script entries that schedulers, netwatch or other scripts may run.'),
  lockout('remove-find-all', 'remove [find] with no condition: removes every entry of the menu, hand-made and default ones included.'),
  rule({
    id: 'unguarded-add',
    defaultLevel: 'advice',
    description:
      'An add with no guard before it: no remove or find on the same menu earlier in the script, and no :if (or :do ... on-error) around it. Every script is sent again whole on every change, so the add runs again: it makes a second entry, or fails where the menu refuses duplicates. Guard it: remove [find comment=...] then add, or :if ([:len [find ...]] = 0) do={ add ... }.',
    kind: 'rerun',
    configurable: true,
    acknowledgeable: true,
  }),
  rule({
    id: 'abbreviated-name',
    defaultLevel: 'advice',
    description:
      "A menu or command name written as an abbreviation (/ip fire filter): RouterOS completes it while exactly one name starts with it, and a later version that adds another makes the same script fail. Write the full name. Checked against the site's RouterOS version.",
    kind: 'routeros',
    configurable: true,
    acknowledgeable: true,
  }),
];

const BY_ID = new Map<string, RuleInfo>(RULES.map((r) => [r.id, r]));

export function ruleInfo(id: string): RuleInfo | undefined {
  return BY_ID.get(id);
}

/** The closest rule id to a misspelt one, when it is close enough to be a likely typo. */
export function suggestRule(id: string, candidates: readonly RuleInfo[] = RULES): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const r of candidates) {
    const d = r.id.includes(id) && id.length >= 4 ? 1 : distance(id, r.id);
    if (d < bestDistance) {
      best = r.id;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(id.length / 3)) ? best : undefined;
}

/** The closest of `names` to `name`, when it is close enough to be a likely typo. */
export function closestName(name: string, names: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const n of names) {
    const d = distance(name, n);
    if (d < bestDistance) {
      best = n;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

/** Edit distance, with a swap of two neighbouring characters counted as one edit (nmae -> name). */
export function distance(a: string, b: string): number {
  // Optimal string alignment: three rows of the Levenshtein table.
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length]!;
}

const SETTINGS = ['error', 'lockout', 'advice', 'off', 'warning'];
const SETTINGS_TEXT = '"error", "lockout", "advice" or "off"';

/** The level a `lint.rules` value sets (`warning` is the former name of `advice`); undefined for `off` and unknown values. */
export function levelOfSetting(value: unknown): Level | undefined {
  if (value === 'warning') return 'advice';
  return value === 'error' || value === 'lockout' || value === 'advice' ? value : undefined;
}

/** Notices about a valid `lint.rules` map that should still be edited: the former name `warning`. */
export function deprecatedRuleSettings(rules: Record<string, unknown>): string[] {
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) return [];
  return Object.entries(rules)
    .filter(([id, value]) => value === 'warning' && BY_ID.has(id))
    .map(([id]) => {
      const info = BY_ID.get(id)!;
      const lockoutNote = info.kind === 'lockout' ? ' (or "lockout", its default, to have apply refuse it until it is acknowledged)' : '';
      return `lint rule "${id}": "warning" is the former name of "advice" (shown, never blocks); write "advice"${lockoutNote}`;
    });
}

/** Problems with a `lint.rules` map, as plain sentences; empty when it is fine. */
export function validateRuleSettings(rules: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) {
    return [`lint rules must be a map of rule id to ${SETTINGS_TEXT}`];
  }
  for (const [id, value] of Object.entries(rules)) {
    const info = BY_ID.get(id);
    if (!info) {
      const guess = suggestRule(id);
      out.push(`unknown lint rule "${id}"${guess ? `; did you mean "${guess}"?` : ''} (\`routeros-gitops rules\` lists them)`);
      continue;
    }
    if (typeof value !== 'string' || !SETTINGS.includes(value)) {
      out.push(`lint rule "${id}" must be set to ${SETTINGS_TEXT}, not ${JSON.stringify(value) ?? String(value)}`);
      continue;
    }
    if (info.alwaysOn && value === 'off') {
      out.push(`lint rule "${id}" reports every occurrence and cannot be turned off; set it to "advice" or "error"`);
      continue;
    }
    if (value === 'lockout' && !info.acknowledgeable && info.configurable) {
      out.push(
        `lint rule "${id}" cannot be set to "lockout": a lockout-level finding is refused until a "# routeros-gitops: allow" comment acknowledges it, and this rule cannot be acknowledged; set it to "error" or "advice"`,
      );
      continue;
    }
    if (!info.configurable && value !== 'error') {
      out.push(`lint rule "${id}" is a syntax check: RouterOS cannot run such a script, so it is always an error and cannot be set to "${value}"`);
    }
  }
  return out;
}
