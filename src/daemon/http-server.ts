// The daemon's HTTP endpoints (only with --listen): GET /healthz, /metrics and /status. Read-only;
// nothing here changes the world.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../core/logger.js';

export interface Endpoints {
  /** 200 when ready, else 503; the body either way. */
  health(): { ready: boolean; body: object };
  /** Prometheus text exposition. */
  metrics(): string;
  /** Per-site status (read from the state store). */
  status(): Promise<object>;
}

export interface HttpServer {
  /** `http://host:port`, with the port actually bound (useful with port 0). */
  readonly url: string;
  /** Stop accepting, end idle connections, wait for answers in progress. */
  close(): Promise<void>;
}

/**
 * Serve the endpoints. Every body goes through `redact` (default: none) before it leaves: a run's
 * error text, a state read's failure or a site name may quote a secret.
 */
export async function startHttpServer(
  listen: { host: string; port: number },
  endpoints: Endpoints,
  logger: Logger,
  redact: (text: string) => string = (t) => t,
): Promise<HttpServer> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const send = (status: number, text: string, type: string) => {
      const body = redact(text);
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const json = (status: number, body: unknown) => send(status, `${JSON.stringify(body, null, 2)}\n`, 'application/json; charset=utf-8');
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return json(405, { error: `${req.method} is not allowed; the endpoints are read-only (GET)` });
    }
    switch (path) {
      case '/healthz': {
        const h = endpoints.health();
        return json(h.ready ? 200 : 503, h.body);
      }
      case '/metrics':
        return send(200, endpoints.metrics(), 'text/plain; version=0.0.4; charset=utf-8');
      case '/status':
        endpoints.status().then(
          (body) => json(200, body),
          (e: unknown) => {
            logger.warn({ err: (e as Error).message }, 'could not read the state for /status');
            json(500, { error: `could not read the applied state: ${(e as Error).message}` });
          },
        );
        return;
      default:
        return json(404, { error: `no endpoint ${path}; try /healthz, /metrics or /status` });
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Keep-alive connections with no request in flight would hold close() open.
        setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 1000).unref();
      }),
  };
}
