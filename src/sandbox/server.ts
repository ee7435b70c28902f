// The sandbox's HTTP side: read a request, pass the admin ones through, and put every API request
// through the same steps as the real service would (inspection, latency, authentication, rate
// limit, an injected fault), then route it, answer, and record what was answered.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/logger.js';
import { type Answer, errorBody, header, invalid } from './answers.js';
import type { FaultInjector } from './faults.js';
import { type FaultKind, SANDBOX_DEFAULTS, type SandboxRequest } from './options.js';
import type { TokenRateLimit } from './rate-limit.js';
import { type RequestLog, bump, requestRecord } from './request-log.js';
import type { SandboxSettings } from './settings.js';

const MAX_BODY_BYTES = 5 * 1024 * 1024;

/** What the server hands requests to. */
export interface ServerContext {
  readonly tokens: readonly string[];
  readonly settings: SandboxSettings;
  readonly log: RequestLog;
  readonly rateLimit: TokenRateLimit;
  readonly faults: FaultInjector;
  readonly logger: Logger;
  readonly inspectRequest?: (req: SandboxRequest) => void;
  /** An API request that passed every check. */
  route(method: string, path: string, headers: http.IncomingHttpHeaders, body: string): Answer;
  /** A request under /_sandbox/. */
  admin(method: string, url: URL, body: string): Answer;
}

/** Start listening; resolves with the server and its base URL. */
export async function listen(ctx: ServerContext, host: string, port: number): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    handle(ctx, req, res).catch((err: unknown) => {
      ctx.logger.error({ err: String(err) }, 'sandbox handler failed');
      if (!res.headersSent) send(res, { status: 500, body: errorBody('api_error', 'internal_server_error', 'sandbox handler failed') });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { server, url: `http://${hostForUrl}:${address.port}` };
}

async function handle(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const method = (req.method ?? 'GET').toUpperCase();
  const body = await readBody(req);
  if (url.pathname.startsWith('/_sandbox/')) return send(res, ctx.admin(method, url, body.text));

  const path = url.pathname;
  const key = header(req.headers, 'x-idempotency-key');
  // ctx.log.stats is read at each use: a reset while this request waits starts new counters.
  ctx.log.stats.requests++;
  if (method === 'POST' && /^\/site\/[^/]+\/job\/?$/.test(path)) ctx.log.stats.posts++;
  const record = (status: number | 'reset', fault?: FaultKind) => ctx.log.record(requestRecord(method, path, status, key, fault));
  const answer = (a: Answer, fault?: FaultKind) => {
    record(a.status, fault);
    send(res, a);
  };

  ctx.inspectRequest?.({ method, path, query: Object.fromEntries(url.searchParams), headers: { ...req.headers }, body: body.text });
  if (ctx.settings.latencyMs > 0) await sleep(ctx.settings.latencyMs);

  const auth = /^Bearer\s+(\S+)\s*$/i.exec(header(req.headers, 'authorization') ?? '');
  if (!auth || !ctx.tokens.includes(auth[1]!)) return answer({ status: 401, body: { message: 'Unauthenticated.' } });

  const limited = ctx.rateLimit.check(auth[1]!);
  if (limited) {
    ctx.log.stats.rateLimited++;
    return answer(limited);
  }

  const fault = ctx.faults.draw(method);
  if (fault) {
    bump(ctx.log.stats.faults, fault);
    const canned = ctx.faults.answer(fault);
    if (canned) return answer(canned, fault);
    if (fault === 'resetBefore') {
      record('reset', fault);
      return resetSocket(req.socket);
    }
    if (fault === 'stall') await sleep(ctx.settings.faults?.stallMs ?? SANDBOX_DEFAULTS.faultStallMs);
  }

  if (body.tooLarge) return answer(invalid('parameter_invalid', `The request body is larger than ${MAX_BODY_BYTES} bytes.`), fault);
  const a = ctx.route(method, path, req.headers, body.text);
  if (fault === 'lostAfter') {
    // The work is done (a POST created its job); only the answer is lost.
    record('reset', fault);
    return resetSocket(req.socket);
  }
  return answer(a, fault);
}

function resetSocket(socket: Socket): void {
  // An RST (ECONNRESET at the client), like a proxy dropping the connection.
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

async function readBody(req: http.IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    bytes += b.length;
    if (bytes > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(b);
  }
  return { text: tooLarge ? '' : Buffer.concat(chunks).toString('utf8'), tooLarge };
}

function send(res: http.ServerResponse, a: Answer): void {
  const headers: Record<string, string> = { ...a.headers };
  let payload: string | undefined;
  if (a.raw) {
    headers['content-type'] = a.raw.contentType;
    payload = a.raw.text;
  } else if (a.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(a.body);
  }
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(a.status, headers);
  res.end(payload);
}
