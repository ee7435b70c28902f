// The sandbox's answers as data (status, body, headers), built by the routes and written by the
// HTTP server; and the API's error bodies (ErrorResponse in the seed spec).

export interface Answer {
  status: number;
  body?: unknown;
  /** Raw body with its content type, instead of JSON. */
  raw?: { contentType: string; text: string };
  headers?: Record<string, string>;
}

const DOC = 'https://docs.altostrat.io/errors/';

export function errorBody(type: string, code: string, message: string) {
  return { type, code, message, doc_url: `${DOC}${code}` };
}

export const invalid = (code: 'parameter_missing' | 'parameter_invalid', message: string): Answer => ({
  status: 400,
  body: errorBody('invalid_request_error', code, message),
});

export const notFound = (message: string): Answer => ({ status: 404, body: errorBody('invalid_request_error', 'not_found', message) });

export const methodNotAllowed = (method: string, allow: string): Answer => ({
  status: 405,
  body: { message: `The ${method} method is not supported for this route.` },
  headers: { allow },
});

/** A header's value as one string (repeated headers joined), or undefined when absent. */
export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** A path segment, percent-decoded (as given when it does not decode). */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
