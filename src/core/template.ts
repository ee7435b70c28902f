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
import Mustache from 'mustache';
import type { VarValue } from './settings.js';

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
  /** The source with escapes protected, ready for Mustache (undefined when not templated). */
  prepared?: string;
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
  return { templated: true, refs, problems, prepared };
}

function parseRef(value: string): { kind: TemplateRef['kind']; name: string } | undefined {
  const m = /^(vars|secrets|site)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(value.trim());
  if (!m) return undefined;
  const kind = m[1] as TemplateRef['kind'];
  if (kind === 'site' && m[2] !== 'name' && m[2] !== 'id') return undefined;
  return { kind, name: m[2]! };
}

export interface RenderContext {
  vars: Readonly<Record<string, VarValue>>;
  site: { name: string; id: string };
  /** Secret values (for the job body) or placeholders (for everything else), by name. */
  secrets: Readonly<Record<string, string>>;
}

/** Render a compiled template. Callers check refs against the context first (see model.ts). */
export function renderTemplate(source: string, compiled: CompiledTemplate, ctx: RenderContext): string {
  if (!compiled.templated || !compiled.prepared) return source;
  const view = { vars: ctx.vars, secrets: ctx.secrets, site: ctx.site };
  const out = Mustache.render(compiled.prepared, view, {}, { tags: TAGS, escape: (s: unknown) => String(s) });
  return out.split(ESCAPE_SENTINEL).join(ESCAPED_OPEN);
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
