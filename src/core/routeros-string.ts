// RouterOS's string escapes, shared by template rendering (values inside strings) and the
// redactor (a secret is also hidden in the escaped form a job body carries).

/** Escape a value for the inside of a RouterOS double-quoted string: it stays text, whatever it holds. */
export function escapeRouterOsString(value: string): string {
  if (!/[\\"$\x00-\x1f\x7f]/.test(value)) return value;
  let out = '';
  for (const ch of value) {
    const c = ch.charCodeAt(0);
    if (ch === '\\' || ch === '"' || ch === '$') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}
