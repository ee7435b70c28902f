// A faithful local double of the SDX jobs API (shared/contracts/sdx-api.md): validates every request
// as the seed spec says, models the job lifecycle through simulated routers that check in, and makes
// each unknown of the real API a setting (options.ts). Usable in-process (tests) and from another
// process (the `sandbox` CLI command) through the admin endpoints under /_sandbox/.
//
// The parts, each in its own file: the settings (settings.ts), request validation (job-request.ts),
// the jobs (job-store.ts), the simulated routers (routers.ts), faults (faults.ts) and the rate limit
// (rate-limit.ts), the API routes (api-routes.ts), the admin endpoints (admin.ts), what was received
// (request-log.ts) and the HTTP server (server.ts). This file puts them together.
import { silentLogger } from '../core/logger.js';
import { seededRandom } from '../core/random.js';
import { routeAdmin } from './admin.js';
import { routeApi, type ApiContext } from './api-routes.js';
import { realClock } from './clock.js';
import { FaultInjector } from './faults.js';
import { JobStore } from './job-store.js';
import { SANDBOX_DEFAULTS, type SandboxOptions } from './options.js';
import { TokenRateLimit } from './rate-limit.js';
import { RequestLog } from './request-log.js';
import { Routers } from './routers.js';
import { listen } from './server.js';
import { patchSettings, resolveSettings, resolveTokens } from './settings.js';
import type { Sandbox } from './types.js';

export * from './options.js';
export type { SandboxJob, SandboxStats, SandboxRequestRecord, SandboxRuntimeSettings, Sandbox } from './types.js';
export { realClock, createManualClock } from './clock.js';

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? realClock;
  const tokens = resolveTokens(options.token);
  const settings = resolveSettings(options);
  const jobs = new JobStore(settings, () => clock.now(), seededRandom(options.seed ?? SANDBOX_DEFAULTS.seed));
  const routers = new Routers([...(options.sites ?? [])], settings, clock, jobs, logger);
  const faults = new FaultInjector(settings);
  const rateLimit = new TokenRateLimit(settings);
  const log = new RequestLog(logger);
  const api: ApiContext = { settings, jobs, routers, stats: () => log.stats, logger };

  /** Every job, counter and request forgotten; the configured sites start again. Settings stay. */
  const reset = () => {
    routers.stopAll();
    jobs.clear();
    rateLimit.clear();
    log.reset();
    faults.restart();
    routers.reset();
  };

  const { server, url } = await listen(
    {
      tokens,
      settings,
      log,
      rateLimit,
      faults,
      logger,
      inspectRequest: options.inspectRequest,
      route: (method, path, headers, body) => routeApi(api, method, path, headers, body),
      admin: (method, u, body) => routeAdmin(sandbox, routers, method, u, body),
    },
    options.host ?? SANDBOX_DEFAULTS.host,
    options.port ?? SANDBOX_DEFAULTS.port,
  );
  reset();

  const sandbox: Sandbox = {
    url,
    token: tokens[0]!,
    jobs: (siteId) => (siteId === undefined ? jobs.all() : jobs.ofSite(siteId)).map((j) => ({ ...j })),
    createdCount: (siteId, key) => jobs.createdCount(siteId, key),
    createdCounts: () => jobs.createdCounts(),
    stats: () => structuredClone(log.stats),
    requests: () => log.requests(),
    reset,
    setOnline: (siteId, online) => routers.setOnline(siteId, online),
    addSite: (site) => routers.addConfigured(site),
    updateSite: (siteId, patch) => void routers.update(siteId, patch),
    checkin(siteId) {
      const s = routers.find(siteId);
      if (!s) throw new Error(`sandbox: no site ${siteId}`);
      routers.checkin(s);
    },
    removeSite: (siteId) => routers.remove(siteId),
    cancelJob(jobId) {
      const j = jobs.get(jobId);
      return !!j && !j.cancelled && !j.forgotten && jobs.cancel(j);
    },
    forgetJob: (jobId) => jobs.forget(jobId),
    configure(patch) {
      patchSettings(settings, patch);
      if ('faults' in patch) faults.restart();
      if ('rateLimit' in patch) rateLimit.clear();
    },
    async close() {
      routers.stopAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return sandbox;
}
