// The RouterOS script scanner: one pass over the text that finds the lexical errors RouterOS would
// stop on (or, worse, silently cut the script at) and builds the statement tree the lockout rules
// read. The rules follow MikroTik's scripting manual:
//
// - three states: code, "string" (double quotes only; ' is an ordinary character) and a # comment
//   that runs to the end of the physical line;
// - # starts a comment only where a statement starts: at the start of a line (after indentation),
//   after ; and after {. Anywhere else it is text (comment=a#b);
// - one stack for ( ) [ ] { }; $( and $[ inside a string push onto it too and hold code;
// - \ at the end of a line continues it; inside a string the next line's indentation is dropped
//   as well (that is how /export wraps long values);
// - string escapes: \" \\ \n \r \t \$ \? \_ \a \b \f \v and \XX (two upper-case hex digits).
//   Raw line breaks inside strings are legal.

import { Buffer } from 'node:buffer';

/** Ids of the checks this scanner makes (see rules.ts for what each means). */
export type ScanRuleId =
  | 'unbalanced-bracket'
  | 'unterminated-string'
  | 'invalid-escape'
  | 'stray-backslash'
  | 'comment-after-continuation'
  | 'line-break-in-brackets'
  | 'param-space'
  | 'inline-comment'
  | 'continuation-space';

export interface ScanProblem {
  rule: ScanRuleId;
  line: number;
  column: number;
  message: string;
}

/** A ( ), [ ] or { } group, with the statements it holds. */
export interface Group {
  readonly open: '(' | '[' | '{';
  readonly line: number;
  readonly column: number;
  /** Opened as $( or $[ inside a string. */
  readonly inString: boolean;
  /** A { } that follows a plain word (`:local a {1;2}`) holds array elements, not commands. */
  readonly array: boolean;
  readonly statements: Statement[];
}

/** One whitespace-separated word of a statement, with strings and groups inside it kept whole. */
export interface Arg {
  /** Source text, line continuations removed (in strings, with the next line's indentation). */
  readonly text: string;
  readonly line: number;
  readonly column: number;
  /** Groups that open inside this word, outermost only, in order. */
  readonly groups: readonly Group[];
  /** The script, and the offsets [start, end) of the word in it. */
  readonly source: string;
  readonly start: number;
  readonly end: number;
  /** No continuation was cut out of the word: `text` is `source.slice(start, end)` (read it there, without a copy). */
  readonly plain: boolean;
}

/** One command: the words between two statement ends (newline, `;`, or the group's end). */
export interface Statement {
  readonly args: Arg[];
  readonly line: number;
  readonly column: number;
  /** Line of the statement's last word (continued commands span several lines). */
  endLine: number;
}

export interface Comment {
  readonly line: number;
  readonly column: number;
  /** The text after #, trimmed. */
  readonly text: string;
  /** Nothing but indentation before it on its line. */
  readonly ownLine: boolean;
}

/** Where a `${{ ... }}` template tag stands: inside a "string", in code, or in a # comment. */
export type TemplateTagContext = 'string' | 'code' | 'comment';

export interface TemplateTag {
  /** Offset of its `${{` in the text. */
  readonly offset: number;
  readonly context: TemplateTagContext;
  /** In a string: the offset of the string's opening quote. */
  readonly stringStart?: number;
}

export interface ScanResult {
  readonly statements: Statement[];
  readonly comments: Comment[];
  readonly problems: ScanProblem[];
  /** The template tags met, in order (core/template.ts escapes each value for where it lands). */
  readonly templateTags: TemplateTag[];
}

// Character codes.
const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const DOLLAR = 36;
const LPAREN = 40;
const RPAREN = 41;
const SEMI = 59;
const EQUALS = 61;
const LBRACKET = 91;
const BACKSLASH = 92;
const RBRACKET = 93;
const LBRACE = 123;
const RBRACE = 125;
const BOM_CHAR = '\uFEFF';

