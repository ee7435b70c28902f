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

const TEXT_FIELDS = ['name', 'softwareVersion', 'model', 'identity'] as const;

/**
 * POST /_sandbox/sites/{id} with {"online": bool, "name", "softwareVersion", "model", "identity"}
 * (each optional): the site is created when unknown.
 */
function patchSite(routers: Routers, siteId: string, body: string): Answer {
  let patch: Record<string, unknown>;
  try {
    patch = body.trim() ? (JSON.parse(body) as Record<string, unknown>) : {};
  } catch {
    return { status: 400, body: { message: 'body must be JSON like {"online": false, "softwareVersion": "7.16.2"}' } };
  }
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return { status: 400, body: { message: 'body must be a JSON object' } };
  const online = patch.online;
  if (online !== undefined && typeof online !== 'boolean') return { status: 400, body: { message: 'online must be true or false' } };
  for (const k of TEXT_FIELDS) if (patch[k] !== undefined && typeof patch[k] !== 'string') return { status: 400, body: { message: `${k} must be a string` } };
  const unknown = Object.keys(patch).filter((k) => k !== 'online' && !(TEXT_FIELDS as readonly string[]).includes(k));
  if (unknown.length) return { status: 400, body: { message: `unknown field ${unknown[0]} (online, ${TEXT_FIELDS.join(', ')})` } };
  if (!UUID_RE.test(siteId)) return { status: 400, body: { message: 'site id must be a UUID' } };
  const s = routers.find(siteId) ?? routers.add({ id: siteId });
  routers.update(siteId, Object.fromEntries(TEXT_FIELDS.map((k) => [k, patch[k] as string | undefined])));
  if (online !== undefined) routers.setOnline(siteId, online);
  return { status: 200, body: routers.toJson(s) };
}
