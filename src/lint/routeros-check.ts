// Checks that know RouterOS: every menu, command, parameter and enum value of a script against the
// command tree of the site's RouterOS version (command-tree.ts), and console transcripts pasted in
// as if they were commands.
//
// The walk follows the rules commands.ts describes: a line that is only a path moves into that menu
// for the lines after it, within its { } block; a path in front of a command applies to that
// command; `..` goes up; [ ] runs in the menu of the command around it, { } blocks in the menu
// around their statement (or the menu before them: `/system scheduler { add ... }`); ( ) holds an
// expression, whose commands are in [ ]. Paths resolve word by word against the tree, in either
// spelling (`/ip firewall filter`, `/ip/firewall/filter`), relative to the current menu unless they
// start with /. `:name` is a scripting command (a command of the top menu). Names may be abbreviated
// as the console allows (`/ip fire fil`): a word that starts exactly one name is read as that name.
//
// What the walk cannot know is accepted, never guessed at: values built from variables or
// commands, positional values, relative commands after a menu line the tree does not know, menus
// that exist only on hardware, and the property names of `find` and `where` queries.
//
// It runs on every word of every script a plan reads, so the words are read where they stand in
// the script (no copies) and names are looked up in place (command-tree.ts's NameIndex).
import { type ArgInfo, inRanges, type Ranges, type RouterOsTarget, type TreeNode, type Versioned } from './command-tree.js';
import { closestName, distance } from './rules.js';
import type { Arg, Statement } from './scanner.js';

export type RouterOsRuleId =
  | 'unknown-menu'
  | 'unknown-command'
  | 'unknown-parameter'
  | 'invalid-value'
  | 'not-in-version'
  | 'missing-package'
  | 'console-paste'
  | 'abbreviated-name';

export interface RouterOsHit {
  rule: RouterOsRuleId;
  line: number;
  column: number;
  message: string;
  statement: Statement;
  /** The statements whose blocks hold this one, outermost first. */
  enclosing: readonly Statement[];
}

/** Check every command of a script against `target`. `off`: rules not to report. */
export function checkCommands(statements: readonly Statement[], target: RouterOsTarget, off: ReadonlySet<string>): RouterOsHit[] {
  const checker = new Checker(target, off);
  checker.walk(statements, target.tree.root, [], ROOT);
  return checker.hits;
}

/**
 * Where a list of statements stands: the script itself; a block of commands (`do={ }`, `:do { }`,
 * a function's body); a command in [ ]; an expression in ( ); or a { } that may hold data as well as commands
 * (an array, `in={1;2}`, `source={ }`), where only what starts like a command (`/...`, `:...`) is
 * read as one.
 */
const ROOT = 0;
const BLOCK = 1;
/** [ ]: a command whose value is used. */
const EXPRESSION = 2;
const DATA = 3;
/** ( ): an expression; commands only inside [ ] in it. */
const PARENS = 4;
type Context = typeof ROOT | typeof BLOCK | typeof EXPRESSION | typeof DATA | typeof PARENS;

/** Parameters whose { } value is a block of commands. */
const CODE_PARAMS = new Set(['do=', 'else=', 'on-error=', 'command=']);

const OTHER = 0;
const NAVIGATE = 1;
const COMMAND = 2;
/** A path followed by a { } block: the block runs in that menu (`/system scheduler { add ... }`). */
const BLOCK_IN = 3;

/** A console prompt: `[admin@MikroTik] >`, `[admin@MikroTik] /ip address>`, `[admin@MikroTik] <SAFE>`. */
const PROMPT = /^\[[^\]\s@]+@[^\]\r\n]*\]\s*(\/[^>\r\n]*)?(<SAFE>|>)/;
/** A line of printed output: `uptime: 1d2h`, `Flags: X - disabled`, `Columns: ADDRESS, NETWORK`. */
const OUTPUT_LABEL = /^[A-Za-z][\w-]*:$/;

/** Could a word starting with `c` start a menu command: `/`, a letter, a digit or `.` (`..`)? */
function startsCommand(c: number): boolean {
  const l = c | 32;
  return c === 47 || c === 46 || (c >= 48 && c <= 57) || (l >= 97 && l <= 122);
}

