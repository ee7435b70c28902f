// The simulated routers behind the sandbox's sites: each checks in on its interval (or sooner for
// an express job), takes its oldest queued job, runs it for runMs when it needs acknowledgement, and
// reports it completed or failed. All timing goes through the sandbox's clock.
import type { Site, SiteSummary } from '../core/jobs.js';
import { UUID_RE } from '../core/keys.js';
import type { Logger } from '../core/logger.js';
import type { JobStore } from './job-store.js';
import { iso } from './job-store.js';
import type { SandboxClock, SandboxSiteOptions } from './options.js';
import type { SandboxSettings } from './settings.js';
import type { SandboxJob } from './types.js';

export interface RouterState {
  cfg: SandboxSiteOptions;
  online: boolean;
  lastSeenAt: number | null;
  busy: boolean;
  nextCheckinAt: number | null;
  cancelCheckin: (() => void) | null;
  cancelRun: (() => void) | null;
}

export class Routers {
  private readonly sites = new Map<string, RouterState>();
  /** Sites deleted in SDX (remove): unknown from then on, even with autoSites. */
  private readonly deleted = new Set<string>();
  /** When the sandbox started: every site's created_at. */
  private readonly createdAt: number;

  /**
   * @param configured the sites the sandbox was given (and addSite added): reset() brings them back
   * @param settings read live (autoSites, intervals, failMarker)
   */
  constructor(
    private readonly configured: SandboxSiteOptions[],
    private readonly settings: SandboxSettings,
    private readonly clock: SandboxClock,
    private readonly jobs: JobStore,
    private readonly logger: Logger,
  ) {
    for (const s of configured) if (!UUID_RE.test(s.id)) throw new Error(`sandbox: site id ${JSON.stringify(s.id)} is not a UUID`);
    this.createdAt = clock.now();
  }

  /** Start a router (it checks in at once when online); an existing one is kept as it is. */
  add(cfg: SandboxSiteOptions): RouterState {
    const existing = this.sites.get(cfg.id.toLowerCase());
    if (existing) return existing;
    const lastSeenAt = cfg.lastSeenAt === undefined ? null : Date.parse(cfg.lastSeenAt);
    const state: RouterState = {
      cfg,
      online: cfg.online ?? true,
      lastSeenAt: Number.isFinite(lastSeenAt) ? lastSeenAt : null,
      busy: false,
      nextCheckinAt: null,
      cancelCheckin: null,
      cancelRun: null,
    };
    this.sites.set(cfg.id.toLowerCase(), state);
    if (state.online) {
      state.lastSeenAt = this.clock.now();
      this.scheduleCheckin(state, this.intervalOf(state));
    }
    return state;
  }

  /** A site added while running: kept across reset(). */
  addConfigured(cfg: SandboxSiteOptions): void {
    if (!UUID_RE.test(cfg.id)) throw new Error(`sandbox: site id ${JSON.stringify(cfg.id)} is not a UUID`);
    this.configured.push(cfg);
    this.add(cfg);
  }

  /** The site's router; with autoSites, any UUID not deleted is a site, created on first use. */
  find(siteId: string): RouterState | undefined {
    const s = this.sites.get(siteId.toLowerCase());
    if (s || !this.settings.autoSites || !UUID_RE.test(siteId) || this.deleted.has(siteId.toLowerCase())) return s;
    return this.add({ id: siteId.toLowerCase() });
  }

  /** Delete a site in SDX: its router stops, and it is unknown from now on. */
  remove(siteId: string): void {
    const s = this.sites.get(siteId.toLowerCase());
    if (s) stop(s);
    this.sites.delete(siteId.toLowerCase());
    this.deleted.add(siteId.toLowerCase());
    const i = this.configured.findIndex((c) => c.id.toLowerCase() === siteId.toLowerCase());
    if (i >= 0) this.configured.splice(i, 1);
  }

  setOnline(siteId: string, online: boolean): void {
    const s = this.find(siteId);
    if (!s) throw new Error(`sandbox: no site ${siteId}`);
    if (s.online === online) return;
    s.online = online;
    if (!online) {
      s.cancelCheckin?.();
      s.cancelCheckin = null;
      s.nextCheckinAt = null;
    } else {
      // A router that comes back checks in at once (or nearly).
      this.scheduleCheckin(s, this.settings.expressDelayMs);
    }
  }

  /** A job was queued for the site: an online router comes for it on its interval, or soon when express. */
  jobQueued(s: RouterState, job: SandboxJob): void {
    if (s.online) this.scheduleCheckin(s, job.express_execute ? this.settings.expressDelayMs : this.intervalOf(s));
  }

