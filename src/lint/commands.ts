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
  'add',
  'set',
  'remove',
  'disable',
  'enable',
  'unset',
  'edit',
  'move',
  'comment',
  'reset',
  'print',
  'export',
  'find',
  'get',
  'reboot',
  'shutdown',
  'reset-configuration',
  'load',
  'save',
  'install',
  'uninstall',
  'upgrade',
  'downgrade',
  'update',
  'download',
  'check-for-updates',
  'apply-changes',
  'cancel',
  'monitor',
  'import',
  'run',
  'flush',
  'send',
  'release',
  'renew',
  'make-static',
  'regenerate-host-key',
  'import-host-key',
  'export-host-key',
  'reset-counters',
  'reset-counters-all',
  'ping',
  'fetch',
  'info',
  'warning',
  'error',
  'debug',
  'quit',
  'redo',
  'undo',
  'generate',
  'sign',
  'format-drive',
  'blink',
  'beep',
  'clear',
  'listen',
  'scan',
  'sniff',
  'torch',
  'traceroute',
  'start',
  'stop',
  'unschedule',
  'schedule',
]);

/**
 * VERBS by length and first character, to find a verb in the script's text without cutting the
 * word out of it; what is found is the string in VERBS.
 */
const LONGEST_VERB = Math.max(...[...VERBS].map((v) => v.length));
const VERBS_BY_START: Array<string[] | undefined> = [];
for (const v of VERBS) (VERBS_BY_START[v.length * 26 + v.charCodeAt(0) - 97] ??= []).push(v);

/** The verb that s[from, to) is, exactly, if any. */
function verbAt(s: string, from: number, to: number): string | undefined {
  const length = to - from;
  const letter = s.charCodeAt(from) - 97;
  if (!(letter >= 0 && letter <= 25) || length > LONGEST_VERB) return undefined;
  const bucket = VERBS_BY_START[length * 26 + letter];
  if (bucket === undefined) return undefined;
  next: for (let k = 0; k < bucket.length; k++) {
    const v = bucket[k]!;
    for (let i = 1; i < length; i++) if (s.charCodeAt(from + i) !== v.charCodeAt(i)) continue next;
    return v;
  }
  return undefined;
}

/** Menus whose name is also a command elsewhere: read as a menu at these paths. */
const MENUS_NAMED_LIKE_VERBS = new Set(['/system/package/update', '/system/upgrade']);
const AMBIGUOUS = new Set(['update', 'upgrade']);

// A word is read where it stands in the script when it is plain (nothing was cut out of it), else
// from its text: `W.s` holds it from `W.b` to `W.e`. (Module-level, so that nothing is allocated.)
const W = { s: '', b: 0, e: 0 };

function view(a: Arg): void {
  if (a.plain) {
    W.s = a.source;
    W.b = a.start;
    W.e = a.end;
  } else {
    const t = a.text;
    W.s = t;
    W.b = 0;
    W.e = t.length;
  }
}

/** Does the word in view hold `c` (or `d`)? */
function viewHas(c: number, d = c): boolean {
  const s = W.s;
  const e = W.e;
  for (let i = W.b; i < e; i++) {
    const x = s.charCodeAt(i);
    if (x === c || x === d) return true;
  }
  return false;
}

/** Could a word starting with `c` start a menu command: `/`, a letter, a digit or `.` (`..`)? */
function startsCommand(c: number): boolean {
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
    /** The statement's words; the command's own start at `from`, after the verb. */
    private readonly args: readonly Arg[],
    private readonly from: number,
    readonly statement: Statement,
  ) {}

  /** The words after the verb. */
  get rest(): readonly Arg[] {
    return this.args.slice(this.from);
  }

  /** Named parameters by lower-case name (`!` kept: `chain!` for `chain!=input`). */
  get params(): ReadonlyMap<string, ParamValue> {
    return (this.parsed ??= readParams(this.args, this.from)).params;
  }

  /** Words after the verb that are not name=value. */
  get unnamed(): readonly Arg[] {
    return (this.parsed ??= readParams(this.args, this.from)).unnamed;
  }

  /** What `numbers` (or the first unnamed word) points at. */
  get targets(): Target {
    return (this.target ??= targetOf(this));
  }

  /** `params.get(name)`, without reading every parameter. `name` must be a lower-case parameter name. */
  param(name: string): ParamValue | undefined {
    if (this.parsed) return this.parsed.params.get(name);
    const k = lastParam(this.args, this.from, name);
    return k < 0 ? undefined : paramAt(this.args, k, name.length);
  }

  /** `params.has(name)`, without reading every parameter. `name` must be a lower-case parameter name. */
  hasParam(name: string): boolean {
    if (this.parsed) return this.parsed.params.has(name);
    return lastParam(this.args, this.from, name) >= 0;
  }
}

