// How a failure to talk to SDX is said to people. Pure: every entry (and the executor's reports)
// words a network error the same way, from the Node/undici error code the SDX client keeps.
import { SdxApiError } from './errors.js';

/** Codes after which a request certainly never reached the server: it cannot be reached at all. */
export const CANNOT_CONNECT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT']);

/** TLS failures (a certificate that does not verify, a plain-http server on an https URL, ...). */
export function isTlsCode(code: string): boolean {
  return (
    /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|ERR_OSSL_)/.test(code) ||
    /_CERT(_|$)|CERT_/.test(code) ||
    code === 'EPROTO' ||
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    code === 'HOSTNAME_MISMATCH'
  );
}

/** A network error code in words: "connection refused", "DNS lookup failed", "TLS error (...)". */
export function networkCause(code: string | undefined): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
      return 'DNS lookup failed: no such host';
    case 'EAI_AGAIN':
      return 'DNS lookup failed (temporary failure)';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connection timed out';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'no answer in time';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
    case 'UND_ERR_SOCKET':
      return 'the connection was closed';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENETDOWN':
      return 'host unreachable';
    default:
      if (code && isTlsCode(code)) return `TLS error: ${code}`;
      return code ? `network error ${code}` : 'network error';
  }
}

/** A request that got no answer from SDX at all (a network error, not an HTTP status); not a stop. */
export function isNetworkFailure(e: unknown): e is SdxApiError {
  return e instanceof SdxApiError && e.status === 0 && e.type === 'network_error';
}