/** Characters with a meaning in code; every other character just extends the current word. */
const SPECIAL = new Uint8Array(128);
for (const c of [TAB, LF, CR, SPACE, QUOTE, HASH, DOLLAR, LPAREN, RPAREN, SEMI, EQUALS, LBRACKET, BACKSLASH, RBRACKET, LBRACE, RBRACE]) SPECIAL[c] = 1;

/** Characters that end a word in code (SPECIAL without =). */
const WORD_END = new Uint8Array(128);
for (let c = 0; c < 128; c++) WORD_END[c] = SPECIAL[c]! && c !== EQUALS ? 1 : 0;

/** Characters that end a run of plain characters in a string. */
const STRING_STOP = new Uint8Array(128);
for (const c of [QUOTE, BACKSLASH, DOLLAR, LF, CR]) STRING_STOP[c] = 1;

/** Characters that may follow \ in a string (besides a line break and a hex pair). */
const SIMPLE_ESCAPES = new Set('"\\nrt$?_abfv'.split('').map((c) => c.charCodeAt(0)));

const CLOSER_OF: Record<number, number> = { [LPAREN]: RPAREN, [LBRACKET]: RBRACKET, [LBRACE]: RBRACE };
const OPEN_FOR: Record<number, number> = { [RPAREN]: LPAREN, [RBRACKET]: LBRACKET, [RBRACE]: LBRACE };

/** Words after which a { opens a block of commands rather than an array. */
const BLOCK_WORDS = new Set([':do', 'do', 'else', ':else', ':retry', ':execute']);
/** Commands whose unnamed { } arguments are blocks wherever they stand (`:onerror e { ... } do={ ... }`). */
const BLOCK_COMMANDS = new Set([':onerror', ':retry', ':do', ':execute']);

function isUpperHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70);
}

function isLowerHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
}

interface StringStart {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/** No groups: shared by every word without one. */
const NO_GROUPS: readonly Group[] = Object.freeze([]);

/**
 * A word. Its text is cut from the source on first use: most words are never read (the lockout
 * rules read only commands they may flag). The continuations cut out of it are all known by then:
 * later ones start after its end.
 */
class ArgNode implements Arg {
  private cached: string | undefined = undefined;
  /** Set when the word ends. */
  end = -1;
  plain = true;
  groups: readonly Group[] = NO_GROUPS;
  constructor(
    private readonly scanner: Scanner,
    readonly source: string,
    readonly start: number,
    readonly line: number,
    readonly column: number,
  ) {}

  get text(): string {
    return (this.cached ??= this.plain ? this.source.slice(this.start, this.end) : this.scanner.clean(this.start, this.end));
  }
}

/** One open group (or the whole script): where its current statement and word stand. */
class Level {
  stmt: Statement | null = null;
  arg: ArgNode | null = null;
  /** A # here would start a comment. */
  canComment: boolean;
  /** The current statement has a `where` query: `name = value` is a comparison there. */
  inWhere = false;
  /** A line break inside this ( or [ was already reported. */
  reportedBreak = false;