/**
 * Is the { } that word `a` of `st` opens a block of commands (not data)? In an expression or in
 * data, only a scripting command's blocks are (`[:do { } on-error={ }]`); `({ a=1 })` is an array.
 */
function isCode(st: Statement, a: Arg, context: Context): boolean {
  if (context !== ROOT && context !== BLOCK && st.args[0]?.text.charCodeAt(0) !== 58 /* : */) return false;
  const t = a.text;
  const brace = t.indexOf('{');
  if (brace === 0) return true;
  const prefix = t.slice(0, brace).toLowerCase();
  return CODE_PARAMS.has(prefix) || (prefix === 'in=' && st.args[0]?.text === ':onerror');
}

/**
 * The shape of t[start, end) as a parameter name: -1 when it is not one (a letter, then letters,
 * digits, `_`, `.` and `-`, and a `!` at the end for find's `chain!=input`); else bit 1 set when it
 * has upper-case letters, bit 2 when it has a dot, bit 4 when it ends with `!`. (A hand-written
 * test: it runs on every parameter of every command.)
 */
function nameShape(t: string, start: number, end: number): number {
  let c = t.charCodeAt(start);
  const l = c | 32;
  if (!(l >= 97 && l <= 122) || end <= start) return -1;
  let flags = c < 97 ? 1 : 0;
  for (let i = start + 1; i < end; i++) {
    c = t.charCodeAt(i);
    if (c >= 97 && c <= 122) continue;
    if ((c >= 48 && c <= 57) || c === 45 || c === 95) continue;
    if (c >= 65 && c <= 90) flags |= 1;
    else if (c === 46) flags |= 2;
    else if (c === 33 && i === end - 1) flags |= 4;
    else return -1;
  }
  return flags;
}

/** Where scanParam found the `=`. (Module-level: nothing is allocated per parameter.) */
const PARAM = { eq: 0 };

/**
 * Read s[b, e) as `name=value` in one pass: the name is a letter (or a `.`, for /export's `.as=`
 * after `remote.address=`), then letters, digits, `_`, `.` and `-`, and a `!` before the `=`. Returns
 * -1 when the word is not a parameter, else the name's shape as nameShape gives it; PARAM.eq is the
 * offset of the `=`.
 */
function scanParam(s: string, b: number, e: number): number {
  let c = s.charCodeAt(b);
  let shape = 0;
  if (c !== 46 && !((c | 32) >= 97 && (c | 32) <= 122)) return -1;
  if (c >= 65 && c <= 90) shape = 1;
  let eq = b + 1;
  for (; eq < e; eq++) {
    c = s.charCodeAt(eq);
    if (c === 61 /* = */) break;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95) continue;
    if (c >= 65 && c <= 90) shape |= 1;
    else if (c === 46) shape |= 2;
    else if (c === 33 && s.charCodeAt(eq + 1) === 61) shape |= 4;
    else return -1;
  }
  PARAM.eq = eq;
  return eq < e ? shape : -1;
}

/** Does the word start with `name=` (a parameter, not a command)? */
function startsWithParam(t: string): boolean {
  return startsWithParamAt(t, 0, t.length);
}

/** Does s[from, to) start with `name=`? */
function startsWithParamAt(s: string, from: number, to: number): boolean {
  let eq = from;
  while (eq < to && s.charCodeAt(eq) !== 61 /* = */) eq++;
  return eq > from && eq < to && nameShape(s, from, eq) >= 0 && s.charCodeAt(eq - 1) !== 33;
}

/** Does s[from, to) hold = " or $ (it is not a path word)? */
function hasArgChars(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 61 || c === 34 || c === 36) return true;
  }
  return false;
}

