// Splitting a script over the SDX API's body limit (max_script_size, 10,000 characters by default)
// into ordered parts, each sent as its own job. Pure: the plan and the executor decide what to do
// with the parts.
//
// A part is a run of whole lines of the original. A part boundary falls only where a top-level
// command starts, and never:
//   - inside a command, so never inside { }, [ ], ( ) or a string (the scanner keeps all of them
//     within one statement), nor after a line continued with \;
//   - between a top-level :local and its last use: a local lives only as long as its job;
//   - between a comment that acknowledges a lockout finding and the command below it;
//   - so that a part holds blank lines alone (the API refuses an empty script).
// Parts are as large as the limit allows (each takes the furthest boundary that fits), and a
// boundary right below a comment is taken only when no other fits, so comments stay with the
// commands they describe.
// A later part starts with what the router would otherwise have forgotten between two jobs:
//   - the file's leading acknowledgement comments (they speak for the whole file);
//   - `:global name` for each global declared at top level in an earlier part and used in this one
//     (a global keeps its value between jobs, but a script must declare it to see it);
//   - the menu the part starts in (`/ip firewall filter` before a run of `add` lines), unless the
//     part starts by naming its own menu.
// Sizes are counted in code points, as the SDX API counts characters.
import { codePointLength, hasSurrogates, SURROGATE_PAIRS } from '../core/code-points.js';
import { MARK } from './acknowledge.js';
import { type Menu, NAVIGATE, resolved, resolveStatement, showPath, TOP } from './commands.js';
import { type Comment, type ScanResult, type ScanRuleId, scanScript, type Statement } from './scanner.js';

export interface ScriptPart {
  /** What to send: the restated lines, then the original's lines firstLine..lastLine exactly as they are. */
  readonly text: string;
  /** Characters as the SDX API counts them (code points), the restated lines included. */
  readonly size: number;
  /** The original's lines this part holds, 1-based and inclusive. */
  readonly firstLine: number;
  readonly lastLine: number;
  /**
   * The lines put in front of the original's, without their line ends: acknowledgement comments,
   * `:global` declarations, then the menu. Line k of `text` is line k - restated.length + firstLine - 1
   * of the original.
   */
  readonly restated: readonly string[];
}

export interface SplitRefusal {
  /** Where what cannot be split starts (1-based): the line to name in the error. */
  readonly line: number;
  /** The last of the lines that would have to go in one job. */
  readonly endLine: number;
  /** Why, and how to fix it: a sentence to follow "<file>:<line>: ". */
  readonly reason: string;
}

export type SplitResult = { readonly ok: true; readonly parts: readonly ScriptPart[] } | ({ readonly ok: false } & SplitRefusal);

// Long texts are read with regular expressions rather than loops over every character, for the
// reason given in core/code-points.ts: a plan splits a script once, so the first call is the one that counts.
const LINE_BREAK = /\r\n?|\n/g;

export { codePointLength };

/** "part 2/4, lines 120-260": how messages and `status` name a part. */
export function describePart(part: Pick<ScriptPart, 'firstLine' | 'lastLine'>, index: number, total: number): string {
  const lines = part.firstLine === part.lastLine ? `line ${part.firstLine}` : `lines ${part.firstLine}-${part.lastLine}`;
  return `part ${index}/${total}, ${lines}`;
}

/** Scan problems that leave the script's structure unknown, so no boundary can be trusted. */
const STRUCTURAL: ReadonlySet<ScanRuleId> = new Set(['unbalanced-bracket', 'unterminated-string', 'line-break-in-brackets']);

/**
 * Split `text` into parts of at most `maxSize` characters. A script within the limit is one part,
 * unchanged. Where no valid boundary keeps a part within the limit, the answer is a refusal that
 * names the line and the reason. Give it the text that is sent (the rendered body, secrets
 * included): the limit applies to that. `scanned` is `scanScript(text)` when the caller has it
 * already (scanning is most of the time a split takes).
 */
export function splitScript(text: string, maxSize: number, scanned?: ScanResult): SplitResult {
  const size = codePointLength(text);
  if (size <= maxSize) return whole(text, size);
  const scan = scanned ?? scanScript(text);
  const broken = scan.problems.find((p) => STRUCTURAL.has(p.rule));
  if (broken) {
    return { ok: false, line: broken.line, endLine: broken.line, reason: `cannot be split into parts while it has a syntax error here: ${broken.message}` };
  }
  return cut(readLayout(text, scan.statements, scan.comments), maxSize);
}

