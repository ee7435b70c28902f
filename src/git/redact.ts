// Credentials must never reach a message, a log line or an error's `command`: git echoes remote
// URLs (with their `user:token@`) in its errors, and CI systems put tokens in remote URLs.

// scheme://userinfo@host: the userinfo runs to the last '@' before the path, so a password that
// itself contains '@' is removed whole.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*(?:@[^\s/?#@]*)*@/gi;
// `http.extraheader=AUTHORIZATION: basic <token>` (actions/checkout sets it) and the like.
const AUTH_HEADER = /\b(authorization:\s*(?:basic|bearer|token)\s+)[^\s'"]+/gi;

/** Remove `user:password@` from every URL in `text` and the value of any Authorization header. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, '$1').replace(AUTH_HEADER, '$1***');
}
