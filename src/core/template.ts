// Rendering a script: variables and secrets substituted with Mustache, with `${{` and `}}` as
// delimiters. `${{` cannot occur in a valid RouterOS script (after `$` RouterOS expects a variable
// name, `(` or `[`), so templates never collide with RouterOS's own `$var`, `{ }`, `[ ]` or
// `$(...)`. `\${{` is the escape: it is left as is and RouterOS reads `\$` as a literal `$`.
//
//   ${{ vars.wan_interface }}     a variable (fleet, group or site; the most specific wins)
//   ${{ secrets.pppoe_password }} a secret, supplied at apply time; shown as <secret:NAME> anywhere
//                                  but in the job body sent to SDX
//   ${{ site.name }} ${{ site.id }}
//   ${{#vars.lte}} ... ${{/vars.lte}}  a section, kept when the variable is true (or non-empty)
//   ${{^vars.lte}} ... ${{/vars.lte}}  an inverted section
//   ${{! a comment }}
//   ${{{ vars.NAME }}}              the raw form: the value is inserted as is (see below)
//
// Values are escaped by default (issue 13): a committer's variable or an operator's secret must
// never turn into RouterOS commands. Where a value lands is read with the RouterOS scanner on the
// rendered script (sections resolved, each value a placeholder tag):
//   - inside a "double-quoted string": escaped for it (\\ \" \$ \n \r \t, other control
//     characters as \XX), so it stays text whatever it holds;
//   - in code (outside quotes): it must be a plain word (letters, digits and . - _ / : ,), else the
//     script is refused, naming the value, the script and the site;
//   - in a # comment: it must hold no line break, control character or backslash, which could end
//     the comment.
// The raw form ${{{ ... }}} (or ${{& ... }}) inserts the value unchecked, for the rare value that
// is meant to be RouterOS code; the script checks flag every use (rule raw-template-value).
import Mustache from 'mustache';
import type { VarValue } from './settings.js';
import { scanScript, type Statement, type TemplateTagContext } from '../lint/scanner.js';
import { escapeRouterOsString } from './routeros-string.js';

export { escapeRouterOsString };

export const TAGS: [string, string] = ['${{', '}}'];
const OPEN = TAGS[0];
const ESCAPED_OPEN = '\\${{';
// Scripts with NUL bytes are rejected before rendering, so NULs can stand in for the escape.
const ESCAPE_SENTINEL = '\0\0\0\0';

// Do not keep 50,000 parsed templates alive.
(Mustache as unknown as { templateCache: unknown }).templateCache = undefined;

export function secretPlaceholder(name: string): string {
  return `<secret:${name}>`;
}

export interface TemplateRef {
  kind: 'vars' | 'secrets' | 'site';
  name: string;
  line: number;
  column: number;
  /** Written ${{{ ... }}} or ${{& ... }}: inserted unescaped (a section is never raw). */
  raw?: boolean;
}

export interface TemplateProblem {
  line: number;
  column: number;
  message: string;
  hint?: string;
}

export interface CompiledTemplate {
  /** false when the script has no `${{` at all: rendering is the identity. */
  templated: boolean;
  refs: TemplateRef[];
  problems: TemplateProblem[];
  /** The source with escapes protected (undefined when not templated). */
  prepared?: string;
  /** Mustache's parse of `prepared` (undefined when it holds no tag). */
  tokens?: Token[];
  /** The last rendering's skeleton and where its values landed (renderings of one script mostly share it). */
  lastScan?: { skeleton: string; contexts: Map<number, TemplateTagContext | 'code-string'> };
}

type Token = [string, string, number, number, Token[]?, number?];