/** Is the word all digits (a row number of printed output)? */
function isDigits(t: string): boolean {
  if (t.length === 0) return false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * The shape of t[from, to) as a menu or command name: -1 when it is not one (letters, digits, `-`,
 * `_` and `.`, starting with a letter or digit, with a letter: `6to4`, not `1`); else bit 1 set
 * when it has upper-case letters.
 */
function segmentShape(t: string, from: number, to: number): number {
  let letter = false;
  let flags = 0;
  for (let i = from; i < to; i++) {
    const c = t.charCodeAt(i);
    if (c >= 97 && c <= 122) letter = true;
    else if (c >= 65 && c <= 90) {
      letter = true;
      flags = 1;
    } else if (c >= 48 && c <= 57) continue;
    else if ((c === 45 || c === 95 || c === 46) && i > from) continue;
    else return -1;
  }
  return letter ? flags : -1;
}

/** A dynamic value: a variable, a command or an expression decides it. */
function isDynamic(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 36 /* $ */ || c === 91 /* [ */ || c === 40 /* ( */ || c === 123 /* { */) return true;
  }
  return false;
}

/** A command as messages name it: `/ip firewall filter add`, `:put`, `/ping`. */
function ownerOf(cmd: TreeNode, scripting: boolean): string {
  return scripting ? `:${cmd.name}` : cmd.parent!.path ? `${show(cmd.parent!.path)} ${cmd.name}` : `/${cmd.name}`;
}

/** `/ip/firewall/filter` -> `/ip firewall filter`. */
function show(path: string): string {
  return path ? `/${path.slice(1).split('/').join(' ')}` : '/';
}

class Checker {
  readonly hits: RouterOsHit[] = [];
  private readonly vi: number;
  /** Consecutive statements of pasted console text: one finding for them all. */
  private pasteRun = false;
  private pasteLine = 0;
  /** A version or package finding was made in this statement: not one per word under it. */
  private reportedAvailability = false;
  private statement!: Statement;
  private enclosing: readonly Statement[] = [];

  constructor(
    private readonly target: RouterOsTarget,
    private readonly off: ReadonlySet<string>,
  ) {
    this.vi = target.index;
  }

  /** Whether what `r` holds exists in the site's version (or, for a version between two of the data set, in either). */
  private at(r: Ranges): boolean {
    return inRanges(r, this.vi) || (this.target.also !== undefined && inRanges(r, this.target.also));
  }

  walk(statements: readonly Statement[], base: TreeNode | null, enclosing: readonly Statement[], context: Context): void {
    let current = base;
    for (let s = 0; s < statements.length; s++) {
      const st = statements[s]!;
      this.statement = st;
      this.enclosing = enclosing;
      this.reportedAvailability = false;
      if (context === ROOT && this.pasted(st)) continue;
      this.pasteRun = false;
      let menu = current;
      const r = this.resolve(st, current, context);
      if (r.kind === NAVIGATE) {
        current = r.node;
        continue;
      }
      let blockMenu = current;
      // The scanner reads `/system scheduler { ... }` as an array (a { } after a plain word): after a menu it is a block.
      let blockAfterMenu = false;
      if (r.kind === COMMAND) {
        menu = r.menu;
        this.checkArgs(r.node!, st, r.from, r.scripting);
      } else if (r.kind === BLOCK_IN) {
        blockMenu = r.node;
        blockAfterMenu = true;
      }
      let inner: Statement[] | undefined;
      const args = st.args;
      for (let k = 0; k < args.length; k++) {
        const a = args[k]!;
        const groups = a.groups;
        for (let j = 0; j < groups.length; j++) {
          const g = groups[j]!;
          inner ??= [...enclosing, st];
          if (g.open === '{') this.walk(g.statements, blockMenu, inner, blockAfterMenu || (!g.array && isCode(st, a, context)) ? BLOCK : DATA);
          else this.walk(g.statements, menu, inner, g.open === '[' ? EXPRESSION : PARENS);
        }
      }
      // The walk of the groups moved these on.
      this.pasteRun = false;
    }
  }

  // ---- pasted console text -----------------------------------------------------------------------

