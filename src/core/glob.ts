// Glob patterns as GitHub's branch filters read them, for the Action's `apply-branches` and the
// `--site` option: `*` any run of characters within a path segment, `**` across `/`, `?` one
// character; everything else is itself. Site names have no `/`, so there `*` and `**` agree.

/** The pattern as an anchored regular expression. */
export function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Does the pattern hold a wildcard (else it names one thing exactly)? */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}