  constructor(
    readonly open: number, // 0 for the script itself
    readonly line: number,
    readonly column: number,
    readonly group: Group | null,
    readonly statements: Statement[],
    /** The string this group was opened in ($( or $[), to return to when it closes. */
    readonly fromString: StringStart | null,
  ) {
    this.canComment = open === 0 || open === LBRACE;
  }
}

function q(c: number): string {
  return String.fromCharCode(c);
}

// The scanner reads the script's UTF-16 code units from an array rather than with charCodeAt,
// which V8 runs much faster; Buffer copies them in with native code. Past the end the array holds
// zeros, which every test reads as it read charCodeAt's NaN there: as no character of interest.
const PAST_END = 4;
/** Kept between calls (scanning never nests); a very large script gets its own. */
let shared = new Uint16Array(4096);
let sharedBytes = Buffer.from(shared.buffer);
const SHARED_LIMIT = 1 << 20;
/** Buffer writes UTF-16 little-endian; the array reads in the platform's byte order. */
const LITTLE_ENDIAN = new Uint16Array(Uint8Array.of(1, 0).buffer)[0] === 1;

function codeUnits(text: string): Uint16Array {
  const n = text.length;
  let code = shared;
  let bytes = sharedBytes;
  if (code.length < n + PAST_END) {
    code = new Uint16Array(n + PAST_END);
    bytes = Buffer.from(code.buffer);
    if (n + PAST_END <= SHARED_LIMIT) {
      shared = code;
      sharedBytes = bytes;
    }
  }
  if (LITTLE_ENDIAN) bytes.write(text, 0, 'utf16le');
  else for (let i = 0; i < n; i++) code[i] = text.charCodeAt(i);
  code.fill(0, n, n + PAST_END);
  return code;
}

/** The end of a run of characters from `i` on: the first that `stops` marks (only ASCII can stop a run), or `n`. */
function runEnd(code: Uint16Array, i: number, n: number, stops: Uint8Array): number {
  while (i < n) {
    const c = code[i]!;
    if (c < 128 && stops[c] !== 0) break;
    i++;
  }
  return i;
}

/** Scan a RouterOS script. Never throws; problems are returned with 1-based line and column. */
export function scanScript(text: string): ScanResult {
  return new Scanner(text).run();
}

class Scanner {
  readonly src: string;
  /** The code units of src, then zeros (see codeUnits). */
  private readonly code: Uint16Array;
  private readonly n: number;
  private i = 0;
  private line = 1;
  private lineStart = 0;
  /** The current physical line was joined to the previous one by \. */
  private continued = false;
  /** Inside a string, which started at strOffset, strLine, strColumn (kept apart: no object per string). */
  private inStr = false;
  private strOffset = 0;
  private strLine = 0;
  private strColumn = 0;
  /** The first string that ran over a raw line break: the likeliest place of a missing quote. */
  private firstMultiline: StringStart | null = null;
  /** Offsets [start, end) of continuation text, in increasing order, cut out of word texts. */
  private readonly cuts: number[] = [];
  private readonly levels: Level[] = [];
  private readonly comments: Comment[] = [];
  private readonly problems: ScanProblem[] = [];
  private readonly templateTags: TemplateTag[] = [];
  private readonly root: Statement[] = [];

  constructor(text: string) {
    this.src = text;
    this.code = codeUnits(text);
    this.n = text.length;
    this.pushLevel(new Level(0, 1, 1, null, this.root, null));
  }

  run(): ScanResult {
    this.skipBom();
    // The common characters are read here, with the offset in a local; the rest in codeChar and
    // stringChar (which read and move this.i).
    const code = this.code;
    const n = this.n;
    let i = this.i;
    while (i < n) {
      if (this.inStr) {
        // A run of plain characters, and the closing quote.
        i = runEnd(code, i, n, STRING_STOP);
        if (i >= n) break;
        if (code[i]! === QUOTE) {
          this.inStr = false;
          i++;
          continue;
        }
        this.i = i;
        this.stringChar();
        i = this.i;
        continue;
      }
      const c = code[i]!;
      if (c >= 128 || SPECIAL[c] === 0) {
        // An ordinary word, or the rest of one, in one go.
        const level = this.top;
        if (!level.arg) {
          this.i = i;
          this.ensureArg(level);
        }
        i = runEnd(code, i + 1, n, WORD_END);
        continue;
      }
      if (c === SPACE || c === TAB) {
        const level = this.top;
        if (level.arg) {
          this.i = i;
          this.endArg(level);
        }
        // The rest of the blanks (indentation, alignment), in one go.
        i++;
        while (i < n) {
          const d = code[i]!;
          if (d !== SPACE && d !== TAB) break;
          i++;
        }
        continue;
      }
      if (c === QUOTE) {
        this.startString(i);
        i++;
        continue;
      }
      if (c === DOLLAR && code[i + 1] !== LBRACE) {
        // $name (codeChar does the same; ${{ is a template tag).
        this.i = i;
        this.ensureArg(this.top);
        i++;
        continue;
      }
      if (c === LF && this.top.open !== LPAREN && this.top.open !== LBRACKET) {
        this.endLine(i);
        i++;
        continue;
      }
      this.i = i;
      this.codeChar();
      i = this.i;
    }
    this.i = i;
    this.finish();
    return { statements: this.root, comments: this.comments, problems: this.problems, templateTags: this.templateTags };
  }