export function joinPath(segments: readonly string[]): string {
  return segments.length ? `/${segments.join('/')}` : '';
}

/** A canonical path as people write it: '/ip/firewall/filter' -> '/ip firewall filter'. */
export function showPath(path: string): string {
  return path ? `/${path.slice(1).split('/').join(' ')}` : 'the top menu';
}

/**
 * A menu: a node of one tree of menus, shared by every script, grown as scripts name menus (so
 * moving between menus builds no strings, and whatever is worked out per menu is worked out once).
 */
export class Menu {
  /** The menus below, by name: in a list while there are few (searched in place, see childAt), then in a map. */
  private list: Menu[] | undefined;
  private map: Map<string, Menu> | undefined;

  constructor(
    /** Canonical path: '/ip/firewall/filter' ('' for the top). */
    readonly path: string,
    /** Its last path word ('' for the top). */
    readonly name: string,
    readonly parent: Menu | null,
  ) {}

  /** The menu one level down, by lower-case menu word. */
  child(word: string): Menu {
    return this.childAt(word, 0, word.length) ?? this.add(word);
  }

  /** The menu one level down named s[from, to) (a lower-case menu word), if it was seen before. */
  childAt(s: string, from: number, to: number): Menu | undefined {
    if (this.map) return this.map.get(s.slice(from, to));
    const list = this.list;
    if (list === undefined) return undefined;
    const length = to - from;
    next: for (let k = 0; k < list.length; k++) {
      const name = list[k]!.name;
      if (name.length !== length) continue;
      for (let i = 0; i < length; i++) if (s.charCodeAt(from + i) !== name.charCodeAt(i)) continue next;
      return list[k];
    }
    return undefined;
  }

  /** A new menu one level down (childAt found none). */
  add(word: string): Menu {
    const c = new Menu(`${this.path}/${word}`, word, this);
    // Bounded: past the limit (only generated or hostile input names that many menus) new menus
    // are made each time and not kept.
    if (menus < MENU_LIMIT) {
      menus++;
      if (this.map) this.map.set(word, c);
      else if ((this.list ??= []).push(c) > 16) this.map = new Map(this.list.map((m) => [m.name, m]));
    }
    return c;
  }

  /** The menu one level up (the top stays the top). */
  up(): Menu {
    return this.parent ?? this;
  }
}

let menus = 0;
const MENU_LIMIT = 10_000;

/** The top menu, where every script starts. */
export const TOP = new Menu('', '', null);

/** What resolveStatement found: not a menu command. */
export const OTHER = 0;
/** A path line: `resolved.menu` is the new current menu. */
export const NAVIGATE = 1;
/** A menu command: in `resolved.menu`, with `resolved.verb`, and its words from `resolved.from`. */
export const COMMAND = 2;
export type Kind = typeof OTHER | typeof NAVIGATE | typeof COMMAND;

/** The result of the last resolveStatement call (one shared record: nothing is allocated per statement). */
export const resolved = { menu: TOP, verb: '', from: 0 };

