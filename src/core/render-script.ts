// The three renderings of one templated script (issue 13), each with values escaped for where they
// land (core/template.ts):
//   - display: secrets as <secret:NAME>, safe to show (plans, diffs, the fingerprint);
//   - check:   secrets as inert stand-ins of the kind a value must be where it stands (a plain
//              word), which the script checks read, so a placeholder never trips a check and a
//              check never quotes a secret;
//   - body:    the real secret values, sent to SDX and nowhere else.
// A value that cannot stand where it is (not a plain word outside quotes, a line break in a
// comment) is a problem naming the value, the script and the site; variables are checked on the
// display rendering, secrets on the body (so a plan without the values cannot tell, and apply does).
import type { Problem } from './errors.js';
import type { VarValue } from './settings.js';
import { renderTemplate, secretPlaceholder, sourcePosition, type CompiledTemplate, type TemplateRef, type ValueProblem } from './template.js';

export interface ScriptRenderings {
  display: string;
  /** The check rendering (the display one when the script uses no secret). */
  checked: string;
  /** The job body, when every secret it needs is supplied. */
  body?: string;
  problems: Problem[];
  /** Raw (unescaped) values, for the raw-template-value check. */
  raw: TemplateRef[];
  /** Where a position of the check rendering is in the script's file (absent: the same place). */
  toSource?: (line: number, column: number) => { line: number; column: number };
}

export interface RenderScriptInput {
  text: string;
  tpl: CompiledTemplate;
  /** Repository path of the script, for problems. */
  path: string;
  site: { name: string; id: string; vars: Readonly<Record<string, VarValue>> };
  /** The secrets the script uses, sorted. */
  secrets: readonly string[];
  /** A secret's value; undefined when not supplied. */
  secretValue(name: string): string | undefined;
  /** Some secret is not supplied: there is no body. */
  missing: boolean;
}

/** The stand-in a secret takes in the check rendering: inert, and a plain word like any value outside quotes must be. */
export function secretStandIn(name: string): string {
  return `secret_${name}`;
}

export function renderScript(input: RenderScriptInput): ScriptRenderings {
  const { text, tpl, site } = input;
  if (!tpl.templated) return { display: text, checked: text, body: text, problems: [], raw: [] };
  const siteRef = { name: site.name, id: site.id };
  const render = (value: (n: string) => string) =>
    renderTemplate(text, tpl, { vars: site.vars, site: siteRef, secrets: Object.fromEntries(input.secrets.map((n) => [n, value(n)])) });
  const display = render(secretPlaceholder);
  const problems = display.problems.filter((p) => p.kind !== 'secrets').map((p) => valueProblem(p, input));
  let checkedRendering = display;
  let body: string | undefined = display.text;
  if (input.secrets.length) {
    checkedRendering = render(secretStandIn);
    body = undefined;
    if (!input.missing) {
      const real = render((n) => input.secretValue(n)!);
      problems.push(...real.problems.filter((p) => p.kind === 'secrets').map((p) => valueProblem(p, input)));
      body = real.text;
    }
  }
  const checked = checkedRendering.text;
  const toSource = (line: number, column: number) => sourcePosition(text, checkedRendering, line, column);
  return { display: display.text, checked, body, problems, raw: tpl.refs.filter((r) => r.raw), toSource };
}

function valueProblem(p: ValueProblem, input: RenderScriptInput): Problem {
  const tag = `${p.kind}.${p.name}`;
  // A variable's value is in the repository and may be quoted; a secret's never is.
  const shown = p.kind === 'secrets' ? '' : ` (${JSON.stringify(p.value.length > 40 ? `${p.value.slice(0, 40)}...` : p.value)})`;
  const base = { file: input.path, line: p.line, column: p.column, site: input.site.name };
  if (p.context === 'comment') {
    return {
      ...base,
      message: `the value of ${tag}${shown} stands in a # comment and holds a line break, a control character or a backslash, which could end the comment and run the rest as commands`,
      hint: `remove those characters from ${tag}, or move the tag into a "string", where the value is escaped`,
    };
  }
  if (p.context === 'code-string') {
    return {
      ...base,
      message: `the value of ${tag}${shown} stands in a string that RouterOS runs as a script (a scheduler's on-event, a script's source, an :execute or :parse argument) and is not a plain word (letters, digits and . - _ / : ,): once that string runs, the value would be read as commands`,
      hint: `keep ${tag} to a plain word there, or pass it through a :global set outside the script and read the global inside it`,
    };
  }
  return {
    ...base,
    message: `the value of ${tag}${shown} stands outside quotes and is not a plain word (letters, digits and . - _ / : ,): RouterOS would read what follows as commands`,
    hint: `put the tag inside double quotes (name="\${{ ${tag} }}"), where the value is escaped and stays text; if the value is meant to be RouterOS code, write \${{{ ${tag} }}} (raw, flagged by the script checks)`,
  };
}
