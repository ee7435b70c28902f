// The SDX base URL as the client uses it: checked (http(s), plain http only to this machine), its
// credentials taken out, and what they were kept so every message can scrub them.
import { InputError } from '../core/errors.js';
import { isLoopbackHost } from '../core/api-url.js';

export interface BaseUrl {
  /** Without credentials. */
  url: URL;
  /** The path prefix every request path is appended to ('' for none). */
  prefix: string;
  /** The password (and user:password forms) the URL carried, to scrub from messages. */
  secrets: string[];
}

/** The base URL without credentials, its path prefix, and the secrets it carried (to scrub). */
export function parseBaseUrl(raw: string): BaseUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Say which part is wrong without repeating a value that may hold a password.
    throw new InputError({ file: '(settings)', message: 'the SDX base URL is not a valid URL', hint: 'use the form https://v1.api.altostrat.io' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError({
      file: '(settings)',
      message: `the SDX base URL must be http(s), got ${url.protocol}`,
      hint: 'use the form https://v1.api.altostrat.io',
    });
  }
  // The token never crosses a network in clear text (entry points check this first, naming the source).
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new InputError({
      file: '(settings)',
      message: 'the SDX base URL uses plain http to a host that is not this machine; the token would cross the network in clear text',
      hint: 'use https (plain http is accepted only for loopback addresses: 127.0.0.0/8, ::1, localhost)',
    });
  }
  const secrets: string[] = [];
  if (url.password) secrets.push(url.password, safeDecode(url.password), `${url.username}:${url.password}`);
  if (url.username && url.password) secrets.push(`${safeDecode(url.username)}:${safeDecode(url.password)}`);
  url.username = '';
  url.password = '';
  return { url, prefix: url.pathname.replace(/\/+$/, ''), secrets };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