  /** Skip a byte-order mark. */
  private skipBom(): void {
    // Flattens the text too, if it is a rope (a string built by concatenation, as templates are):
    // V8 does that for a substring, and the words' texts are read from it.
    if (this.src.slice(0, 1) === BOM_CHAR) {
      this.i = 1;
      this.lineStart = 1;
    }
  }

  /** A string starts at the quote at `at`. */
  private startString(at: number): void {
    this.i = at;
    this.ensureArg(this.top);
    this.inStr = true;
    this.strOffset = at;
    this.strLine = this.line;
    this.strColumn = at - this.lineStart + 1;
  }

  /** The line break at `at` ends a line, outside ( ) and [ ] (codeLineBreak does the rest). */
  private endLine(at: number): void {
    const level = this.top;
    this.i = at;
    this.endStatement(level);
    level.canComment = true;
    this.newLine(at + 1, false);
  }

  /** Where the current string started, as an object (only needed in rare cases). */
  private strStart(): StringStart {
    return { offset: this.strOffset, line: this.strLine, column: this.strColumn };
  }

  private enterString(s: StringStart): void {
    this.inStr = true;
    this.strOffset = s.offset;
    this.strLine = s.line;
    this.strColumn = s.column;
  }

  /** The innermost open level (kept in step with `levels`). */
  private top!: Level;

  private pushLevel(level: Level): void {
    this.levels.push(level);
    this.top = level;
  }

  private popLevel(): Level {
    const level = this.levels.pop()!;
    this.top = this.levels[this.levels.length - 1]!;
    return level;
  }

  private col(offset = this.i): number {
    return offset - this.lineStart + 1;
  }

  private report(rule: ScanRuleId, line: number, column: number, message: string): void {
    this.problems.push({ rule, line, column, message });
  }

  /** Length of the line break at `at` (1 or 2), or 0 when there is none. */
  private eolLength(at: number): number {
    const c = this.code[at]!;
    if (c === LF) return 1;
    if (c === CR) return this.code[at + 1]! === LF ? 2 : 1;
    return 0;
  }

  private newLine(nextLineStart: number, continued: boolean): void {
    this.line++;
    this.lineStart = nextLineStart;
    this.i = nextLineStart;
    this.continued = continued;
  }

  private skipBlanks(at: number): number {
    let j = at;
    for (let c = this.code[j]!; c === SPACE || c === TAB; c = this.code[++j]!);
    return j;
  }

  // ---- words and statements -------------------------------------------------------------------

  private ensureArg(level: Level): ArgNode {
    if (level.arg) return level.arg;
    const column = this.i - this.lineStart + 1;
    const arg = new ArgNode(this, this.src, this.i, this.line, column);
    level.arg = arg;
    level.canComment = false;
    if (!level.stmt) {
      level.stmt = { args: [], line: this.line, column, endLine: this.line };
      level.statements.push(level.stmt);
    }
    return arg;
  }

  private endArg(level: Level): void {
    const a = level.arg;
    if (!a) return;
    level.arg = null;
    a.end = this.i;
    const cuts = this.cuts;
    // Plain when no cut made so far ends after its start (cuts come in order; later ones start
    // after its end).
    a.plain = cuts.length === 0 || cuts[cuts.length - 1]! <= a.start;
    // Its text is 'where': a word that holds a continuation cut also holds a " or a bracket before
    // it (cuts are made in strings, or after the word ends), so it is never 'where' once cleaned.
    if (this.i - a.start === 5 && this.src.startsWith('where', a.start)) level.inWhere = true;
    const stmt = level.stmt!;
    stmt.args.push(a);
    stmt.endLine = this.line;
  }

  private endStatement(level: Level): void {
    this.endArg(level);
    level.stmt = null;
    level.inWhere = false;
  }

