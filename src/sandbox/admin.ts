// The admin endpoints under /_sandbox/, for a sandbox in another process (the `sandbox` CLI
// command): read jobs, stats and requests, reset, and take a site's router on or off line.
import { UUID_RE } from '../core/keys.js';
import { type Answer, decodeSegment } from './answers.js';
import type { Routers } from './routers.js';
import type { Sandbox } from './types.js';

const ENDPOINTS = 'GET /_sandbox/jobs, GET /_sandbox/stats, GET /_sandbox/requests, POST /_sandbox/reset, POST /_sandbox/sites/{id}';

export function routeAdmin(sandbox: Sandbox, routers: Routers, method: string, url: URL, body: string): Answer {
  const path = url.pathname;
  if (method === 'GET' && path === '/_sandbox/jobs') {
    const site = url.searchParams.get('site') ?? undefined;
    return { status: 200, body: { jobs: sandbox.jobs(site) } };
  }
  if (method === 'GET' && path === '/_sandbox/stats') return { status: 200, body: { ...sandbox.stats(), createdCounts: sandbox.createdCounts() } };
  if (method === 'GET' && path === '/_sandbox/requests') return { status: 200, body: { requests: sandbox.requests() } };
  if (method === 'POST' && path === '/_sandbox/reset') {
    sandbox.reset();
    return { status: 204 };
  }
  const m = /^\/_sandbox\/sites\/([^/]+)$/.exec(path);
  if (m && method === 'POST') return patchSite(routers, decodeSegment(m[1]!), body);
  return { status: 404, body: { message: `unknown sandbox admin endpoint (${ENDPOINTS})` } };
}

/** POST /_sandbox/sites/{id} with {"online": bool}: the site is created when unknown. */
function patchSite(routers: Routers, siteId: string, body: string): Answer {
  let patch: unknown;
  try {
    patch = body.trim() ? JSON.parse(body) : {};
  } catch {
    return { status: 400, body: { message: 'body must be JSON like {"online": false}' } };
  }
  const online = (patch as { online?: unknown }).online;
  if (online !== undefined && typeof online !== 'boolean') return { status: 400, body: { message: 'online must be true or false' } };
  if (!UUID_RE.test(siteId)) return { status: 400, body: { message: 'site id must be a UUID' } };
  const s = routers.find(siteId) ?? routers.add({ id: siteId });
  if (online !== undefined) routers.setOnline(siteId, online);
  return { status: 200, body: routers.toJson(s) };
}