/** Resolve one statement against the current menu. Fills `resolved` for NAVIGATE and COMMAND. */
export function resolveStatement(st: Statement, current: Menu): Kind {
  const args = st.args;
  const first = args[0];
  if (!first) return OTHER;
  view(first);
  // The common case, in one go: the first word is a verb, as it is (`add ...` in the current menu).
  if (first.groups.length === 0) {
    const v = verbAt(W.s, W.b, W.e);
    if (v !== undefined && !AMBIGUOUS.has(v)) return command(current, v, 1);
  }
  // :if, :local, $var, (expr), [cmd], {block}, "string": not menu commands.
  if (W.e === W.b || !startsCommand(W.s.charCodeAt(W.b))) return OTHER;
  const firstIsPath = W.s.charCodeAt(W.b) === 47;
  let menu = current;
  let verb: string | undefined;
  let k = 0;
  let stopped = false;
  outer: for (; k < args.length; k++) {
    const a = args[k]!;
    if (k > 0) view(a);
    if (a.groups.length || viewHas(61 /* = */, 34 /* " */)) {
      stopped = true;
      break;
    }
    const t = W.s;
    const len = W.e;
    if (len > W.b && t.charCodeAt(W.b) === 47) menu = TOP;
    // Segments between slashes; `s` counts them, empty ones included.
    for (let from = W.b, s = 0; from <= len; s++) {
      const segFrom = from;
      readSegment(t, segFrom, len);
      const to = SEG.to;
      from = to + 1;
      if (to === segFrom) continue;
      if (to - segFrom === 2 && t.charCodeAt(segFrom) === 46 && t.charCodeAt(segFrom + 1) === 46) {
        menu = menu.up();
        continue;
      }
      const word = SEG.word;
      if (word === 0) {
        if (s > 0) return OTHER; // half a path, half something else: not ours to read
        stopped = true;
        break outer;
      }
      let lower: string | undefined;
      if (word === 1) {
        lower = verbAt(t, segFrom, to);
      } else {
        lower = t.slice(segFrom, to).toLowerCase();
        if (!VERBS.has(lower)) {
          menu = menu.child(lower);
          continue;
        }
      }
      if (lower !== undefined && !(AMBIGUOUS.has(lower) && MENUS_NAMED_LIKE_VERBS.has(`${menu.path}/${lower}`))) {
        verb = lower;
        k++;
        break outer;
      }
      menu = lower !== undefined ? menu.child(lower) : (menu.childAt(t, segFrom, to) ?? menu.add(t.slice(segFrom, to)));
    }
  }
  if (verb) return command(menu, verb, k);
  if (!stopped) {
    resolved.menu = menu;
    return NAVIGATE;
  }
  // An unknown command (`/tool fetch url=...`): the last word before the arguments.
  if (menu === TOP || (k === 0 && !firstIsPath)) return OTHER;
  return command(menu.up(), menu.name, k);
}

/** Fill `resolved` with a menu command. */
function command(menu: Menu, verb: string, from: number): Kind {
  resolved.menu = menu;
  resolved.verb = verb;
  resolved.from = from;
  return COMMAND;
}

/**
 * What readSegment found: where the segment ends (at the next slash, or the word's end), and
 * whether it is a menu word: 0 no; 1 yes, in lower case; 2 yes, with upper-case letters (lower-cased
 * only then). (Module-level, so that nothing is allocated.)
 */
const SEG = { to: 0, word: 0 };

/**
 * Read one path segment of `t`, from `from` to the next slash (or `end`). A menu word is letters,
 * digits and hyphens, not starting with a hyphen, with at least one letter (`ipv6`, `6to4`,
 * `pppoe-client`).
 */
function readSegment(t: string, from: number, end: number): void {
  let to = from;
  let letter = false;
  let upper = false;
  let valid = true;
  for (; to < end; to++) {
    const c = t.charCodeAt(to);
    if (c === 47) break;
    const l = c | 32;
    if (l >= 97 && l <= 122) {
      letter = true;
      if (c < 97) upper = true;
    } else if (!((l >= 48 && l <= 57) || (l === 45 && to > from))) valid = false;
  }
  SEG.to = to;
  SEG.word = valid && letter ? (upper ? 2 : 1) : 0;
}

const PARAM_NAME = /^[A-Za-z][\w.-]*!?$/;

/**
 * Index of the last word from `from` on that is the parameter `name` (lower case, a valid
 * parameter name without `!`), or -1. Same reading as readParams: the name before the first `=`,
 * in any case. (A word readParams takes as the value of `name=` before it has no `=`, so it
 * never matches.)
 */
function lastParam(args: readonly Arg[], from: number, name: string): number {
  const n = name.length;
  for (let k = args.length - 1; k >= from; k--) {
    view(args[k]!);
    const s = W.s;
    const b = W.b;
    if (W.e - b <= n || s.charCodeAt(b + n) !== 61 /* = */) continue;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(b + i);
      const w = name.charCodeAt(i);
      if (c !== w && !(c >= 65 && c <= 90 && c + 32 === w)) break;
    }
    if (i === n) return k;
  }
  return -1;
}

/** How many words the last paramAt() read (1, or 2 for `name=` and the word after it). */
let paramWords = 1;