  /** Is the statement a console prompt or printed output? Reports the first of a run of them. */
  private pasted(st: Statement): boolean {
    if (this.pasteRun && st.line <= this.pasteLine) return true;
    const first = st.args[0];
    if (!first) return false;
    // Most statements are commands: tell from the first and last characters, without a copy of the word.
    const src = first.plain ? first.source : first.text;
    const b = first.plain ? first.start : 0;
    const e = first.plain ? first.end : src.length;
    const c0 = src.charCodeAt(b);
    if (c0 !== 91 /* [ */ && !(c0 >= 48 && c0 <= 57) && src.charCodeAt(e - 1) !== 58 /* : */ && !this.pasteRun) return false;
    const t = first.text;
    let what: string | undefined;
    if (c0 === 91 /* [ */ && PROMPT.test(first.source.slice(first.start, lineEnd(first.source, first.start)))) {
      what =
        'this is a console prompt (`[user@router] >`) pasted into the script: RouterOS cannot run it. Keep only the commands, without the prompt and the output printed after them.';
    } else if (isDigits(t) || (t.charCodeAt(t.length - 1) === 58 /* : */ && st.args.length > 1 && OUTPUT_LABEL.test(t))) {
      what = `this looks like printed output (\`${t}\` ...) pasted into the script, not a command: RouterOS cannot run it. Remove the output and keep only the commands.`;
    } else if (this.pasteRun && startsWithParam(t)) {
      what = '';
    }
    if (what === undefined) return false;
    if (!this.pasteRun && what) this.report('console-paste', first.line, first.column, what);
    this.pasteRun = true;
    this.pasteLine = st.endLine;
    return true;
  }

  // ---- menus and commands ------------------------------------------------------------------------

  private result = { kind: OTHER as number, node: null as TreeNode | null, menu: null as TreeNode | null, from: 0, scripting: false };

