// One attempt's answer, collected straight from undici's dispatch handler callbacks (no
// AbortController, timer, stream or async iterator per request: at 32 requests in flight these cost
// more than the rest of the client), with one shared timer for every request's headers deadline and
// only the response headers the client reads decoded. The client's hot path: keep it lean.
import type { Dispatcher } from 'undici';

/** An answer as received: status, headers, the body's chunks (or tooLarge: the body was not read). */
export interface RawReply {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  chunks: Buffer[];
  bytes: number;
  tooLarge: boolean;
}

const monotonicNow = () => performance.now();

/**
 * The requests waiting for response headers, oldest first. Every request of a client has the same
 * timeout, so deadlines come in the order requests start: one timer, set for the oldest, serves them
 * all (a timer and an AbortController per request cost more than the rest of the client).
 */
export class HeadersDeadlines {
  private head: ReplyCollector | null = null;
  private tail: ReplyCollector | null = null;
  private timer: NodeJS.Timeout | null = null;

  /**
   * @param timeoutMs how long a request may wait for its response headers
   * @param now a monotonic clock in ms, read with the timers; default performance.now
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = monotonicNow,
  ) {}

  add(h: ReplyCollector): void {
    h.deadline = this.now() + this.timeoutMs;
    h.prev = this.tail;
    h.next = null;
    if (this.tail) this.tail.next = h;
    else this.head = h;
    this.tail = h;
    h.listed = true;
    if (this.timer === null) this.arm(h.deadline);
  }

  remove(h: ReplyCollector): void {
    if (!h.listed) return;
    h.listed = false;
    if (h.prev) h.prev.next = h.next;
    else this.head = h.next;
    if (h.next) h.next.prev = h.prev;
    else this.tail = h.prev;
    h.prev = h.next = null;
    // An idle client keeps no timer (it would hold the process open); otherwise the timer, set for
    // an earlier deadline, finds the new oldest when it fires.
    if (this.head === null && this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private arm(at: number): void {
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - this.now()));
  }

  private expire(): void {
    this.timer = null;
    const now = this.now();
    // Deadlines are in order; a request is due once its deadline is reached (within the timer's
    // millisecond rounding).
    while (this.head !== null && this.head.deadline <= now + 1) {
      const h = this.head;
      this.remove(h);
      h.timeOut(this.timeoutMs);
    }
    if (this.head !== null) this.arm(this.head.deadline);
  }
}

/** The only response headers the client reads; the others are not decoded at all. */
const READ_HEADERS = new Set(['content-type', 'content-length', 'retry-after', 'location']);
const READ_HEADER_LENGTHS = new Set([...READ_HEADERS].map((h) => h.length));

/** Those headers, as undici's parseHeaders would give them (lower-case names; repeated ones as arrays). */
function pickHeaders(raw: Buffer[]): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    if (!READ_HEADER_LENGTHS.has(key.length)) continue;
    const name = key.toString('latin1').toLowerCase();
    if (!READ_HEADERS.has(name)) continue;
    const value = raw[i + 1]!.toString('utf8');
    const had = out[name];
    out[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return out;
}

/** undici's dispatch handler for one attempt: collects the answer, enforcing the size limit. */
export class ReplyCollector implements Dispatcher.DispatchHandler {
  deadline = 0;
  prev: ReplyCollector | null = null;
  next: ReplyCollector | null = null;
  listed = false;
  private abort: ((err?: Error) => void) | null = null;
  private failure: Error | null = null;
  private settled = false;
  private statusCode = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly resolve: (r: RawReply) => void,
    private readonly reject: (e: unknown) => void,
    private readonly deadlines: HeadersDeadlines,
  ) {}

  /** Cut the request (the run is stopping). */
  cut(why: string): void {
    const e: Error & { code?: string } = new Error(why);
    e.code = 'UND_ERR_ABORTED';
    this.stop(e);
  }

  timeOut(ms: number): void {
    const e: Error & { code?: string } = new Error(`no response headers within ${ms} ms`);
    e.code = 'UND_ERR_HEADERS_TIMEOUT';
    this.stop(e);
  }

  /** End the request with `err` (now, or as soon as undici starts it). */
  private stop(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    if (this.abort) this.abort(err);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.failure) abort(this.failure);
    else this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true;
    this.deadlines.remove(this);
    this.statusCode = statusCode;
    this.headers = pickHeaders(rawHeaders);
    const declared = Number(this.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.maxBytes) {
      this.tooLarge();
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      this.tooLarge();
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    this.deadlines.remove(this);
    if (this.settled) return;
    this.settled = true;
    this.resolve({ statusCode: this.statusCode, headers: this.headers, chunks: this.chunks, bytes: this.bytes, tooLarge: false });
  }

  onError(err: Error): void {
    this.deadlines.remove(this);
    if (this.settled) return;
    this.settled = true;
    this.reject(this.failure ?? err);
  }

  /** The body is larger than the limit: answer so, and drop the connection rather than read it. */
  private tooLarge(): void {
    if (!this.settled) {
      this.settled = true;
      this.resolve({ statusCode: this.statusCode, headers: this.headers, chunks: [], bytes: this.bytes, tooLarge: true });
    }
    this.chunks = [];
    this.stop(new Error('response body larger than maxResponseBytes'));
  }
}
