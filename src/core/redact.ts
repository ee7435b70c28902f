// Secrets never appear in any output: every stream an entry point writes to goes through a
// redactor that knows the token(s), the secret values and credentials embedded in URLs.

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]+)(?::[^/\s@]*)?@/gi;

export type Redact = (text: string) => string;

/** Build a redactor for these secret values (empty and very short values are ignored). */
export function makeRedactor(secrets: Iterable<string | undefined>): Redact {
  const values = [...new Set([...secrets].filter((s): s is string => typeof s === 'string' && s.length >= 4))].sort((a, b) => b.length - a.length);
  // Also catch the URL-encoded and JSON-escaped forms a library might print.
  const forms = new Set<string>();
  for (const v of values) {
    forms.add(v);
    forms.add(encodeURIComponent(v));
    forms.add(JSON.stringify(v).slice(1, -1));
  }
  const list = [...forms].filter((f) => f.length >= 4).sort((a, b) => b.length - a.length);
  return (text: string) => {
    // The credentials pattern is costly on long text: run it only where a URL with a user could be.
    let out = text.includes('@') && text.includes('://') ? text.replace(URL_CREDENTIALS, '$1***@') : text;
    for (const v of list) if (out.includes(v)) out = out.split(v).join('***');
    return out;
  };
}

/** Remove user:password@ from a URL for display. */
export function redactUrl(url: string): string {
  return url.replace(URL_CREDENTIALS, '$1');
}

/** Values in the environment that must never be printed: tokens, template secrets, URL passwords. */
export function envSecrets(env: Readonly<Record<string, string | undefined>>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (!v) continue;
    if (
      /^(SDX_API_TOKEN|GITHUB_TOKEN|GH_TOKEN|INPUT_SDX-API-TOKEN|INPUT_GITHUB-TOKEN|RGO_SECRETS_KEY|ACTIONS_RUNTIME_TOKEN|ACTIONS_ID_TOKEN_REQUEST_TOKEN)$/.test(
        k,
      ) ||
      k.startsWith('RGO_SECRET_')
    )
      out.push(v);
    // A password inside a URL (SDX_API_URL=https://user:pass@host).
    if (/_URL$/.test(k)) {
      try {
        const u = new URL(v);
        if (u.password) out.push(decodeURIComponent(u.password), u.password);
      } catch {
        /* not a URL */
      }
    }
  }
  return out;
}