  private resolve(st: Statement, current: TreeNode | null, context: Context) {
    const r = this.result;
    r.kind = OTHER;
    r.node = null;
    r.scripting = false;
    const args = st.args;
    const first = args[0];
    if (!first) return r;
    // The word where it stands in the script when nothing was cut out of it (no copy), else its text.
    const src = first.plain ? first.source : first.text;
    const b = first.plain ? first.start : 0;
    const e = first.plain ? first.end : src.length;
    const c0 = src.charCodeAt(b);
    const root = this.target.tree.root;
    if (c0 === 58 /* : */) {
      if (first.groups.length || e - b < 2) return r;
      const shape = segmentShape(src, b + 1, e);
      if (shape < 0) return r;
      const cmd = shape & 1 ? root.commands.get(src.slice(b + 1, e).toLowerCase()) : root.commandAt(src, b + 1, e);
      const name = cmd ? cmd.name : src.slice(b + 1, e).toLowerCase();
      if (cmd) {
        if (!this.isAvailable(cmd)) this.available(cmd, first.line, first.column, () => `\`:${name}\``);
        r.kind = COMMAND;
        r.node = cmd;
        r.menu = current;
        r.from = 1;
        r.scripting = true;
        return r;
      }
      const dir = root.menus.get(name);
      if (dir) return this.resolvePath(args, 1, dir);
      const guess = this.closest(name, root.commands);
      this.report(
        'unknown-command',
        first.line,
        first.column,
        `\`:${name}\` is not a RouterOS scripting command (RouterOS ${this.target.label})${guess ? `; did you mean \`:${guess}\`?` : '.'}`,
      );
      return r;
    }
    if ((context === ROOT || context === BLOCK) && c0 !== 47 && startsWithParamAt(src, b, e)) {
      const t = first.text;
      this.report(
        'unknown-command',
        first.line,
        first.column,
        `this line starts with the parameter \`${t.slice(0, t.indexOf('='))}=\` and has no command: is a \\ missing at the end of the line before, or is it printed output? Put the command (such as add or set) before the parameters.`,
      );
      return r;
    }
    if (context === PARENS || (context === DATA && c0 !== 47)) return r;
    if (!startsCommand(c0) || first.groups.length) return r;
    const start = c0 === 47 ? root : current;
    if (!start) return r;
    return this.resolvePath(args, 0, start);
  }

  /** Resolve words from `k0` as a path from `node`; a command, a menu, or (unknown) nothing. */
  private resolvePath(args: readonly Arg[], k0: number, start: TreeNode) {
    const r = this.result;
    let node = start;
    for (let k = k0; k < args.length; k++) {
      const a = args[k]!;
      // The word where it stands in the script when nothing was cut out of it (no copy), else its text.
      const src = a.plain ? a.source : a.text;
      const b = a.plain ? a.start : 0;
      const e = a.plain ? a.end : src.length;
      if (a.groups.length || hasArgChars(src, b, e)) {
        if (k > k0 && src.charCodeAt(b) === 123 /* { */) {
          r.kind = BLOCK_IN;
          r.node = node;
          return r;
        }
        // The words after the path: a menu needs a command before its parameters.
        const t = a.text;
        if (k > k0 && startsWithParam(t) && !node.open) {
          const guess = node.commands.has('set') ? ' (such as set)' : node.commands.has('add') ? ' (such as add)' : '';
          this.report(
            'unknown-command',
            a.line,
            a.column,
            `${show(node.path)} is a menu, not a command: write a command${guess} before \`${t.slice(0, t.indexOf('=') + 1)}\`.`,
          );
        }
        return r;
      }
      let from = b;
      while (from <= e) {
        let to = from;
        while (to < e && src.charCodeAt(to) !== 47 /* / */) to++;
        const segFrom = from;
        from = to + 1;
        if (to === segFrom) continue;
        if (to - segFrom === 2 && src.charCodeAt(segFrom) === 46 && src.charCodeAt(segFrom + 1) === 46) {
          node = node.parent ?? node;
          continue;
        }
        const shape = segmentShape(src, segFrom, to);
        if (shape < 0) return r;
        const moreHere = to + 1 < e;
        const next = this.childOf(node, src, segFrom, to, shape & 1 ? src.slice(segFrom, to).toLowerCase() : undefined, e, args, k);
        const line = a.line;
        const column = a.plain ? a.column + (segFrom - b) : a.column;
        if (next === null) return this.lost(args, k); // an abbreviation of several names: not ours to decide
        if (!next) {
          const seg = src.slice(segFrom, to);
          if (!node.open) this.reportUnknown(node, seg.toLowerCase(), seg, line, column, moreHere || this.morePath(args, k + 1));
          return this.lost(args, k);
        }
        const isCommand = next.kind === COMMAND;
        const found = next.node;
        if (next.abbreviated) this.reportAbbreviation(src.slice(segFrom, to), found, isCommand, line, column);
        if (!this.isAvailable(found)) {
          const parent = node;
          this.available(found, line, column, () => (isCommand ? `the command \`${found.name}\` of ${show(parent.path)}` : `the menu ${show(found.path)}`));
        }
        if (isCommand) {
          if (moreHere) return r;
          r.kind = COMMAND;
          r.node = next.node;
          r.menu = node;
          r.from = k + 1;
          return r;
        }
        node = next.node;
      }
    }
    r.kind = NAVIGATE;
    r.node = node;
    return r;
  }

  /**
   * The path left the tree at word `k` (a menu only hardware has, or a name reported unknown). A
   * line of path words is a menu line into a menu the checks do not know: the relative commands
   * after it are not checked (rather than checked against the menu before it).
   */
  private lost(args: readonly Arg[], k: number) {
    const r = this.result;
    for (let j = k + 1; j < args.length; j++) if (args[j]!.groups.length || hasArgChars(args[j]!.text, 0, args[j]!.text.length)) return r;
    r.kind = NAVIGATE;
    r.node = null;
    return r;
  }

  private child = { kind: OTHER as number, node: null as unknown as TreeNode, abbreviated: false };

  /** Advice: a name the console completes today (the only one starting so), which a later version can make ambiguous. */
  private reportAbbreviation(written: string, found: TreeNode, isCommand: boolean, line: number, column: number): void {
    const what = isCommand ? `the command \`${found.name}\` of ${show(found.parent!.path)}` : `the menu ${show(found.path)}`;
    this.report(
      'abbreviated-name',
      line,
      column,
      `\`${written}\` is an abbreviation of ${what}: RouterOS completes it while it is the only name starting so, and a later version that adds another would make this script stop here. Write \`${found.name}\`.`,
    );
  }

  /**
   * The menu or command named s[from, to) below `node` (`lower`: that name in lower case, when it
   * has capitals), exact or abbreviated. A name that is both a menu and a command there is the menu
   * when the next path word (after s[to] up to `end`, or word k + 1) is in that menu. Null: an
   * abbreviation that starts several names.
   */
  private childOf(
    node: TreeNode,
    s: string,
    from: number,
    to: number,
    lower: string | undefined,
    end: number,
    args: readonly Arg[],
    k: number,
  ): { kind: number; node: TreeNode; abbreviated: boolean } | null | undefined {
    const c = this.child;
    c.abbreviated = false;
    let menu: TreeNode | undefined;
    let cmd: TreeNode | undefined;
    if (lower === undefined) {
      const both = node.childAt(s, from, to);
      menu = both?.menu;
      cmd = both?.command;
    } else {
      menu = node.menus.get(lower);
      cmd = node.commands.get(lower);
    }
    if (menu && cmd) {
      const f = (to + 1 < end ? s.slice(to + 1, end).split('/')[0] : args[k + 1]?.text)?.toLowerCase();
      const useMenu = f !== undefined && (menu.menus.has(f) || menu.commands.has(f) || f === '..');
      c.kind = useMenu ? NAVIGATE : COMMAND;
      c.node = useMenu ? menu : cmd;
      return c;
    }
    if (menu || cmd) {
      c.kind = menu ? NAVIGATE : COMMAND;
      c.node = (menu ?? cmd)!;
      return c;
    }
    // An abbreviation: the only name here, in this version, that starts with it.
    const name = lower ?? s.slice(from, to);
    let found: TreeNode | undefined;
    let kind = OTHER;
    for (const [map, kd] of [
      [node.menus, NAVIGATE],
      [node.commands, COMMAND],
    ] as const) {
      for (const [n, child] of map) {
        if (!n.startsWith(name) || !this.at(child.v)) continue;
        if (found) return null;
        found = child;
        kind = kd;
      }
    }
    if (!found) return undefined;
    c.kind = kind;
    c.node = found;
    c.abbreviated = true;
    return c;
  }

  /** Do path words follow (a plain word without = or quotes)? */
  private morePath(args: readonly Arg[], k: number): boolean {
    const a = args[k];
    return a !== undefined && a.groups.length === 0 && /^[A-Za-z0-9./][\w./-]*$/.test(a.text) && !/^\d+$/.test(a.text);
  }

  private reportUnknown(node: TreeNode, lower: string, seg: string, line: number, column: number, pathFollows: boolean): void {
    const guessMenu = this.closest(lower, node.menus);
    const guessCmd = this.closest(lower, node.commands);
    let rule: RouterOsRuleId;
    let guess: string | undefined;
    if (guessCmd && (!guessMenu || distance(lower, guessCmd) < distance(lower, guessMenu))) {
      rule = 'unknown-command';
      guess = guessCmd;
    } else if (pathFollows) {
      rule = 'unknown-menu';
      guess = guessMenu;
    } else if (guessCmd && (!guessMenu || distance(lower, guessCmd) <= distance(lower, guessMenu))) {
      rule = 'unknown-command';
      guess = guessCmd;
    } else if (guessMenu) {
      rule = 'unknown-menu';
      guess = guessMenu;
    } else rule = node.parent === null ? 'unknown-menu' : 'unknown-command';
    const where = node.parent === null ? 'the top menu' : show(node.path);
    const what = rule === 'unknown-menu' ? 'menu' : 'command';
    this.report(rule, line, column, `${where} has no ${what} \`${seg}\` in RouterOS ${this.target.label}${guess ? `; did you mean \`${guess}\`?` : '.'}`);
  }

  // ---- parameters --------------------------------------------------------------------------------

  private checkArgs(cmd: TreeNode, st: Statement, from: number, scripting: boolean): void {
    const args = st.args;
    const isFind = !scripting && cmd.name === 'find';
    /** The part before the last dot of the last dotted name: /export writes `remote.address=x .as=y` for remote.as. */
    let dotted = '';
    for (let k = from; k < args.length; k++) {
      const a = args[k]!;
      // The word where it stands in the script when nothing was cut out of it (no copy), else its text.
      const src = a.plain ? a.source : a.text;
      const b = a.plain ? a.start : 0;
      const e = a.plain ? a.end : src.length;
      const shape = scanParam(src, b, e);
      const eq = PARAM.eq;
      const relative = src.charCodeAt(b) === 46; /* .as=, after remote.address= */
      if (shape < 0) {
        if (!scripting && e - b === 5 && src.startsWith('where', b)) return; // the rest is a query
        continue; // a flag, a positional value or an expression
      }
      if (relative && !dotted) continue;
      // The common case, a lower-case name without dots, is looked up in place; the rest as strings.
      let info: ArgInfo | undefined;
      let name: string | undefined;
      if (shape === 0 && !relative) {
        dotted = '';
        if (isFind) continue; // property filters: `find name=x`
        info = cmd.argAt(src, b, eq);
      } else {
        name = relative ? dotted + src.slice(b, eq) : src.slice(b, eq);
        if (shape & 2 || relative) {
          const dot = name.lastIndexOf('.');
          dotted = dot > 0 ? name.slice(0, dot) : '';
        } else dotted = '';
        if (isFind) continue;
        if (shape & 4) name = name.slice(0, -1);
        info = cmd.args.get(shape & 1 ? name.toLowerCase() : name);
      }
      if (!info) {
        name ??= src.slice(b, eq);
        info = this.abbreviatedArg(cmd, name.toLowerCase());
      }
      // `comment=\` at the end of a line and the value on the next (as /export wraps): that word is the value.
      const valueInNext = eq === e - 1 && k + 1 < args.length && !args[k + 1]!.text.includes('=');
      if (valueInNext) k++;
      if (!info) {
        if (cmd.openArgs || cmd.open) continue;
        name ??= src.slice(b, eq);
        const guess = this.closest(name.toLowerCase(), cmd.args);
        const owner = scripting ? `\`:${cmd.name}\`` : cmd.parent!.path ? `\`${cmd.name}\` in ${show(cmd.parent!.path)}` : `\`/${cmd.name}\``;
        this.report(
          'unknown-parameter',
          a.line,
          a.column,
          `${owner} has no parameter \`${name}\` in RouterOS ${this.target.label}${guess ? `; did you mean \`${guess}\`?` : '.'}`,
        );
        continue;
      }
      if (!this.isAvailable(info)) {
        const found = info;
        this.available(info, a.line, a.column, () => `the parameter \`${found.name}\` of ${ownerOf(cmd, scripting)}`);
        continue;
      }
      const en = info.enum;
      if (!en) continue;
      const valueArg = valueInNext ? args[k]! : a;
      if (valueArg.groups.length) continue;
      if (!valueInNext) {
        // The common case: one value, listed for this version, looked up in place.
        const hit = en.index.at(src, eq + 1, e);
        if (hit !== undefined && this.at(hit.v)) continue;
      }
      const raw = valueInNext ? valueArg.text : src.slice(eq + 1, e);
      const valueColumn = valueInNext || !a.plain ? valueArg.column : a.column + (eq - b) + 1;
      this.checkValue(info, cmd, scripting, raw, valueArg, valueColumn);
    }
  }

  private abbreviatedArg(cmd: TreeNode, name: string): ArgInfo | undefined {
    let found: ArgInfo | undefined;
    for (const [n, info] of cmd.args) {
      if (!n.startsWith(name) || !this.at(info.v)) continue;
      if (found) return undefined;
      found = info;
    }
    return found;
  }

  private checkValue(info: ArgInfo, cmd: TreeNode, scripting: boolean, raw: string, a: Arg, column: number): void {
    const owner = () => ownerOf(cmd, scripting);
    const e = info.enum!;
    if (!this.at(e.known) || raw === '' || isDynamic(raw)) return;
    let text = raw;
    let offset = 0;
    if (text.length >= 2 && text.charCodeAt(0) === 34 && text.charCodeAt(text.length - 1) === 34) {
      if (text.includes('\\')) return;
      text = text.slice(1, -1);
      offset = 1;
    }
    // The common case: one value, listed for this version.
    if (!e.list || !text.includes(',')) {
      const r = e.values.get(text);
      if (r !== undefined && this.at(r)) return;
    }
    const items = e.list ? text.split(',') : [text];
    let at = offset;
    for (const item of items) {
      const itemAt = at;
      at += item.length + 1;
      let value = item.trim();
      if (value.startsWith('!')) value = value.slice(1);
      if (value === '' || (e.numbers && /^\d+$/.test(value))) continue;
      const ranges = e.values.get(value) ?? e.values.get(value.toLowerCase()) ?? this.caseless(e.values, value);
      const col = a.plain ? column + itemAt : column;
      if (ranges && this.at(ranges)) continue;
      if (ranges) {
        this.reportVersion(`the value \`${value}\` of ${owner()} ${info.name}=`, ranges, a.line, col);
        continue;
      }
      const available = [...e.values].filter(([, r]) => this.at(r)).map(([v]) => v);
      const prefixed = available.filter((v) => v.toLowerCase().startsWith(value.toLowerCase()));
      if (prefixed.length === 1) continue;
      const guess = closestName(value.toLowerCase(), available);
      const shown = available.length > 12 ? `${available.slice(0, 12).join(', ')}, ...` : available.join(', ');
      this.report(
        'invalid-value',
        a.line,
        col,
        `\`${value}\` is not a value of \`${info.name}\` (${owner()}) in RouterOS ${this.target.label}${guess ? `; did you mean \`${guess}\`?` : '.'} It takes ${e.list ? 'a comma-separated list of ' : 'one of '}${shown}.`,
      );
    }
  }

  private caseless(values: ReadonlyMap<string, readonly number[]>, value: string): readonly number[] | undefined {
    const lower = value.toLowerCase();
    for (const [v, r] of values) if (v.toLowerCase() === lower) return r;
    return undefined;
  }

  // ---- versions and packages ---------------------------------------------------------------------

  /** Does `e` exist in the site's version, with its packages? */
  private isAvailable(e: Versioned): boolean {
    if (!this.at(e.v)) return false;
    const packages = this.target.packages;
    return !(packages && e.pkg && !packages.has(e.pkg) && this.at(e.x));
  }

  /** Does `e` exist in the site's version, with its packages? Reports once per statement when not (`label` names it then). */
  private available(e: Versioned, line: number, column: number, label: () => string): boolean {
    if (!this.at(e.v)) {
      this.reportVersion(label(), e.v, line, column);
      return false;
    }
    const packages = this.target.packages;
    if (packages && e.pkg && !packages.has(e.pkg) && this.at(e.x)) {
      if (!this.reportedAvailability) {
        this.reportedAvailability = true;
        const list = packages.size ? [...packages].join(', ') : 'none';
        this.report(
          'missing-package',
          line,
          column,
          `${label()} comes with the extra package ${e.pkg}, which is not in this site's packages (${list}). Add ${e.pkg} to \`packages:\` if the router has it installed.`,
        );
      }
      return false;
    }
    return true;
  }

  private reportVersion(label: string, ranges: readonly number[], line: number, column: number): void {
    if (this.reportedAvailability) return;
    this.reportedAvailability = true;
    const tree = this.target.tree;
    this.report(
      'not-in-version',
      line,
      column,
      this.target.assumed
        ? `${label} exists ${tree.describe(ranges)}; no RouterOS version is known for this site, so it is checked against ${this.target.label}, the newest known. Set \`routeros:\` to the version the site runs.`
        : `${label} exists ${tree.describe(ranges)}; this site runs ${this.target.label}. Write the command for ${this.target.label}, or set \`routeros:\` to the version the site runs.`,
    );
  }

  // ---- helpers -----------------------------------------------------------------------------------

  /** The closest name among those that exist in the site's version, when it is a likely typo. */
  private closest(name: string, map: ReadonlyMap<string, Versioned>): string | undefined {
    const names: string[] = [];
    for (const [n, e] of map) if (this.at(e.v)) names.push(n);
    return closestName(name, names);
  }

  private report(rule: RouterOsRuleId, line: number, column: number, message: string): void {
    if (this.off.has(rule)) return;
    this.hits.push({ rule, line, column, message, statement: this.statement, enclosing: this.enclosing });
  }
}

function lineEnd(s: string, from: number): number {
  const n = s.indexOf('\n', from);
  return n < 0 ? s.length : n;
}