/** Parse a script's template once: the names it references and its syntax problems. */
export function compileTemplate(source: string): CompiledTemplate {
  if (!source.includes(OPEN)) return { templated: false, refs: [], problems: [] };
  const prepared = source.split(ESCAPED_OPEN).join(ESCAPE_SENTINEL);
  if (!prepared.includes(OPEN)) return { templated: true, refs: [], problems: [], prepared };
  const lines = lineStarts(source);
  const at = (offset: number) => position(lines, offset);
  let tokens: Token[];
  try {
    tokens = Mustache.parse(prepared, TAGS) as unknown as Token[];
  } catch (e) {
    const msg = (e as Error).message;
    const m = /at (\d+)$/.exec(msg);
    let offset = m ? Number(m[1]) : 0;
    // Mustache reports where it gave up (the end); point at the tag that was left open instead.
    if (/Unclosed tag/.test(msg)) offset = Math.max(0, prepared.lastIndexOf(OPEN, offset));
    const section = /Unclosed section "([^"]*)"/.exec(msg);
    if (section) {
      const name = section[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const opens = [...prepared.slice(0, offset + 1).matchAll(new RegExp(`\\$\\{\\{\\s*[#^]\\s*${name}\\s*\\}\\}`, 'g'))];
      if (opens.length) offset = opens[opens.length - 1]!.index!;
    }
    const p = at(offset);
    const unclosedSection = /Unclosed section "([^"]*)"/.exec(msg);
    const unopened = /Unopened section "([^"]*)"/.exec(msg);
    return {
      templated: true,
      refs: [],
      problems: [
        {
          ...p,
          message: unclosedSection
            ? `the section \${{#${unclosedSection[1]}}} is never closed`
            : unopened
              ? `\${{/${unopened[1]}}} closes a section that was not opened`
              : /Unclosed tag/.test(msg)
                ? 'a template tag "${{" is not closed with "}}"'
                : `the template is malformed: ${msg}`,
          hint: unclosedSection ? `end it with \${{/${unclosedSection[1]}}}` : 'write ${{ vars.NAME }}; to send a literal "${{" to the router, write "\\${{"',
        },
      ],
    };
  }
  const refs: TemplateRef[] = [];
  const problems: TemplateProblem[] = [];
  const walk = (list: Token[]) => {
    for (const t of list) {
      const [type, value, start] = t;
      if (type === 'text' || type === '!') continue;
      const p = at(start);
      if (type === '>' || type === '=') {
        problems.push({
          ...p,
          message: `"\${{${type}" (${type === '>' ? 'partials' : 'changing delimiters'}) is not supported`,
          hint: 'use ${{ vars.NAME }} or ${{ secrets.NAME }}',
        });
        continue;
      }
      const ref = parseRef(value);
      if (ref && type === '&') (ref as TemplateRef).raw = true;
      if (!ref) {
        problems.push({
          ...p,
          message: `"\${{ ${value} }}" is not a variable reference`,
          hint: 'write ${{ vars.NAME }}, ${{ secrets.NAME }}, ${{ site.name }} or ${{ site.id }}',
        });
      } else refs.push({ ...ref, ...p });
      if (t[4]) walk(t[4]);
    }
  };
  walk(tokens);
  return { templated: true, refs, problems, prepared, tokens };
}

function parseRef(value: string): { kind: TemplateRef['kind']; name: string; raw?: boolean } | undefined {
  const m = /^(vars|secrets|site)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(value.trim());
  if (!m) return undefined;
  const kind = m[1] as TemplateRef['kind'];
  if (kind === 'site' && m[2] !== 'name' && m[2] !== 'id') return undefined;
  return { kind, name: m[2]! };
}

export interface RenderContext {
  vars: Readonly<Record<string, VarValue>>;
  site: { name: string; id: string };
  /** Secret values (for the job body), placeholders (to show) or stand-ins (to check), by name. */
  secrets: Readonly<Record<string, string>>;
}

/** Where a value landed, and why it could not be put there. */
export interface ValueProblem {
  kind: TemplateRef['kind'];
  name: string;
  /** The tag's position in the source. */
  line: number;
  column: number;
  context: TemplateTagContext | 'code-string';
  /** The value as rendered here (never shown for a secret). */
  value: string;
}

export interface Rendered {
  text: string;
  /** Values that cannot stand where they are (the text then holds them unescaped: never send it). */
  problems: ValueProblem[];
  /**
   * Where the rendering's text came from: [offset in the rendering, offset in the source, a value?]
   * per piece, in order (a value's every offset maps to its tag). Absent: the text is the source.
   */
  pieces?: Array<[number, number, boolean]>;
}

