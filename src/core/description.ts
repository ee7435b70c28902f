// X-Description: a template filled per change, always 3..100 characters, one line, printable
// ASCII (it travels as an HTTP header; other characters are transliterated or replaced by '?').

export const DESCRIPTION_MIN = 3;
export const DESCRIPTION_MAX = 100;
const PLACEHOLDERS = ['site', 'site_id', 'path', 'file', 'sha', 'subject'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];
/** The shortest each placeholder can be once filled (used to check a template can reach 3 characters). */
const MIN_FILLED: Record<Placeholder, number> = { site: 1, site_id: 36, path: 5, file: 5, sha: 7, subject: 0 };

export type DescriptionValues = Record<Placeholder, string>;

/** Problems with a template, in plain words (empty when it is fine). */
export function checkDescriptionTemplate(template: string): string[] {
  const problems: string[] = [];
  if (/[\r\n]/.test(template)) problems.push('the description template contains a line break, which cannot be sent in the X-Description header');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(template)) problems.push('the description template contains a control character');
  let literal = template;
  let minLen = 0;
  for (const m of template.matchAll(/\{([^{}]*)\}/g)) {
    const name = m[1]!;
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      problems.push(`unknown placeholder {${name}} in the description template; use ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`);
    } else minLen += MIN_FILLED[name as Placeholder];
    literal = literal.replace(m[0], '');
  }
  const literalLen = [...literal].length;
  if (literalLen > DESCRIPTION_MAX)
    problems.push(`the description template's fixed text is ${literalLen} characters; the SDX API takes at most ${DESCRIPTION_MAX}`);
  if (literalLen + minLen < DESCRIPTION_MIN)
    problems.push(`the description template can yield fewer than ${DESCRIPTION_MIN} characters; the SDX API needs at least ${DESCRIPTION_MIN}`);
  return problems;
}

/** Fill a (checked) template. The result is 3..100 printable ASCII characters on one line. */
export function renderDescription(template: string, values: DescriptionValues, redact?: (text: string) => string): string {
  const raw = template.replace(/\{([a-z_]+)\}/g, (all, name: string) =>
    (PLACEHOLDERS as readonly string[]).includes(name) ? values[name as Placeholder] : all,
  );
  // Secrets hidden before the cut: a cut inside one would leave its start to be sent and shown.
  const filled = redact ? redact(raw) : raw;
  let text = toHeaderSafe(filled).replace(/\s+/g, ' ').trim();
  if (text.length > DESCRIPTION_MAX) text = `${text.slice(0, DESCRIPTION_MAX - 1).trimEnd()}~`;
  while (text.length < DESCRIPTION_MIN) text += '.';
  return text;
}

/** Transliterate to printable ASCII: strip accents, replace what is left with '?'. */
export function toHeaderSafe(s: string): string {
  if (/^[ -~]*$/.test(s)) return s; // already printable ASCII: the common case
  return [...s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '')].map((ch) => (ch >= ' ' && ch <= '~' ? ch : /\s/.test(ch) ? ' ' : '?')).join('');
}
