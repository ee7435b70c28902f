// What RouterOS makes of script text, for tests that check what a router would receive.

/** The content of a double-quoted string as RouterOS reads it: the escapes of its scripting manual. */
export function unescapeRouterOs(s: string): string {
  return s.replace(/\\([0-9A-F]{2}|[\s\S])/g, (_m, e: string) => {
    if (e.length === 2) return String.fromCharCode(Number.parseInt(e, 16));
    return ({ n: '\n', r: '\r', t: '\t', _: ' ', a: '\x07', b: '\b', f: '\f', v: '\v' } as Record<string, string>)[e] ?? e;
  });
}

/** Values a committer or an operator could mean harm with, or simply have. */
export const HOSTILE_VALUES = [
  'Pa$word',
  'say "hi"',
  'back\\slash',
  'semi;colon',
  'two\nlines',
  'cr\rlf\r\n',
  'tab\there',
  '[/system reset-configuration]',
  '"; /system reset-configuration; :put "',
  '$[/system reset-configuration]',
  '$(/system reset-configuration)',
  'end\\',
  '\u0001\u001f\u007f',
  'ünïcødé ✓',
  '${{ vars.other }}',
];