function whole(text: string, size: number): SplitResult {
  const breaks = text.match(LINE_BREAK)?.length ?? 0;
  const lastLine = breaks + (text === '' || /[\r\n]$/.test(text) ? 0 : 1);
  return { ok: true, parts: [{ text, size, firstLine: 1, lastLine: Math.max(1, lastLine), restated: [] }] };
}

// ---- what the script holds --------------------------------------------------------------------

/** Something that forbids every boundary L with line < L <= end. */
type Cause =
  | { readonly kind: 'command' | 'continuation' | 'acknowledgement'; readonly line: number; readonly end: number }
  | { readonly kind: 'local'; readonly line: number; readonly end: number; readonly name: string };

/** A top-level :local or :global. */
interface Decl {
  readonly global: boolean;
  readonly name: string;
  /** The declaration restated in a later part: `:global name`, the name spelt as in the original. */
  readonly restate: string;
  readonly line: number;
  readonly endLine: number;
  /** Offsets [from, to) of the declaring statement. */
  readonly from: number;
  readonly to: number;
  lastUse: number;
}

interface Layout {
  readonly text: string;
  readonly eol: string;
  /** Number of lines. */
  readonly n: number;
  /** start[k]: offset of line k (1-based); start[n + 1] is the text's length. */
  readonly start: Int32Array;
  /** cpBefore[k]: code points before line k. */
  readonly cpBefore: Int32Array;
  /** cause[L]: 1 + index in `causes` of what forbids a boundary at line L; 0 when none does. */
  readonly cause: Int32Array;
  readonly causes: readonly Cause[];
  /** Line L - 1 is a comment on its own line (a boundary at L would part it from the command below). */
  readonly afterComment: Uint8Array;
  /** stmtFrom[L]: index of the first top-level statement starting on line L or later. */
  readonly stmtFrom: Int32Array;
  /** contentFrom[L]: the first line from L on with anything but blanks on it (n + 1 when none). */
  readonly contentFrom: Int32Array;
  /** menuBefore[i]: the menu top-level statement i runs in (index statements.length: after the last). */
  readonly menuBefore: readonly Menu[];
  /** Top-level statement i moves to a menu named from the top (`/ip firewall filter`). */
  readonly ownMenu: Uint8Array;
  /** The leading comment lines that speak to this tool, restated in every later part. */
  readonly acks: ReadonlyArray<{ readonly line: number; readonly text: string }>;
  readonly decls: readonly Decl[];
  /** Line -> indexes in `decls` of the top-level globals used on it. */
  readonly globalsOn: ReadonlyMap<number, readonly number[]>;
}

function readLayout(text: string, statements: readonly Statement[], comments: readonly Comment[]): Layout {
  const { start, cpBefore, n, eol, continued } = lineTable(text);
  const causes: Cause[] = [];
  for (const st of statements) if (st.endLine > st.line) causes.push({ kind: 'command', line: st.line, end: st.endLine });
  for (const k of continued) causes.push({ kind: 'continuation', line: k, end: k + 1 });
  const { decls, globalsOn } = readVariables(text, statements, start, causes);
  const afterComment = new Uint8Array(n + 2);
  const acks = readComments(text, comments, start, statements[0]?.line ?? n + 1, afterComment, causes);
  const stmtFrom = new Int32Array(n + 2);
  for (let L = 1, i = 0; L <= n + 1; L++) {
    while (i < statements.length && statements[i]!.line < L) i++;
    stmtFrom[L] = i;
  }
  const menuBefore: Menu[] = [];
  const ownMenu = new Uint8Array(statements.length);
  let current = TOP;
  statements.forEach((st, i) => {
    menuBefore.push(current);
    if (resolveStatement(st, current) !== NAVIGATE) return;
    current = resolved.menu;
    const first = st.args[0]!;
    ownMenu[i] = first.source.charCodeAt(first.start) === 47 /* / */ ? 1 : 0;
  });
  menuBefore.push(current);
  const contentFrom = new Int32Array(n + 2);
  const nonBlank = /\S/g;
  for (let L = 1, at = -1, line = 0; L <= n + 1; L++) {
    // `at`: the next non-blank character from line L on; `line`: the line that holds it.
    if (at < start[L]!) {
      nonBlank.lastIndex = start[L]!;
      at = nonBlank.exec(text)?.index ?? text.length;
      line = at >= text.length ? n + 1 : lineOf(start, n, at);
    }
    contentFrom[L] = line;
  }
  return {
    text,
    eol,
    n,
    start,
    cpBefore,
    cause: assignCauses(causes, n),
    causes,
    afterComment,
    stmtFrom,
    contentFrom,
    menuBefore,
    ownMenu,
    acks,
    decls,
    globalsOn,
  };
}

