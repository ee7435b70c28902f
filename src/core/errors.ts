// Named errors that keep the fields a person needs to act on them. Entry points map them to
// exit codes: InputError -> 2 (nothing was sent), SdxAccessError -> 3 (SDX unreachable or the token
// refused; nothing was sent), anything else -> 1.

/** One problem found in the user's input: the file, the line where there is one, and how to fix it. */
export interface Problem {
  /** Path relative to the repository root (or as given on the command line). */
  file: string;
  line?: number;
  column?: number;
  message: string;
  /** What to do about it, in plain words. */
  hint?: string;
  /** The site the problem belongs to, when there is one. */
  site?: string;
}

export function formatProblem(p: Problem): string {
  const where = p.file + (p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : '');
  const site = p.site ? ` (site ${p.site})` : '';
  return `${where}${site}: ${p.message}${p.hint ? `\n  hint: ${p.hint}` : ''}`;
}

/** The input, settings or command line are invalid. Exit code 2; nothing is sent. */
export class InputError extends Error {
  readonly problems: Problem[];
  /** What the problems amount to, in one line, when there is more to say than "the input is invalid" (a refused apply). */
  readonly headline?: string;
  constructor(problems: Problem[] | Problem | string, headline?: string) {
    const list: Problem[] = typeof problems === 'string' ? [{ file: '(command line)', message: problems }] : Array.isArray(problems) ? problems : [problems];
    super(list.map(formatProblem).join('\n'));
    this.name = 'InputError';
    this.problems = list;
    if (headline) this.headline = headline;
  }
}

/** An answer from the SDX API that is not a success. Keeps status, code and message. */
export class SdxApiError extends Error {
  /** The API base URL (no credentials) of a network error: the server could not be reached. */
  readonly apiUrl: string | undefined;

  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly type: string | undefined,
    /** true when retrying the same request may succeed (network error, 429, 5xx). */
    readonly retryable: boolean,
    options?: { cause?: unknown; apiUrl?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SdxApiError';
    this.apiUrl = options?.apiUrl;
  }
}

/** Why SDX cannot be used at all, found by the one request made before anything is sent. */
export type SdxAccessKind = 'unreachable' | 'token-refused' | 'not-sdx' | 'server-error';

/**
 * SDX could not be used: the server could not be reached (connection refused, DNS, timeout, TLS),
 * refused the token (401, 403), is not the SDX API (404, not JSON), or kept failing (5xx). Found
 * before anything was sent. Exit code 3.
 */
export class SdxAccessError extends Error {
  constructor(
    message: string,
    readonly kind: SdxAccessKind,
    /** The API base URL, without credentials. */
    readonly apiUrl: string,
    /** What to do about it. */
    readonly hint: string,
    /** The HTTP status, or 0 when there was no answer. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'SdxAccessError';
  }
}

/** A git command failed. `command` never includes credentials (see redact.ts). */
export class GitError extends Error {
  constructor(
    message: string,
    readonly command: string,
    readonly exitCode: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GitError';
  }
}

/** Another writer moved the state while we were writing it, more times than we retry. */
export class StateConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateConflictError';
  }
}