/** The source position of a position in a rendering (findings name the line of the file, not of the rendering). */
export function sourcePosition(source: string, rendered: Rendered, line: number, column: number): { line: number; column: number } {
  const pieces = rendered.pieces;
  if (!pieces?.length) return { line, column };
  const offset = (lineStarts(rendered.text)[line - 1] ?? 0) + Math.max(0, column - 1);
  let lo = 0;
  let hi = pieces.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (pieces[mid]![0] <= offset) lo = mid;
    else hi = mid - 1;
  }
  const [at, from, value] = pieces[lo]!;
  return position(lineStarts(source), value ? from : from + (offset - at));
}

/** Text of the template as is, and its offset in the source. */
interface TextPart {
  text: string;
  at: number;
}

/** The pieces of a rendering made of text and raw values only (see Rendered.pieces). */
function piecesOf(parts: ReadonlyArray<TextPart | Slot>): Array<[number, number, boolean]> {
  const pieces: Array<[number, number, boolean]> = [];
  let length = 0;
  for (const p of parts) {
    pieces.push([length, p.at, !('text' in p)]);
    length += 'text' in p ? p.text.length : p.value.length;
  }
  return pieces;
}

/** A value to insert: where its tag was in the source, and whether it is raw. */
interface Slot {
  kind: TemplateRef['kind'];
  name: string;
  value: string;
  raw: boolean;
  /** Offset of the tag in the source. */
  at: number;
}

/** The placeholder a value takes in the skeleton: a template tag, which the scanner records with its context. */
const SLOT_TAG = '${{}}';

/** Render a compiled template, each value escaped for where it lands. Callers check refs against the context first (see model.ts). */
export function renderTemplate(source: string, compiled: CompiledTemplate, ctx: RenderContext): Rendered {
  if (!compiled.templated || !compiled.prepared) return { text: source, problems: [] };
  if (!compiled.tokens) return { text: restoreEscapes(compiled.prepared), problems: [] };
  const parts: Array<TextPart | Slot> = [];
  collect(compiled.tokens, ctx, parts);
  // The skeleton: the text with raw values in place and a tag where each escaped value goes.
  let skeleton = '';
  const slotAt: number[] = [];
  for (const p of parts) {
    if ('text' in p) skeleton += p.text;
    else if (p.raw) skeleton += p.value;
    else {
      slotAt.push(skeleton.length);
      skeleton += SLOT_TAG;
    }
  }
  if (!slotAt.length) return { text: restoreEscapes(skeleton), problems: [], pieces: piecesOf(parts) };
  const contexts = contextsOf(compiled, skeleton);
  const lines = lineStarts(source);
  const problems: ValueProblem[] = [];
  let out = '';
  let k = 0;
  const pieces: Array<[number, number, boolean]> = [];
  for (const p of parts) {
    pieces.push([out.length, p.at, !('text' in p)]);
    if ('text' in p) out += p.text;
    else if (p.raw) out += p.value;
    else {
      // A tag the scanner did not see as one (a raw value opened a ${{ before it) counts as code: the strictest.
      const context = contexts.get(slotAt[k++]!) ?? 'code';
      const placed = placeValue(p.value, context);
      if (placed === null) problems.push({ kind: p.kind, name: p.name, ...position(lines, p.at), context, value: p.value });
      out += placed ?? p.value;
    }
  }
  return { text: restoreEscapes(out), problems, pieces };
}

/** The value as it may stand in this context, or null when it cannot. */
function placeValue(value: string, context: TemplateTagContext | 'code-string'): string | null {
  if (context === 'string') return escapeRouterOsString(value);
  // A string RouterOS later runs as a script (a scheduler's on-event, :execute, a script's source):
  // escaping it for the outer string leaves it code once run, so only a plain word may stand there.
  if (context === 'code-string') return PLAIN_WORD.test(value) ? value : null;
  if (context === 'comment') return /[\x00-\x1f\x7f\\]/.test(value) ? null : value;
  return PLAIN_WORD.test(value) ? value : null;
}

/** A value that may stand outside quotes: letters, digits and . - _ / : , (or nothing). */
export const PLAIN_WORD = /^[A-Za-z0-9._\-/:,]*$/;

/**
 * Parameters whose value RouterOS runs as a script: `source=` of /system script, the `on-*` hooks
 * (scheduler on-event, PPP on-up/on-down...), `*-script` (netwatch up-script, DHCP lease-script...),
 * `*-event`, and `script=` of :execute.
 */