  /** The source between two offsets without the continuations recorded in `cuts`. */
  clean(start: number, end: number): string {
    const cuts = this.cuts;
    if (cuts.length === 0 || cuts[cuts.length - 1]! <= start) return this.src.slice(start, end);
    // First cut that ends after `start` (cuts are pairs; search over pair indexes).
    let lo = 0;
    let hi = cuts.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cuts[mid * 2 + 1]! <= start) lo = mid + 1;
      else hi = mid;
    }
    let out = '';
    let from = start;
    for (let k = lo * 2; k < cuts.length && cuts[k]! < end; k += 2) {
      const cs = Math.max(cuts[k]!, start);
      if (cs > from) out += this.src.slice(from, cs);
      from = Math.max(from, Math.min(cuts[k + 1]!, end));
    }
    return from < end ? out + this.src.slice(from, end) : out;
  }

  // ---- code -------------------------------------------------------------------------------------

  private codeChar(): void {
    const level = this.top;
    const c = this.code[this.i]!;
    switch (c) {
      case SPACE:
      case TAB:
        this.endArg(level);
        this.i++;
        return;
      case LF:
      case CR:
        this.codeLineBreak(level);
        return;
      case SEMI:
        this.endStatement(level);
        level.canComment = true;
        this.i++;
        return;
      case QUOTE:
        this.startString(this.i);
        this.i++;
        return;
      case HASH:
        this.codeHash(level);
        return;
      case BACKSLASH:
        this.codeBackslash(level);
        return;
      case LPAREN:
      case LBRACKET:
      case LBRACE:
        this.open(level, c, null);
        return;
      case RPAREN:
      case RBRACKET:
      case RBRACE:
        this.close(c);
        return;
      case EQUALS:
        if (!level.arg) this.checkParamSpace(level);
        this.ensureArg(level);
        this.i++;
        return;
      case DOLLAR:
        this.ensureArg(level);
        if (this.src.startsWith('${{', this.i)) this.skipTemplateTag();
        else this.i++;
        return;
      default:
        this.ensureArg(level);
        // The rest of an ordinary word, in one go.
        this.i = runEnd(this.code, this.i + 1, this.n, WORD_END);
    }
  }

  /** `${{ ... }}` is this tool's own template syntax (core/template.ts): keep it whole, unread. */
  private skipTemplateTag(): void {
    const end = this.src.indexOf('}}', this.i + 3);
    const stop = end < 0 ? this.n : end + 2;
    const nl = this.src.slice(this.i, stop).search(/[\r\n]/);
    // A tag never spans lines; if this one seems to, read it as ordinary text.
    if (nl < 0) this.templateTags.push(this.inStr ? { offset: this.i, context: 'string', stringStart: this.strOffset } : { offset: this.i, context: 'code' });
    this.i = nl < 0 ? stop : this.i + 1;
  }

  private codeLineBreak(level: Level): void {
    const len = this.eolLength(this.i);
    if (level.open === LPAREN || level.open === LBRACKET) {
      if (!level.reportedBreak) {
        level.reportedBreak = true;
        const o = q(level.open);
        this.report(
          'line-break-in-brackets',
          this.line,
          this.col(),
          `line break inside ${o} ${q(CLOSER_OF[level.open]!)}: the ${o} opened at line ${level.line} column ${level.column} is still open here. ` +
            `Close it on this line, or end the line with \\ to continue the command on the next one.`,
        );
      }
      this.endArg(level);
      this.newLine(this.i + len, false);
      return;
    }
    this.endStatement(level);
    level.canComment = true;
    this.newLine(this.i + len, false);
  }

  private codeHash(level: Level): void {
    if (level.arg) {
      // Glued to a word (comment=a#b): text.
      this.i++;
      return;
    }
    if (level.canComment) {
      this.readComment();
      return;
    }
    const atLineStart = this.src.slice(this.lineStart, this.i).trim() === '';
    if (this.continued && atLineStart) {
      this.report(
        'comment-after-continuation',
        this.line,
        this.col(),
        'a comment cannot sit inside a command continued with \\ on the line before: RouterOS does not read this # as a comment. ' +
          'Move the comment above the command.',
      );
    } else {
      this.report(
        'inline-comment',
        this.line,
        this.col(),
        'this # is not a comment: RouterOS starts a comment only where a command starts, so the rest of the line is read as part of the command. ' +
          'Put the comment on its own line, or after a ; (for example `...; # note`).',
      );
    }
    this.skipToLineEnd();
  }

  private readComment(): void {
    const start = this.i;
    this.skipToLineEnd();
    const whole = this.src.slice(start, this.i);
    for (let t = whole.indexOf('${{'); t !== -1; t = whole.indexOf('${{', t + 3)) this.templateTags.push({ offset: start + t, context: 'comment' });
    const before = this.src.slice(this.lineStart, start);
    this.comments.push({
      line: this.line,
      column: this.col(start),
      text: this.src.slice(start + 1, this.i).trim(),
      ownLine: before.trim() === '' && !this.continued,
    });
  }

  private skipToLineEnd(): void {
    const code = this.code;
    const n = this.n;
    let j = this.i;
    while (j < n) {
      const c = code[j]!;
      if (c === LF || c === CR) break;
      j++;
    }
    this.i = j;
  }

  private codeBackslash(level: Level): void {
    const at = this.i;
    const len = this.eolLength(at + 1);
    if (len) {
      // Continuation: the command goes on; a word does not (the manual: "a backslash does not
      // continue a token except for string literals").
      this.endArg(level);
      this.cuts.push(at, at + 1 + len);
      this.newLine(at + 1 + len, true);
      return;
    }
    if (at + 1 >= this.n) {
      this.i++;
      return;
    }
    const j = this.skipBlanks(at + 1);
    const after = this.code[j]!;
    const eol = this.eolLength(j);
    if (eol || j >= this.n) {
      this.report(
        'continuation-space',
        this.line,
        this.col(at),
        'spaces follow the \\ at the end of this line, so RouterOS may not read it as a line continuation. Remove the trailing spaces.',
      );
      this.endArg(level);
      this.cuts.push(at, j + eol);
      if (j >= this.n) this.i = j;
      else this.newLine(j + eol, true);
      return;
    }
    if (after === HASH) {
      this.report(
        'comment-after-continuation',
        this.line,
        this.col(j),
        'a comment cannot follow the line continuation \\: the \\ must be the last character of the line. Move the comment above the command.',
      );
      // Read on as the author meant: a continuation.
      this.endArg(level);
      this.i = j;
      this.skipToLineEnd();
      const l2 = this.eolLength(this.i);
      if (l2) this.newLine(this.i + l2, true);
      return;
    }
    this.report(
      'stray-backslash',
      this.line,
      this.col(at),
      'a \\ outside a string must be the last character of a line (a line continuation). ' +
        'To use a backslash in a value, put the value in double quotes and write \\\\.',
    );
    this.ensureArg(level);
    this.i++;
  }

  /** Whitespace before `=`: `gateway = 1.1.1.1` is read as three words, not a parameter. */
  private checkParamSpace(level: Level): void {
    if (level.open === LPAREN || level.inWhere || level.group?.array) return;
    const prev = level.stmt?.args[level.stmt.args.length - 1];
    if (!prev || !/^[A-Za-z][\w-]*$/.test(prev.text)) return;
    this.report(
      'param-space',
      prev.line,
      prev.column,
      `space between the parameter name "${prev.text}" and "=": RouterOS does not allow it. Write ${prev.text}=<value>, with nothing between the name and =.`,
    );
  }

  private open(level: Level, c: number, fromString: StringStart | null): void {
    const line = this.line;
    const column = this.col();
    let array = false;
    if (c === LBRACE && !fromString) {
      if (level.arg) {
        // Glued: do={ and :do{ open blocks; { glued to anything else is read as an array.
        array = this.code[this.i - 1]! !== EQUALS && !BLOCK_WORDS.has(this.src.slice(level.arg.start, this.i));
      } else {
        const args = level.stmt?.args;
        const prev = args?.[args.length - 1];
        array = prev !== undefined && !BLOCK_WORDS.has(prev.text) && !BLOCK_COMMANDS.has(args![0]!.text);
      }
    }
    const arg = this.ensureArg(level);
    level.canComment = false;
    const group: Group = { open: q(c) as Group['open'], line, column, inString: fromString !== null, array, statements: [] };
    arg.groups = arg.groups === NO_GROUPS ? [group] : [...arg.groups, group];
    this.pushLevel(new Level(c, line, column, group, group.statements, fromString));
    this.i++;
  }

  private close(c: number): void {
    const want = OPEN_FOR[c]!;
    const line = this.line;
    const column = this.col();
    const top = this.top;
    if (top.open === want) {
      this.pop();
      this.i++;
      return;
    }
    // Look for a matching opener further down, without crossing into a string.
    let m = -1;
    for (let k = this.levels.length - 1; k >= 1; k--) {
      const lv = this.levels[k]!;
      if (lv.open === want) {
        m = k;
        break;
      }
      if (lv.fromString) break;
    }
    if (m >= 1) {
      const inner = this.levels[this.levels.length - 1]!;
      const outer = this.levels[m]!;
      this.report(
        'unbalanced-bracket',
        line,
        column,
        `this ${q(c)} closes the ${q(want)} opened at line ${outer.line} column ${outer.column}, but the ${q(inner.open)} opened at line ${inner.line} column ${inner.column} is not closed yet. ` +
          `Add the missing ${q(CLOSER_OF[inner.open]!)} before it.`,
      );
      while (this.levels.length > m) this.pop();
      this.i++;
      return;
    }
    if (top.open !== 0) {
      this.report(
        'unbalanced-bracket',
        line,
        column,
        `this ${q(c)} does not match the ${q(top.open)} opened at line ${top.line} column ${top.column}. Close that one with ${q(CLOSER_OF[top.open]!)}.`,
      );
      this.pop();
      this.i++;
      return;
    }
    this.report(
      'unbalanced-bracket',
      line,
      column,
      c === RBRACE
        ? 'this } has no matching {. RouterOS ends the script at an unmatched }, so every command after it would be silently skipped. Remove it or add the missing {.'
        : `this ${q(c)} has no matching ${q(want)}. Remove it or add the missing ${q(want)}.`,
    );
    this.ensureArg(top);
    this.i++;
  }

  private pop(): void {
    const level = this.popLevel();
    this.endStatement(level);
    const outer = this.top;
    outer.canComment = false;
    if (level.fromString) this.enterString(level.fromString);
  }

  // ---- strings ----------------------------------------------------------------------------------

  private stringChar(): void {
    const code = this.code;
    // Plain characters in a run: the common case.
    const n = this.n;
    let j = this.i;
    let c = 0;
    while (j < n) {
      c = code[j]!;
      if (c < 128 && STRING_STOP[c] !== 0) break;
      j++;
    }
    this.i = j;
    if (j >= n) return;
    switch (c) {
      case QUOTE:
        this.inStr = false;
        this.i++;
        return;
      case LF:
      case CR: {
        // A raw line break is legal in a string.
        if (!this.firstMultiline) this.firstMultiline = this.strStart();
        this.newLine(j + this.eolLength(j), false);
        return;
      }
      case DOLLAR:
        this.stringDollar();
        return;
      default:
        this.stringEscape();
    }
  }

  private stringDollar(): void {
    const at = this.i;
    let j = at + 1;
    let c = this.code[j]!;
    // /export may wrap a long string between $ and its bracket.
    if (c === BACKSLASH && this.eolLength(j + 1)) {
      const eol = this.eolLength(j + 1);
      const k = this.skipBlanks(j + 1 + eol);
      const ck = this.code[k]!;
      if (ck === LPAREN || ck === LBRACKET) {
        this.cuts.push(j, k);
        this.newLine(j + 1 + eol, true);
        this.i = k;
        j = k;
        c = ck;
      }
    }
    if (c === LPAREN || c === LBRACKET) {
      const s = this.strStart();
      this.inStr = false;
      this.i = j;
      this.open(this.top, c, s);
      return;
    }
    if (this.src.startsWith('${{', at)) {
      this.skipTemplateTag();
      return;
    }
    this.i = at + 1;
  }

  private stringEscape(): void {
    const at = this.i;
    const next = this.code[at + 1]!;
    const eol = this.eolLength(at + 1);
    if (eol) {
      // Continuation inside a string: the line break and the next line's indentation go.
      const k = this.skipBlanks(at + 1 + eol);
      this.cuts.push(at, k);
      this.newLine(at + 1 + eol, true);
      this.i = k;
      return;
    }
    if (at + 1 >= this.n) {
      this.i++;
      return;
    }
    if (SIMPLE_ESCAPES.has(next)) {
      this.i += 2;
      return;
    }
    const next2 = this.code[at + 2]!;
    if (isUpperHex(next) && isUpperHex(next2)) {
      this.i += 3;
      return;
    }
    let message: string;
    const shown = this.src.slice(at, at + 2);
    if (isLowerHex(next) || isUpperHex(next)) {
      const pair = this.src.slice(at + 1, at + 3);
      message =
        isLowerHex(next2) || isUpperHex(next2)
          ? `invalid escape "\\${pair}" in a string: a character code needs two upper-case hex digits (\\${pair.toUpperCase()}). Write \\\\ for a backslash.`
          : `invalid escape "${shown}" in a string: a character code needs exactly two upper-case hex digits (for example \\0${q(next).toUpperCase()}). Write \\\\ for a backslash.`;
    } else if (next === SPACE || next === TAB) {
      const j = this.skipBlanks(at + 1);
      message = this.eolLength(j)
        ? 'invalid escape "\\ " in a string: spaces follow the \\ at the end of this line, so it does not continue the line. Remove the trailing spaces.'
        : 'invalid escape "\\ " in a string: write \\_ for an escaped space, or \\\\ for a backslash.';
    } else {
      message =
        `invalid escape "${shown}" in a string: RouterOS accepts \\" \\\\ \\n \\r \\t \\$ \\? \\_ \\a \\b \\f \\v and \\ with two upper-case hex digits. ` +
        'Write \\\\ for a backslash.';
    }
    this.report('invalid-escape', this.line, this.col(at), message);
    this.i += 2;
  }

  // ---- end of text ------------------------------------------------------------------------------

  private finish(): void {
    // A $[ or $( left open inside a string swallows the string's closing quote: report it, not the
    // string that then never ends.
    const interpolation = this.inStr ? this.levels.find((lv) => lv.fromString && !lv.reportedBreak) : undefined;
    if (interpolation) {
      const o = q(interpolation.open);
      this.report(
        'unbalanced-bracket',
        interpolation.line,
        interpolation.column,
        `this $${o} inside a string is never closed, so the string's closing " is read as the start of another string. Add the matching ${q(CLOSER_OF[interpolation.open]!)}.`,
      );
    } else if (this.inStr) {
      const open = this.strStart();
      const first = this.firstMultiline && this.firstMultiline.offset < open.offset ? this.firstMultiline : null;
      const at = first ?? open;
      this.report(
        'unterminated-string',
        at.line,
        at.column,
        first || this.spansLines(open)
          ? 'the script ends inside a string, and this is the first string that runs over a line break, so its closing " is probably missing. ' +
              '(RouterOS allows line breaks in strings, so a missing " pairs every later quote wrongly.) Add the closing ".'
          : 'this string is never closed: add the closing ".',
      );
    } else {
      for (let k = this.levels.length - 1; k >= 1; k--) {
        const lv = this.levels[k]!;
        if (lv.reportedBreak) continue;
        const o = q(lv.open);
        this.report(
          'unbalanced-bracket',
          lv.line,
          lv.column,
          lv.open === LBRACE
            ? `this { is never closed: RouterOS would stop the script here. Add the matching } where the block ends.`
            : `this ${o} is never closed: add the matching ${q(CLOSER_OF[lv.open]!)}.`,
        );
      }
    }
    this.inStr = false;
    while (this.levels.length > 1) this.endStatement(this.popLevel());
    this.endStatement(this.levels[0]!);
  }

  private spansLines(s: StringStart): boolean {
    return s.line !== this.line;
  }
}