/**
 * Line starts, code-point counts, and the lines that end with \ (continued on the next one). A line
 * ends at \n, \r\n or a lone \r, as the scanner counts lines.
 */
function lineTable(text: string): { start: Int32Array; cpBefore: Int32Array; n: number; eol: string; continued: number[] } {
  const len = text.length;
  const starts = [0, 0];
  const continued: number[] = [];
  const crOnly = /\r(?!\n)/.test(text);
  // indexOf finds the common \n and \r\n ends fastest; a lone \r needs the regular expression.
  const breaks = crOnly ? text.matchAll(LINE_BREAK) : undefined;
  for (let at = crOnly ? -1 : text.indexOf('\n'); ; ) {
    let from: number;
    let next: number;
    if (breaks) {
      const m = breaks.next();
      if (m.done) break;
      from = m.value.index;
      next = from + m.value[0].length;
    } else {
      if (at < 0) break;
      from = at > 0 && text.charCodeAt(at - 1) === 13 ? at - 1 : at;
      next = at + 1;
      at = text.indexOf('\n', next);
    }
    if (from > 0 && text.charCodeAt(from - 1) === 92 /* \ */ && next < len) continued.push(starts.length - 1);
    if (next < len) starts.push(next);
  }
  starts.push(len);
  const start = Int32Array.from(starts);
  const cpBefore = Int32Array.from(starts);
  if (hasSurrogates(text)) {
    // Less the surrogate pairs before each line (a pair never straddles a line start).
    let pairs = 0;
    let k = 1;
    for (const m of text.matchAll(SURROGATE_PAIRS)) {
      while (k < start.length && start[k]! <= m.index) cpBefore[k] = start[k++]! - pairs;
      pairs++;
    }
    while (k < start.length) cpBefore[k] = start[k++]! - pairs;
  }
  const eol = /\r\n?|\n/.exec(text)?.[0] ?? '\n';
  return { start, cpBefore, n: starts.length - 2, eol, continued };
}

/** Offset where line k's text ends (before its line break). */
function contentEnd(text: string, start: Int32Array, k: number): number {
  let e = start[k + 1]!;
  if (e > start[k]! && text.charCodeAt(e - 1) === 10) e--;
  if (e > start[k]! && text.charCodeAt(e - 1) === 13) e--;
  return e;
}

