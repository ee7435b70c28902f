// From statements to commands: which menu each command runs in, its verb and its parameters.
//
// RouterOS keeps a current menu while it reads a script: a line that is only a path
// (`/ip firewall filter` or `/ip/firewall/filter`) moves into that menu for the lines after it,
// within the same { } block; a path in front of a command (`/ip firewall filter add ...`) applies
// to that command only; `..` goes up. [find ...] runs in the menu of the command around it unless
// it names its own path (`[/interface find ...]`).
import type { Arg, Group, Statement } from './scanner.js';

/** Menu commands this module needs to tell apart from menu names. */
const VERBS = new Set([
  'add', 'set', 'remove', 'disable', 'enable', 'unset', 'edit', 'move', 'comment', 'reset', 'print', 'export', 'find', 'get',
  'reboot', 'shutdown', 'reset-configuration', 'load', 'save', 'install', 'uninstall', 'upgrade', 'downgrade', 'update',
  'download', 'check-for-updates', 'apply-changes', 'cancel', 'monitor', 'import', 'run', 'flush', 'send', 'release', 'renew',
  'make-static', 'regenerate-host-key', 'import-host-key', 'export-host-key', 'reset-counters', 'reset-counters-all', 'ping',
  'fetch', 'info', 'warning', 'error', 'debug', 'quit', 'redo', 'undo', 'generate', 'sign', 'format-drive', 'blink', 'beep',
  'clear', 'listen', 'scan', 'sniff', 'torch', 'traceroute', 'start', 'stop', 'unschedule', 'schedule',
]);

/** Menus whose name is also a command elsewhere: read as a menu at these paths. */
const MENUS_NAMED_LIKE_VERBS = new Set(['/system/package/update', '/system/upgrade']);
const AMBIGUOUS = new Set(['update', 'upgrade']);

/** A menu word: letters, digits and hyphens, not starting with a hyphen, with at least one letter (`ipv6`, `6to4`, `pppoe-client`). */
function isMenuWord(w: string): boolean {
  let letter = false;
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i) | 32; // lower case for letters
    if (c >= 97 && c <= 122) letter = true;
    else if (!((c >= 48 && c <= 57) || (c === 45 /* - */ && i > 0))) return false;
  }
  return letter;
}

/** Could this word start a menu command: `/`, a letter, a digit or `.` (`..`)? */
function startsCommand(w: string): boolean {
  const c = w.charCodeAt(0);
  const l = c | 32;
  return c === 47 || c === 46 || (c >= 48 && c <= 57) || (l >= 97 && l <= 122);
}

export interface ParamValue {
  /** The value with the quotes of a plain string removed and its simple escapes read. */
  readonly value: string;
  /** The value depends on a variable, a command or an expression. */
  readonly dynamic: boolean;
  readonly arg: Arg;
}

/** What a `remove`, `disable` or `set` applies to. */
export type Target =
  | { kind: 'none' }
  | { kind: 'find'; filters: ReadonlyMap<string, ParamValue>; empty: boolean }
  | { kind: 'ids' }
  | { kind: 'name'; value: string }
  | { kind: 'unknown' };

/** A menu command. Parameters and target are read on first use: most commands need neither. */
export class Command {
  private parsed: { params: Map<string, ParamValue>; unnamed: Arg[] } | undefined;
  private target: Target | undefined;

  constructor(
    /** Canonical menu path: '/ip/firewall/filter' ('' for the top). */
    readonly path: string,
    readonly verb: string,
    /** The words after the verb. */
    readonly rest: readonly Arg[],
    readonly statement: Statement,
  ) {}

  /** Named parameters by lower-case name (`!` kept: `chain!` for `chain!=input`). */
  get params(): ReadonlyMap<string, ParamValue> {
    return (this.parsed ??= readParams(this.rest)).params;
  }

  /** Words after the verb that are not name=value. */
  get unnamed(): readonly Arg[] {
    return (this.parsed ??= readParams(this.rest)).unnamed;
  }

  /** What `numbers` (or the first unnamed word) points at. */
  get targets(): Target {
    return (this.target ??= targetOf(this));
  }
}

export function joinPath(segments: readonly string[]): string {
  return segments.length ? '/' + segments.join('/') : '';
}

/** A canonical path as people write it: '/ip/firewall/filter' -> '/ip firewall filter'. */
export function showPath(path: string): string {
  return path ? '/' + path.slice(1).split('/').join(' ') : 'the top menu';
}

type Resolved = { kind: 'navigate'; path: string[] } | { kind: 'command'; command: Command; menu: string[] } | { kind: 'other' };

const OTHER: Resolved = { kind: 'other' };

