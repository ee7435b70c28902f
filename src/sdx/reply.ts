// What the client makes of an answer: the body decoded (JSON when it says or looks so), and the
// SdxApiError for every way an answer can be wrong (an error status, a redirect, a body too large,
// a body of the wrong shape). Every message names the request and the host, and is scrubbed of the
// token and the base URL's password.
import { SdxApiError } from '../core/errors.js';
import type { Redact } from '../core/redact.js';
import type { RawReply } from './reply-collector.js';
import { parseErrorBody, type ShapeResult } from './response-shapes.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  bytes: number;
  /** Parsed JSON, or undefined when the body is empty or not JSON (see `jsonError`). */
  json: unknown;
  jsonError?: string;
  /** true when an earlier attempt of this exchange may have reached the server (its answer was lost). */
  earlierAttemptMayHaveLanded: boolean;
}

const ERROR_TEXT_MAX = 300;

/** The answer's text and JSON (a body that is not valid JSON says why in jsonError). The body must have been read (not tooLarge). */
export function decodeReply(res: RawReply, earlierAttemptMayHaveLanded: boolean): Reply {
  const declared = Number(res.headers['content-length']);
  const bytes = res.bytes;
  const text = res.chunks.length === 1 ? res.chunks[0]!.toString('utf8') : Buffer.concat(res.chunks).toString('utf8');
  const contentType = String(res.headers['content-type'] ?? '');
  const reply: Reply = { status: res.statusCode, headers: res.headers, text, bytes, json: undefined, earlierAttemptMayHaveLanded };
  const trimmed = text.trimStart();
  if (/json/i.test(contentType) || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    if (trimmed === '') {
      if (/json/i.test(contentType)) reply.jsonError = 'empty body';
    } else {
      try {
        reply.json = JSON.parse(text);
      } catch (e) {
        reply.jsonError = `${(e as Error).message}${declared > bytes ? ', truncated' : ''}`;
      }
    }
  }
  return reply;
}

/** An idempotency conflict: 409, or a 400/422 whose error says the key is in use. */
export function isConflict(reply: Reply): boolean {
  if (reply.status === 409) return true;
  if (reply.status !== 400 && reply.status !== 422) return false;
  const body = reply.json === undefined ? undefined : parseErrorBody(reply.json);
  return /idempot|conflict|duplicate|already.?(exists|used)/i.test(`${body?.code ?? ''} ${body?.message ?? ''}`);
}

export function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** One line of at most ERROR_TEXT_MAX characters. Redact before clipping: a cut inside a secret would leave its start unhidden. */
function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > ERROR_TEXT_MAX ? `${one.slice(0, ERROR_TEXT_MAX)}...` : one;
}

/** Builds the client's errors, scrubbed, naming the API host. */
export class SdxErrors {
  /**
   * @param redact scrubs the token and the base URL's secrets
   * @param baseUrl the API root (redirect targets are described against it)
   */
  constructor(
    private readonly redact: Redact,
    private readonly baseUrl: URL,
  ) {}

  get host(): string {
    return this.baseUrl.host;
  }

  /** The API base URL as shown: no credentials, no trailing slash. */
  get apiUrl(): string {
    return this.baseUrl.toString().replace(/\/+$/, '');
  }

  fail(what: string, status: number, code: string | undefined, type: string | undefined, retryable: boolean, cause?: unknown): SdxApiError {
    // A network error names the server that could not be reached, for reports that say so.
    const apiUrl = status === 0 && type === 'network_error' ? this.apiUrl : undefined;
    return new SdxApiError(this.redact(what), status, code, type, retryable, { cause, apiUrl });
  }

  /** A plain copy of an undici/network error: message scrubbed, only the code kept. */
  network(err: unknown): Error & { code?: string } {
    const e = err as { message?: unknown; code?: unknown; name?: unknown };
    const copy: Error & { code?: string } = new Error(this.redact(String(e?.message ?? err)));
    copy.name = typeof e?.name === 'string' ? e.name : 'Error';
    if (typeof e?.code === 'string') copy.code = e.code;
    return copy;
  }

  tooLarge(res: RawReply, where: string, maxResponseBytes: number): SdxApiError {
    return this.fail(
      `${where}: HTTP ${res.statusCode} from ${this.host}: response body larger than ${maxResponseBytes} bytes (maxResponseBytes); not read`,
      res.statusCode,
      'response_too_large',
      undefined,
      false,
    );
  }

  redirect(reply: Reply, where: string): SdxApiError {
    let target = 'no Location header';
    const loc = first(reply.headers.location);
    if (loc) {
      try {
        const u = new URL(loc, this.baseUrl);
        target = u.host === this.host ? `to ${u.pathname} on the same host` : `to another host, ${u.host}`;
      } catch {
        target = 'to an unparsable Location';
      }
    }
    return this.fail(
      `${where}: HTTP ${reply.status} redirect from ${this.host} ${target}; redirects are not followed (check the SDX base URL)`,
      reply.status,
      'redirect',
      undefined,
      false,
    );
  }

  /** The SdxApiError for a non-success answer, from ErrorResponse, the gateway's {message}, or anything else. */
  reply(reply: Reply, where: string): SdxApiError {
    const retryable = reply.status === 429 || reply.status >= 500;
    const body = reply.json === undefined ? undefined : parseErrorBody(reply.json);
    const contentType = first(reply.headers['content-type']);
    let detail: string;
    if (body) {
      detail = `HTTP ${reply.status}${body.code ? ` ${body.code}` : ''}: ${clip(this.redact(body.message ?? '(no message)'))}`;
    } else if (reply.text.trim() === '') {
      detail = `HTTP ${reply.status} from ${this.host} (empty body)`;
    } else if (reply.jsonError !== undefined || reply.json !== undefined) {
      detail = `HTTP ${reply.status} from ${this.host} (JSON without a message${reply.jsonError ? `: ${reply.jsonError}` : ''})`;
    } else {
      detail = `HTTP ${reply.status} from ${this.host} (not JSON${contentType ? `, ${contentType.split(';')[0]}` : ''})`;
    }
    if (reply.status === 401) detail += ' - the SDX API token was refused: check it is valid and not expired';
    if (reply.status === 403) detail += ' - the SDX API token may not act on this site';
    return this.fail(`${where}: ${detail}`, reply.status, body?.code, body?.type, retryable);
  }

  shape(reply: Reply, where: string, problem: string, extra = ''): SdxApiError {
    return this.fail(
      `${where}: HTTP ${reply.status} from ${this.host}: unexpected response, ${clip(this.redact(problem))}${extra}`,
      reply.status,
      'malformed_response',
      undefined,
      false,
    );
  }

  /** The body as `parse` reads it, or the error that says why it cannot be. */
  decode<T>(reply: Reply, where: string, parse: (v: unknown) => ShapeResult<T>, extra = ''): T {
    if (reply.json === undefined) {
      const why =
        reply.jsonError !== undefined
          ? `body is not valid JSON (${reply.jsonError}, ${reply.bytes} bytes)`
          : `body is not JSON (${first(reply.headers['content-type']) ?? 'no content type'}, ${reply.bytes} bytes)`;
      throw this.shape(reply, where, why, extra);
    }
    const parsed = parse(reply.json);
    if (!parsed.ok) throw this.shape(reply, where, parsed.problem, extra);
    return parsed.value;
  }
}