  /** One heartbeat: the router takes the next queued job (one at a time, in creation order). */
  checkin(s: RouterState): void {
    s.cancelCheckin = null;
    s.nextCheckinAt = null;
    if (!s.online) return;
    const now = this.clock.now();
    s.lastSeenAt = now;
    if (!s.busy) {
      const next = this.jobs.nextQueued(s.cfg.id);
      if (next) this.run(s, next, now);
    }
    this.scheduleCheckin(s, this.intervalOf(s));
  }

  /** Stop every router (timers cancelled). */
  stopAll(): void {
    for (const s of this.sites.values()) stop(s);
  }

  /** Every router stopped and forgotten; the configured sites start again. */
  reset(): void {
    this.stopAll();
    this.sites.clear();
    this.deleted.clear();
    for (const cfg of this.configured) this.add(cfg);
  }

  /** Every site, in the order they were added (GET /site-minimal). */
  list(): RouterState[] {
    return [...this.sites.values()];
  }

  /** Change what a site shows (name, version, model): the router keeps its jobs and its timers. */
  update(siteId: string, patch: Pick<SandboxSiteOptions, 'name' | 'softwareVersion' | 'model' | 'identity'>): RouterState {
    const s = this.find(siteId);
    if (!s) throw new Error(`sandbox: no site ${siteId}`);
    s.cfg = { ...s.cfg, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
    const configured = this.configured.findIndex((c) => c.id.toLowerCase() === siteId.toLowerCase());
    if (configured >= 0) this.configured[configured] = s.cfg; // a reset() keeps the change
    return s;
  }

  /** A site as GET /site-minimal lists it. */
  toMinimalJson(s: RouterState): SiteSummary & { created_at: string } {
    const { id, name, has_pulse, software_version } = this.toJson(s);
    return { id, name, has_pulse, ...(software_version !== undefined && { software_version }), created_at: iso(this.createdAt) };
  }

  /** A site as the API shows it. */
  toJson(s: RouterState): Site {
    const name = s.cfg.name ?? `Sandbox site ${s.cfg.id.slice(0, 8)}`;
    return {
      id: s.cfg.id,
      name,
      has_pulse: s.online,
      last_seen_at: s.lastSeenAt === null ? null : iso(s.lastSeenAt),
      software_version: s.cfg.softwareVersion ?? '7.15.1',
      model: s.cfg.model ?? 'RB5009UG+S+',
      identity: s.cfg.identity ?? name,
    };
  }

  private intervalOf(s: RouterState): number {
    return s.cfg.checkinIntervalMs ?? this.settings.checkinIntervalMs;
  }

  /** Keep the earliest of the pending check-in and one `delay` from now. */
  private scheduleCheckin(s: RouterState, delay: number): void {
    const at = this.clock.now() + delay;
    if (s.nextCheckinAt !== null && s.nextCheckinAt <= at) return;
    s.cancelCheckin?.();
    s.nextCheckinAt = at;
    s.cancelCheckin = this.clock.setTimer(() => this.checkin(s), delay);
  }

  private run(s: RouterState, job: SandboxJob, now: number): void {
    job.started_at = iso(now);
    // Without acknowledgement the job is complete once the router has downloaded it.
    if (!job.needs_acknowledgement) {
      job.completed_at = iso(now);
      this.logger.debug({ site: job.site_id, job: job.id }, 'sandbox job downloaded (no ack)');
      return;
    }
    s.busy = true;
    s.cancelRun = this.clock.setTimer(() => {
      s.cancelRun = null;
      s.busy = false;
      const at = iso(this.clock.now());
      if (this.fails(s, job.script)) job.failed_at = at;
      else job.completed_at = at;
      this.logger.debug({ site: job.site_id, job: job.id, failed: job.failed_at !== null }, 'sandbox job finished');
      if (this.jobs.queued(s.cfg.id).some((j) => j.express_execute) && s.online) this.scheduleCheckin(s, this.settings.expressDelayMs);
    }, s.cfg.runMs ?? this.settings.runMs);
  }

  private fails(s: RouterState, script: string): boolean {
    if (s.cfg.failAll) return true;
    if (script.split(/\r?\n/).some((line) => line.trim() === this.settings.failMarker)) return true;
    return (s.cfg.failScripts ?? []).some((p) => (typeof p === 'string' ? script.includes(p) : new RegExp(p.source, p.flags.replace('g', '')).test(script)));
  }
}

function stop(s: RouterState): void {
  s.cancelCheckin?.();
  s.cancelRun?.();
  s.cancelCheckin = s.cancelRun = null;
  s.nextCheckinAt = null;
}