/** Resolve one statement against the current menu. */
export function resolveStatement(st: Statement, current: readonly string[]): Resolved {
  const args = st.args;
  const first = args[0];
  if (!first) return OTHER;
  // :if, :local, $var, (expr), [cmd], {block}, "string": not menu commands.
  if (!startsCommand(first.text)) return OTHER;
  let path = current.slice();
  let verb: string | undefined;
  let k = 0;
  let stopped = false;
  outer: for (; k < args.length; k++) {
    const a = args[k]!;
    const t = a.text;
    if (a.groups.length || t.includes('=') || t.includes('"')) {
      stopped = true;
      break;
    }
    const segments = t.includes('/') ? t.split('/') : [t];
    if (t.startsWith('/')) path = [];
    for (let s = 0; s < segments.length; s++) {
      const seg = segments[s]!;
      if (seg === '') continue;
      if (seg === '..') {
        path.pop();
        continue;
      }
      if (!isMenuWord(seg)) {
        if (s > 0) return OTHER; // half a path, half something else: not ours to read
        stopped = true;
        break outer;
      }
      const lower = seg.toLowerCase();
      if (VERBS.has(lower) && !(AMBIGUOUS.has(lower) && MENUS_NAMED_LIKE_VERBS.has(joinPath([...path, lower])))) {
        verb = lower;
        k++;
        break outer;
      }
      path.push(lower);
    }
  }
  if (!verb) {
    if (!stopped) return { kind: 'navigate', path };
    // An unknown command (`/tool fetch url=...`): the last word before the arguments.
    if (path.length === 0 || (k === 0 && !first.text.startsWith('/'))) return OTHER;
    verb = path.pop()!;
  }
  return { kind: 'command', command: new Command(joinPath(path), verb, args.slice(k), st), menu: path };
}

/** Split words into name=value parameters and the rest. `name=` followed by a word joins them. */
export function readParams(rest: readonly Arg[]): { params: Map<string, ParamValue>; unnamed: Arg[] } {
  const params = new Map<string, ParamValue>();
  const unnamed: Arg[] = [];
  for (let k = 0; k < rest.length; k++) {
    const a = rest[k]!;
    const eq = a.text.indexOf('=');
    const name = eq > 0 ? a.text.slice(0, eq) : '';
    if (!name || !PARAM_NAME.test(name)) {
      unnamed.push(a);
      continue;
    }
    let raw = a.text.slice(eq + 1);
    let arg = a;
    // `comment=\` + newline + `"..."` (how /export wraps) and `name= value` (the manual allows it).
    if (raw === '' && k + 1 < rest.length && !rest[k + 1]!.text.includes('=')) {
      arg = rest[++k]!;
      raw = arg.text;
    }
    let value = raw;
    let dynamic: boolean;
    if (raw.length >= 2 && raw.charCodeAt(0) === 34 && raw.charCodeAt(raw.length - 1) === 34) {
      value = raw.slice(1, -1);
      dynamic = value.includes('$') && /(^|[^\\])\$[\w("[{]/.test(value);
      if (value.includes('\\')) value = value.replace(/\\(["\\$?_])/g, (_, c: string) => (c === '_' ? ' ' : c));
    } else {
      dynamic = DYNAMIC.test(raw);
    }
    params.set(name.toLowerCase(), { value, dynamic, arg });
  }
  return { params, unnamed };
}

const PARAM_NAME = /^[A-Za-z][\w.-]*!?$/;
const DYNAMIC = /[$[(]/;

/** The `find` inside a group, when the group is `[find ...]` or `[/some path find ...]`. */
export function findInGroup(group: Group): { filters: Map<string, ParamValue>; empty: boolean } | undefined {
  if (group.open !== '[' || group.statements.length !== 1) return undefined;
  const r = resolveStatement(group.statements[0]!, []);
  if (r.kind !== 'command' || r.command.verb !== 'find') return undefined;
  // Only plain `name=value` filters are read. Anything else (`!disabled`, `comment~"x"`, `or`, an
  // expression) can only narrow the selection or make it unknowable; callers treat unknown as
  // "could match anything".
  const conditions = r.command.unnamed.filter((a) => a.text !== 'where');
  return { filters: new Map(r.command.params), empty: r.command.params.size === 0 && conditions.length === 0 };
}

/** What a command's `numbers` (or first unnamed word) points at. */
function targetOf(cmd: Command): Target {
  const numbers = cmd.params.get('numbers');
  const arg = numbers?.arg ?? cmd.unnamed[0];
  if (!arg) return { kind: 'none' };
  const text = numbers ? numbers.value : arg.text;
  if (arg.groups.length) {
    if (arg.groups.length === 1 && text.startsWith('[') && text.endsWith(']')) {
      const f = findInGroup(arg.groups[0]!);
      if (f) return { kind: 'find', ...f };
    }
    return { kind: 'unknown' };
  }
  if (/^[*\d][*0-9A-F]*(,\*?[0-9A-F]+)*$/i.test(text)) return { kind: 'ids' };
  if (/^[$(]/.test(text)) return { kind: 'unknown' };
  return { kind: 'name', value: text.replace(/^"|"$/g, '') };
}

/**
 * Walk every statement of a script, in order, with the menu it runs in, and call `visit` for each
 * menu command, including the ones inside [ ] and { }, with the statements around it (outermost
 * first). Array literals are walked too: their elements ({1;2}, {a=1}) never read as commands, and
 * a { } taken for an array by mistake must not hide the commands in it.
 */
export function walkCommands(
  statements: readonly Statement[],
  visit: (cmd: Command, enclosing: readonly Statement[]) => void,
  base: readonly string[] = [],
  enclosing: readonly Statement[] = [],
): void {
  let current: readonly string[] = base;
  for (const st of statements) {
    let menu: readonly string[] = current;
    const r = resolveStatement(st, current);
    if (r.kind === 'navigate') {
      current = r.path;
      continue;
    }
    if (r.kind === 'command') {
      visit(r.command, enclosing);
      menu = r.menu;
    }
    let inner: readonly Statement[] | undefined;
    for (const a of st.args) {
      for (const g of a.groups) {
        inner ??= [...enclosing, st];
        // [ ] and ( ) run in the command's menu; { } blocks start from the menu around the statement.
        walkCommands(g.statements, visit, g.open === '{' ? current : menu, inner);
      }
    }
  }
}