/** The parameter whose name (`eq` characters, then `=`) starts word `k`. */
function paramAt(args: readonly Arg[], k: number, eq: number): ParamValue {
  const a = args[k]!;
  view(a);
  let raw = W.e - W.b === eq + 1 ? '' : W.s.slice(W.b + eq + 1, W.e);
  let arg = a;
  paramWords = 1;
  // `comment=\` + newline + `"..."` (how /export wraps) and `name= value` (the manual allows it).
  if (raw === '' && k + 1 < args.length) {
    view(args[k + 1]!);
    if (!viewHas(61 /* = */)) {
      arg = args[k + 1]!;
      raw = arg.text;
      paramWords = 2;
    }
  }
  let value = raw;
  let dynamic: boolean;
  if (raw.length >= 2 && raw.charCodeAt(0) === 34 && raw.charCodeAt(raw.length - 1) === 34) {
    value = raw.slice(1, -1);
    dynamic = value.includes('$') && /(^|[^\\])\$[\w("[{]/.test(value);
    if (value.includes('\\')) value = value.replace(/\\(["\\$?_])/g, (_, c: string) => (c === '_' ? ' ' : c));
  } else {
    // Holds one of $ [ (.
    dynamic = false;
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c === 36 || c === 91 || c === 40) {
        dynamic = true;
        break;
      }
    }
  }
  return { value, dynamic, arg };
}

/** Split words (from `from` on) into name=value parameters and the rest. `name=` followed by a word joins them. */
export function readParams(rest: readonly Arg[], from = 0): { params: Map<string, ParamValue>; unnamed: Arg[] } {
  const params = new Map<string, ParamValue>();
  const unnamed: Arg[] = [];
  for (let k = from; k < rest.length; ) {
    const a = rest[k]!;
    const eq = a.text.indexOf('=');
    const name = eq > 0 ? a.text.slice(0, eq) : '';
    if (!name || !PARAM_NAME.test(name)) {
      unnamed.push(a);
      k++;
      continue;
    }
    params.set(name.toLowerCase(), paramAt(rest, k, eq));
    k += paramWords;
  }
  return { params, unnamed };
}

/** The `find` inside a group, when the group is `[find ...]` or `[/some path find ...]`. */
export function findInGroup(group: Group): { filters: Map<string, ParamValue>; empty: boolean } | undefined {
  if (group.open !== '[' || group.statements.length !== 1) return undefined;
  const st = group.statements[0]!;
  if (resolveStatement(st, TOP) !== COMMAND || resolved.verb !== 'find') return undefined;
  const { params, unnamed } = readParams(st.args, resolved.from);
  // Only plain `name=value` filters are read. Anything else (`!disabled`, `comment~"x"`, `or`, an
  // expression) can only narrow the selection or make it unknowable; callers treat unknown as
  // "could match anything".
  const conditions = unnamed.filter((a) => a.text !== 'where');
  return { filters: new Map(params), empty: params.size === 0 && conditions.length === 0 };
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
 * menu command (its path, verb and where its words start), including the ones inside [ ] and { },
 * with the statements around it (outermost first). Array literals are walked too: their elements
 * ({1;2}, {a=1}) never read as commands, and a { } taken for an array by mistake must not hide the
 * commands in it.
 */
export function walkCommands(
  statements: readonly Statement[],
  visit: (menu: Menu, verb: string, from: number, st: Statement, enclosing: readonly Statement[]) => void,
  base: Menu = TOP,
  enclosing: readonly Statement[] = [],
): void {
  let current = base;
  for (let s = 0; s < statements.length; s++) {
    const st = statements[s]!;
    let menu = current;
    const kind = resolveStatement(st, current);
    if (kind === NAVIGATE) {
      current = resolved.menu;
      continue;
    }
    if (kind === COMMAND) {
      menu = resolved.menu;
      visit(menu, resolved.verb, resolved.from, st, enclosing);
    }
    let inner: readonly Statement[] | undefined;
    const args = st.args;
    for (let k = 0; k < args.length; k++) {
      const groups = args[k]!.groups;
      for (let g = 0; g < groups.length; g++) {
        const group = groups[g]!;
        if (!inner) {
          const list = enclosing.slice();
          list.push(st);
          inner = list;
        }
        // [ ] and ( ) run in the command's menu; { } blocks start from the menu around the statement.
        walkCommands(group.statements, visit, group.open === '{' ? current : menu, inner);
      }
    }
  }
}