const CODE_ARG = /^(?:source|script|on-[a-z-]+|[a-z-]+-script|[a-z-]+-event)=/;
/** Commands whose arguments are a script: `:execute "..."`, `:parse "..."`. */
const CODE_COMMANDS = new Set([':execute', ':parse']);
/** Commands that set a variable: `:local name value`, `:global name value`, `:set name value`. */
const SETTERS = new Set([':local', ':global', ':set']);

/**
 * The offsets [start, end) of the text RouterOS will run as a script: the whole value of a code
 * parameter (a string in it, and strings joined or converted into it: `on-event=("..." . "...")`,
 * `script=[:tostr "..."]`), the arguments of :execute and :parse, and the value given to a variable
 * that such text reads (`:local hook "..."` then `on-event=$hook`; one step of indirection).
 */
function codeRanges(skeleton: string, statements: readonly Statement[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const assigned: Array<{ name: string; range: [number, number] }> = [];
  const walk = (list: readonly Statement[]) => {
    for (const st of list) {
      const [first, second, third] = st.args;
      const last = st.args[st.args.length - 1]!;
      if (first && second && CODE_COMMANDS.has(first.text)) ranges.push([second.start, last.end]);
      if (first && second && third && SETTERS.has(first.text)) assigned.push({ name: second.text, range: [third.start, last.end] });
      for (const arg of st.args) {
        if (CODE_ARG.test(arg.text)) ranges.push([arg.start, arg.end]);
        for (const g of arg.groups) walk(g.statements);
      }
    }
  };
  walk(statements);
  const code = ranges.map(([s, e]) => skeleton.slice(s, e));
  for (const { name, range } of assigned) if (code.some((t) => t.includes(`$${name}`) || t.includes(`$"${name}"`))) ranges.push(range);
  return ranges;
}

/** Where each slot of the skeleton lands (string, code string, code or comment), by its offset; the last scan is kept. */
function contextsOf(compiled: CompiledTemplate, skeleton: string): Map<number, TemplateTagContext | 'code-string'> {
  if (compiled.lastScan?.skeleton === skeleton) return compiled.lastScan.contexts;
  const contexts = new Map<number, TemplateTagContext | 'code-string'>();
  const scan = scanScript(skeleton);
  const code = codeRanges(skeleton, scan.statements);
  const inCode = (at: number) => code.some(([s, e]) => at >= s && at < e);
  for (const t of scan.templateTags) contexts.set(t.offset, t.context === 'string' && inCode(t.offset) ? 'code-string' : t.context);
  compiled.lastScan = { skeleton, contexts };
  return contexts;
}

/** Walk Mustache's tokens: text as is, values as slots, sections kept when their value is truthy (Mustache's rule). */
function collect(tokens: readonly Token[], ctx: RenderContext, out: Array<TextPart | Slot>): void {
  for (const t of tokens) {
    const [type, value, start] = t;
    if (type === 'text') out.push({ text: value, at: start });
    else if (type === 'name' || type === '&') {
      const ref = parseRef(value);
      if (!ref) continue; // reported by compileTemplate
      const v = lookup(ctx, ref);
      out.push({ kind: ref.kind, name: ref.name, value: v === undefined || v === null ? '' : String(v), raw: type === '&', at: start });
    } else if (type === '#' || type === '^') {
      const ref = parseRef(value);
      const v = ref ? lookup(ctx, ref) : undefined;
      if (!!v === (type === '#') && t[4]) collect(t[4], ctx, out);
    }
  }
}

function lookup(ctx: RenderContext, ref: { kind: TemplateRef['kind']; name: string }): VarValue | undefined {
  if (ref.kind === 'vars') return ctx.vars[ref.name];
  if (ref.kind === 'secrets') return ctx.secrets[ref.name];
  return ref.name === 'name' ? ctx.site.name : ref.name === 'id' ? ctx.site.id : undefined;
}

function restoreEscapes(text: string): string {
  return text.includes(ESCAPE_SENTINEL) ? text.split(ESCAPE_SENTINEL).join(ESCAPED_OPEN) : text;
}

export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

export function position(starts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}
