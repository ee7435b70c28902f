// Helpers for the SDX tests: an independent OpenAPI validator (openapi-backend + ajv-formats) over
// spec/sdx-api.openapi.yaml, a logger that records NDJSON lines, a raw HTTP server for answers the
// sandbox never gives (redirects, huge or broken bodies), and polling.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { OpenAPIBackend, type Document } from 'openapi-backend';
import addFormatsModule from 'ajv-formats';
import YAML from 'yaml';
import type { Logger } from '../../src/core/logger.js';
import type { SandboxRequest } from '../../src/sandbox/sandbox.js';

export const SITE_A = '9a9a3e6f-1b1a-4b1a-8c1a-1e1a1a1a1a1a';
export const SITE_B = '3b0c8f4e-7d2a-4e6b-9c1d-2f3a4b5c6d7e';
export const SITE_OFF = '5e5e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f';
export const SITE_UNKNOWN = '0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f';

const SPEC = fileURLToPath(new URL('../../spec/sdx-api.openapi.yaml', import.meta.url));

type AddFormats = (ajv: unknown) => unknown;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

export interface SpecValidator {
  /** Problems with one request ([] when it matches the spec). */
  check(req: SandboxRequest): string[];
  /** Problems with one response body. */
  checkResponse(method: string, path: string, status: number, body: unknown): string[];
  /** Give to the sandbox's inspectRequest: records every problem in `violations`. */
  inspect: (req: SandboxRequest) => void;
  readonly violations: string[];
  /** How many requests `inspect` saw. */
  readonly seen: () => number;
}

/**
 * openapi-backend checks path, header and JSON-body parameters; it does not check the request's
 * media type nor a non-JSON body (required, maxLength), nor the security scheme, so those are
 * checked here from the same document.
 */
export async function createSpecValidator(): Promise<SpecValidator> {
  const definition = YAML.parse(readFileSync(SPEC, 'utf8')) as Document;
  // The seed's POST has no operationId (it is copied verbatim); openapi-backend needs one.
  for (const [p, item] of Object.entries(definition.paths ?? {})) {
    for (const [m, op] of Object.entries(item as Record<string, { operationId?: string }>)) {
      if (op && typeof op === 'object' && !op.operationId) op.operationId = `${m} ${p}`;
    }
  }
  const api = new OpenAPIBackend({
    definition,
    strict: true,
    validate: true,
    customizeAjv: (ajv) => {
      addFormats(ajv);
      return ajv;
    },
  });
  await api.init();
  const violations: string[] = [];
  let seen = 0;

  function check(req: SandboxRequest): string[] {
    const where = `${req.method} ${req.path}`;
    const request = {
      method: req.method.toLowerCase(),
      path: req.path,
      headers: req.headers as Record<string, string | string[]>,
      query: req.query,
      body: req.body,
    };
    const op = api.matchOperation(request);
    if (!op) return [`${where}: no such operation in the spec`];
    const problems: string[] = [];
    const v = api.validateRequest(request, op);
    for (const e of v.errors ?? []) problems.push(`${where}: ${e.instancePath || '(request)'} ${e.message}`);
    const rb = op.requestBody as { required?: boolean; content?: Record<string, unknown> } | undefined;
    if (rb) {
      const ct = String(req.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();
      if (!Object.keys(rb.content ?? {}).includes(ct))
        problems.push(`${where}: content type ${JSON.stringify(ct)} is not one of ${Object.keys(rb.content ?? {}).join(', ')}`);
      if (rb.required && req.body.length === 0) problems.push(`${where}: the request body is required`);
      // A string schema's maxLength counts code points (JSON Schema), as the API counts characters.
      const max = (rb.content?.[ct] as { schema?: { maxLength?: number } } | undefined)?.schema?.maxLength;
      if (max !== undefined && [...req.body].length > max) problems.push(`${where}: the request body is longer than ${max} characters`);
    } else if (req.body.length > 0) {
      problems.push(`${where}: the operation takes no body`);
    }
    if (!/^Bearer \S+$/.test(String(req.headers.authorization ?? ''))) problems.push(`${where}: no Authorization: Bearer header`);
    return problems;
  }

  function checkResponse(method: string, path: string, status: number, body: unknown): string[] {
    const op = api.matchOperation({ method: method.toLowerCase(), path, headers: {} });
    if (!op) return [`${method} ${path}: no such operation in the spec`];
    const r = api.validateResponse(body, op, status);
    return (r.errors ?? []).map((e) => `${method} ${path} -> ${status}: ${e.instancePath || '(body)'} ${e.message}`);
  }

  return {
    check,
    checkResponse,
    inspect: (req) => {
      seen++;
      violations.push(...check(req));
    },
    violations,
    seen: () => seen,
  };
}

export interface CapturedLogger extends Logger {
  /** One JSON line per call, as a pino destination would receive them. */
  readonly lines: string[];
  text(): string;
}

export function captureLogger(): CapturedLogger {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push(JSON.stringify({ level, ...obj, ...(msg !== undefined && { msg }) }));
    };
  const logger: CapturedLogger = {
    lines,
    text: () => lines.join('\n'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return logger;
}

export async function waitFor<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface RawServer {
  url: string;
  /** Requests received: method, url, headers. */
  readonly received: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

/** A loopback server whose every answer the test writes by hand. */
export async function startRawServer(handler: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void): Promise<RawServer> {
  const received: RawServer['received'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      handler(req, res, received.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A complete, valid Job body for raw servers. */
export function sampleJob(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: '8b8b2e5e-1a19-4a19-8b19-1e1919191919',
    token: '2jP5kLqWnZ',
    site_id: SITE_A,
    idempotency_key: '7c7c1e4e-1918-4918-8a18-1e1818181818',
    description: 'sample job',
    express_execute: false,
    needs_acknowledgement: true,
    should_backup: false,
    associated_backup: null,
    started_at: null,
    completed_at: null,
    failed_at: null,
    created_at: '2025-10-29T12:00:00Z',
    log_url: 'logs?group=sites&streams=x&filter={$.message=*2jP5kLqWnZ*}',
    script: '/system identity print',
    ...overrides,
  };
}