/** The line holding offset `o`. */
function lineOf(start: Int32Array, n: number, o: number): number {
  let lo = 1;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (start[mid]! <= o) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Each line gets the cause that covers it and starts earliest (the one that ties the most lines together). */
function assignCauses(causes: readonly Cause[], n: number): Int32Array {
  const cause = new Int32Array(n + 2);
  const order = causes.map((_, i) => i).sort((x, y) => causes[x]!.line - causes[y]!.line);
  let filled = 1;
  for (const i of order) {
    const c = causes[i]!;
    for (let L = Math.max(c.line + 1, filled + 1); L <= Math.min(c.end, n); L++) cause[L] = i + 1;
    filled = Math.max(filled, c.end);
  }
  return cause;
}

const DECLARE = new Set([':local', 'local', ':global', 'global']);
/**
 * `$name`, `$"name"`, and `:set name` (a use too: it changes the variable). A quoted name is read
 * ahead, not consumed: a `$` that ends a string (`"costs 5\$"`) must not swallow the uses up to
 * the next quote.
 */
const USE =
  /\$(?:(?="((?:[^"\\\r\n]|\\.)*)")|([A-Za-z0-9_][A-Za-z0-9_.-]*))|(?<![A-Za-z0-9_:/-]):?set[ \t]+(?:(?="((?:[^"\\\r\n]|\\.)*)")|([A-Za-z0-9_][A-Za-z0-9_.-]*)(?![=A-Za-z0-9_.-]))/g;

/**
 * Top-level :local and :global declarations and their uses. A local's last use ties the lines from
 * its declaration to it (a `command`-like cause, kind `local`); a global's uses are recorded per line.
 * The reading is cautious: a `$name` anywhere (in a comment or string too) counts as a use.
 */
function readVariables(
  text: string,
  statements: readonly Statement[],
  start: Int32Array,
  causes: Cause[],
): { decls: Decl[]; globalsOn: Map<number, number[]> } {
  const decls: Decl[] = [];
  const byName = new Map<string, number[]>();
  for (const st of statements) {
    const [verb, nameArg] = st.args;
    if (!nameArg || !DECLARE.has(verb!.text)) continue;
    const spelt = nameArg.text.split('=')[0]!;
    const name = spelt.startsWith('"') ? spelt.replace(/^"|"$/g, '') : spelt;
    if (!name) continue;
    const last = st.args[st.args.length - 1]!;
    const d: Decl = {
      global: verb!.text.endsWith('global'),
      name,
      restate: `:global ${spelt}`,
      line: st.line,
      endLine: st.endLine,
      from: verb!.start,
      to: last.end,
      lastUse: -1,
    };
    byName.set(name, [...(byName.get(name) ?? []), decls.push(d) - 1]);
  }
  const globalsOn = new Map<number, number[]>();
  if (decls.length === 0) return { decls, globalsOn };
  const n = start.length - 2;
  for (const m of text.matchAll(USE)) {
    const o = m.index;
    const used = m[1] ?? m[2] ?? m[3] ?? m[4] ?? '';
    // `$a-b` may be read as `$a` minus b: every prefix cut at - or . is a candidate.
    for (let cut = 0; cut <= used.length; cut++) {
      if (cut < used.length && used[cut] !== '-' && used[cut] !== '.') continue;
      const list = byName.get(used.slice(0, cut));
      if (!list) continue;
      // The declaration in force: the last one before the use.
      let k = list.length - 1;
      while (k >= 0 && decls[list[k]!]!.from > o) k--;
      if (k < 0) continue;
      const d = decls[list[k]!]!;
      if (o < d.to) continue; // inside the declaring statement
      if (!d.global) d.lastUse = Math.max(d.lastUse, o);
      else {
        const line = lineOf(start, n, o);
        const on = globalsOn.get(line) ?? [];
        if (!on.includes(list[k]!)) on.push(list[k]!);
        globalsOn.set(line, on);
      }
    }
  }
  for (const d of decls) {
    if (d.global || d.lastUse < 0) continue;
    const u = lineOf(start, n, d.lastUse);
    if (u > d.endLine) causes.push({ kind: 'local', line: d.line, end: u, name: d.name });
  }
  return { decls, globalsOn };
}

/**
 * Marks the lines below own-line comments, ties each acknowledgement to the command below it (an
 * acknowledgement covers the command under the run of comment lines it sits in), and returns the
 * file's leading acknowledgements: those are restated in every later part instead.
 */
function readComments(
  text: string,
  comments: readonly Comment[],
  start: Int32Array,
  firstStatementLine: number,
  afterComment: Uint8Array,
  causes: Cause[],
): Array<{ line: number; text: string }> {
  const acks: Array<{ line: number; text: string }> = [];
  let runLast = -1; // last line of the current run of own-line comments
  let firstAck = 0; // first acknowledgement in that run (0: none)
  const closeRun = () => {
    if (firstAck) causes.push({ kind: 'acknowledgement', line: firstAck, end: runLast + 1 });
  };
  for (const c of comments) {
    if (!c.ownLine) continue;
    afterComment[c.line + 1] = 1;
    if (c.line !== runLast + 1) {
      closeRun();
      firstAck = 0;
    }
    runLast = c.line;
    if (!MARK.test(c.text)) continue;
    if (c.line < firstStatementLine) acks.push({ line: c.line, text: text.slice(start[c.line]!, contentEnd(text, start, c.line)) });
    else firstAck ||= c.line;
  }
  closeRun();
  return acks;
}

// ---- cutting ------------------------------------------------------------------------------------

/** The restated lines of a part starting at line a that do not depend on where it ends. */
function fixedPrologue(l: Layout, a: number): { acks: readonly string[]; menu: string | undefined; size: number } {
  if (a === 1) return { acks: [], menu: undefined, size: 0 };
  const i = l.stmtFrom[a]!;
  const m = l.menuBefore[i]!;
  const menu = m !== TOP && !(i < l.ownMenu.length && l.ownMenu[i]) ? showPath(m.path) : undefined;
  // Those the part does not hold itself (a part made of leading comments holds some).
  const acks = l.acks.filter((c) => c.line < a).map((c) => c.text);
  let size = 0;
  for (const s of acks) size += codePointLength(s) + l.eol.length;
  if (menu) size += menu.length + l.eol.length;
  return { acks, menu, size };
}

/** Adds to `into` the globals used on `line` and declared before line a; returns the characters added. */
function addGlobals(l: Layout, line: number, a: number, into: Map<string, string>): number {
  const on = l.globalsOn.get(line);
  if (!on) return 0;
  let added = 0;
  for (const g of on) {
    const d = l.decls[g]!;
    if (d.line >= a || into.has(d.name)) continue;
    into.set(d.name, d.restate);
    added += codePointLength(d.restate) + l.eol.length;
  }
  return added;
}

/** Can a part that starts at line a end before line L? */
function canEndAt(l: Layout, a: number, L: number): boolean {
  if (L > l.n) return true;
  // Never inside something, and never a part of blank lines alone (the API refuses an empty
  // script), before or after the boundary.
  return l.cause[L] === 0 && l.contentFrom[a]! < L && l.contentFrom[L]! <= l.n;
}

function cut(l: Layout, max: number): SplitResult {
  const parts: ScriptPart[] = [];
  for (let a = 1; a <= l.n; ) {
    const fixed = fixedPrologue(l, a);
    const globals = new Map<string, string>();
    let size = fixed.size;
    let best = 0;
    let clean = 0;
    for (let L = a + 1; L <= l.n + 1; L++) {
      size += addGlobals(l, L - 1, a, globals) + l.cpBefore[L]! - l.cpBefore[L - 1]!;
      if (size > max) break;
      if (!canEndAt(l, a, L)) continue;
      best = L;
      // Rather not between a comment and the command it describes.
      if (L > l.n || !l.afterComment[L]) clean = L;
    }
    const end = clean || best;
    if (end === 0) return refuse(l, a, max);
    const used = new Map<string, string>();
    let globalsSize = 0;
    for (let k = a; k < end; k++) globalsSize += addGlobals(l, k, a, used);
    const restated = [...fixed.acks, ...used.values(), ...(fixed.menu ? [fixed.menu] : [])];
    const body = l.text.slice(l.start[a]!, l.start[end]!);
    parts.push({
      text: restated.length ? restated.map((s) => s + l.eol).join('') + body : body,
      size: fixed.size + globalsSize + l.cpBefore[end]! - l.cpBefore[a]!,
      firstLine: a,
      lastLine: end - 1,
      restated,
    });
    a = end;
  }
  return { ok: true, parts };
}

/** No boundary keeps the part that starts at line a within the limit: say why. */
function refuse(l: Layout, a: number, max: number): SplitResult {
  let free = a + 1;
  while (!canEndAt(l, a, free)) free++;
  const e = free - 1;
  const fixed = fixedPrologue(l, a);
  let restated = fixed.size;
  const globals = new Map<string, string>();
  for (let k = a; k < free; k++) restated += addGlobals(l, k, a, globals);
  const size = restated + l.cpBefore[free]! - l.cpBefore[a]!;
  const seen = new Set<number>();
  for (let L = a + 1; L < free; L++) if (l.cause[L]) seen.add(l.cause[L]! - 1);
  const tied = [...seen].map((i) => l.causes[i]!);
  const span = (c: Cause) => c.end - c.line;
  const widest = (kind: Cause['kind']) => tied.filter((c) => c.kind === kind).sort((x, y) => span(y) - span(x))[0];
  const c = widest('local') ?? widest('command') ?? widest('acknowledgement') ?? widest('continuation');
  const what = a === e ? `line ${a}` : `lines ${a}-${e}`;
  const counted = restated ? ` (${restated} of them restated from earlier parts)` : '';
  const head = `${what} must go in one job and come to ${size} characters${counted}, over the limit of ${max}`;
  if (!c) {
    const why =
      a === e
        ? 'a part breaks only between lines, and this one line is over the limit. If it holds several commands (joined with ;), put them on lines of their own; if it is one command (a long /system script source=...), shorten it or raise max_script_size in routeros-gitops.yaml if your SDX accepts longer scripts'
        : 'a part is never made of blank lines alone (the API refuses an empty script). Remove some of the blank lines';
    return { ok: false, line: a, endLine: e, reason: `${head}: ${why}.` };
  }
  let why: string;
  switch (c.kind) {
    case 'local':
      why =
        `the local variable $${c.name} declared on line ${c.line} is still used on line ${c.end}, and a :local lives only as long as its job. ` +
        'Declare it with :global instead (each part declares again the globals it uses), or use it nearer to where it is declared';
      break;
    case 'command':
      why = `the command on lines ${c.line}-${c.end} cannot be split: a part never breaks inside a command, a { } block or a string. Break it into smaller commands`;
      break;
    case 'acknowledgement':
      why = `the acknowledgement comment on line ${c.line} stays with the command below it, on line ${c.end}`;
      break;
    default:
      why = `line ${c.line} ends with \\ and continues on line ${c.end}`;
  }
  return { ok: false, line: c.line, endLine: e, reason: `${head}: ${why}.` };
}
