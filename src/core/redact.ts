// The one redactor. Every output of every entry point (CLI output and errors, logs, the daemon's
// HTTP endpoints, the Action's outputs, summary, comments and statuses, git's error messages, SDX
// errors, free text kept in the state) goes through a Redact built here, and every hidden value
// becomes the same marker, REDACTED. A redactor knows:
//   - the secret values it was given (tokens, template secrets), in their literal, URL-encoded,
//     JSON-escaped and RouterOS-escaped forms (a library or a server may print any of them);
//   - credentials that need no list: `user:password@` in a URL, the value of an Authorization
//     header (`http.extraheader=AUTHORIZATION: basic ...`, as actions/checkout sets it).
// Values shorter than MIN_SECRET_LENGTH cannot be scrubbed reliably (a 2-character value would
// blank half of every output): secret-source.ts refuses them at load.

import { escapeRouterOsString } from './routeros-string.js';

export type Redact = (text: string) => string;

/** What every hidden value is replaced with, everywhere. */
export const REDACTED = '***';

/** The shortest secret value a redactor can hide without mangling unrelated text. */
export const MIN_SECRET_LENGTH = 4;

// scheme://userinfo@host: the userinfo runs to the last '@' before the path, so a password that
// itself contains '@' is hidden whole.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*(?:@[^\s/?#@]*)*@/gi;
// `http.extraheader=AUTHORIZATION: basic <token>` and the like.
const AUTH_HEADER = /\b(authorization:\s*(?:basic|bearer|token)\s+)[^\s'"]+/gi;

/** Hide `user:password@` in every URL of `text` and the value of any Authorization header. */
export function redactCredentials(text: string): string {
  // The patterns are costly on long text: run each only where it could match.
  let out = text;
  if (out.includes('://') && out.includes('@')) out = out.replace(URL_USERINFO, `$1${REDACTED}@`);
  if (/authorization/i.test(out)) out = out.replace(AUTH_HEADER, `$1${REDACTED}`);
  return out;
}

/**
 * Remove `user:password@` from a URL, leaving no marker. Not a redactor for output: used where a
 * URL names a thing (a remote's identity must not change with its credentials).
 */
export function stripUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, '$1');
}

/** Build a redactor for these secret values (undefined and too short values are ignored). */
export function makeRedactor(secrets: Iterable<string | undefined>): Redact {
  const forms = new Set<string>();
  for (const v of secrets) {
    if (typeof v !== 'string' || v.length < MIN_SECRET_LENGTH) continue;
    // As is, and as a job body carries it inside a RouterOS string (a server may quote the body back);
    // each also URL-encoded and JSON-escaped.
    for (const base of [v, escapeRouterOsString(v)]) {
      forms.add(base);
      forms.add(encodeURIComponent(base));
      forms.add(JSON.stringify(base).slice(1, -1));
    }
  }
  // Longest first, so a secret containing another is hidden whole.
  const list = [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = redactCredentials(text);
    for (const v of list) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  };
}

/** Names of environment variables whose values are secrets, wherever they are set. */
const SECRET_ENV =
  /^(SDX_API_TOKEN|GITHUB_TOKEN|GH_TOKEN|INPUT_SDX-API-TOKEN|INPUT_GITHUB-TOKEN|RGO_SECRETS_KEY|ACTIONS_RUNTIME_TOKEN|ACTIONS_ID_TOKEN_REQUEST_TOKEN)$/;

/** A template secret's variable (RGO_SECRET_*, not the digest key RGO_SECRETS_KEY). */
function isTemplateSecretName(name: string): boolean {
  return name.startsWith('RGO_SECRET_') && name !== 'RGO_SECRETS_KEY';
}

/** Is this environment variable's value a secret (a token, a template secret, the digest key)? */
export function isSecretEnvName(name: string): boolean {
  return SECRET_ENV.test(name) || name.startsWith('RGO_SECRET_');
}

/** Values in the environment that must never be printed: tokens, template secrets, URL passwords. */
export function envSecrets(env: Readonly<Record<string, string | undefined>>, opts: { templates?: boolean } = {}): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (!v) continue;
    if (isSecretEnvName(k) && (opts.templates !== false || !isTemplateSecretName(k))) out.push(v);
    // A password inside a URL (SDX_API_URL=https://user:pass@host).
    if (/_URL$/.test(k)) {
      try {
        const u = new URL(v);
        if (u.password) out.push(safeDecode(u.password), u.password);
      } catch {
        /* not a URL */
      }
    }
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
