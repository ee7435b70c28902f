// Apply: execute a plan. The only code that changes the world. Sites go in parallel up to the
// concurrency limit; within a site, changes go one at a time in path order, each waiting for the
// previous one's outcome when acknowledgement is on; a failure blocks the site's later changes.
// Exactly once: the intent (key, content) of every change is stored before any job is created,
// keys are deterministic, and the client turns a replayed key into the original job.
import PQueue from 'p-queue';
import type { Logger } from '../core/logger.js';
import type { StateStore } from '../core/ports.js';
import type { Plan, PlannedChange, SitePlan } from '../core/plan.js';
import type { DesiredFleet, DesiredScript } from '../core/model.js';
import { FLEET_STATE_ID, type AppliedRecord, type AppliedState, type JobPhase, type ScriptRecord, type StateUpdate } from '../core/state.js';
import { jobState, type Job, type SdxClient } from '../core/jobs.js';
import { absoluteUrl, type ApplyEvent, type ApplyResult, type ApplySummary, type ChangeResult } from '../core/outcome.js';

export type { ApplyEvent, ApplyResult, ApplySummary, ChangeResult, Outcome } from '../core/outcome.js';
import { SdxApiError } from '../core/errors.js';

export interface ApplyOptions {
  sdx: SdxClient;
  store: StateStore;
  logger: Logger;
  /** Sites applied at once. */
  concurrency: number;
  /** Create the jobs and return without following them. */
  noWait?: boolean;
  /** SDX web UI base, to make log_url absolute. */
  webUrl: string;
  /** First poll of a job this many ms after it was created; then ×1.5 up to pollMaxMs. */
  pollInitialMs?: number;
  pollMaxMs?: number;
  /** Stop intake: no new job is created; jobs being followed are recorded as they are. */
  signal?: AbortSignal;
  onEvent?: (e: ApplyEvent) => void;
  now?: () => Date;
}

export async function applyPlan(plan: Plan, desired: DesiredFleet, state: AppliedState, opts: ApplyOptions): Promise<ApplyResult> {
  const now = opts.now ?? (() => new Date());
  const iso = () => now().toISOString();
  const scripts = new Map<string, DesiredScript>();
  for (const s of desired.sites) for (const sc of s.scripts) scripts.set(`${s.id}\0${sc.path}`, sc);
  const requestsBefore = opts.sdx.stats().requests;
  const retriesBefore = { ...opts.sdx.stats().retriesByCause };

  // 1. Store the intent of every job before creating any: a crashed run's job is then always
  //    found (same key) or superseded (its key is known), and no older run can start later.
  const intents: StateUpdate[] = [];
  for (const site of plan.sites) {
    if (site.status !== 'ok') continue;
    for (const c of site.changes) {
      if (c.action !== 'create') continue;
      const sc = scripts.get(`${c.site_id}\0${c.path}`)!;
      const prev = state.sites[c.site_id]?.scripts[c.path];
      intents.push({
        site_id: c.site_id,
        site: c.site,
        path: c.path,
        record: makeRecord(c, sc, prev, { phase: 'intent', job_id: null, at: iso(), supersedes: c.supersedes }),
      });
    }
    const last = state.sites[site.site_id]?.last_commit;
    if (site.changes.some((c) => c.action === 'create' || c.action === 'follow') && last !== plan.commit.sha) {
      const anchor = intents.find((u) => u.site_id === site.site_id);
      if (anchor) anchor.last_commit = plan.commit.sha;
    }
  }
  // The fleet was reconciled at this commit: an older run must send nothing, anywhere. Written with
  // the intents, before any job, unless this run is itself behind (then no site is ok).
  if (plan.sites.some((s) => s.status === 'ok') && plan.fleet_last_commit !== plan.commit.sha) {
    intents.push({ site_id: FLEET_STATE_ID, site: '(fleet)', path: '(fleet)', record: null, last_commit: plan.commit.sha });
  }
  if (intents.length) await opts.store.record(intents);

  const results: ChangeResult[] = [];
  const pendingWrites: Promise<void>[] = [];
  const record = (c: PlannedChange, rec: ScriptRecord | null) => {
    const p = opts.store.record([{ site_id: c.site_id, site: c.site, path: c.path, record: rec }]);
    p.catch(() => {}); // awaited below
    pendingWrites.push(p);
  };
  const logUrl = (job: Job | null) => (job?.log_url ? absoluteUrl(opts.webUrl, job.log_url) : null);
  const emit = (e: ApplyEvent) => {
    try {
      opts.onEvent?.(e);
    } catch (err) {
      opts.logger.warn({ err: (err as Error).message }, 'an event handler failed');
    }
  };
  const finish = (r: Omit<ChangeResult, 'finished_at'>): ChangeResult => {
    const full = { ...r, finished_at: iso() };
    results.push(full);
    emit({ type: 'result', result: full });
    return full;
  };
  let interrupted = false;
  const stopped = () => {
    if (opts.signal?.aborted) interrupted = true;
    return !!opts.signal?.aborted;
  };

  const runSite = async (site: SitePlan) => {
    emit({ type: 'site-start', site });
    const siteResults: ChangeResult[] = [];
    const push = (r: Omit<ChangeResult, 'finished_at'>) => siteResults.push(finish(r));
    const base = { job_id: null, log_url: null, reused: false };
    if (site.status !== 'ok') {
      for (const c of site.changes) push({ ...base, change: c, outcome: 'stale', reason: site.reason });
      emit({ type: 'site-done', site, results: siteResults });
      return;
    }
    const missing = [...new Set(site.changes.filter((c) => c.action === 'create' || c.action === 'follow').flatMap((c) => c.secrets_missing))];
    if (missing.length) {
      const reason = `secrets not supplied for ${site.site}: ${missing.join(', ')}; nothing was sent to this site (set RGO_SECRET_<NAME> or use --secrets-file)`;
      opts.logger.error({ site: site.site, secrets: missing }, reason);
      for (const c of site.changes) push({ ...base, change: c, outcome: 'blocked', reason });
      emit({ type: 'site-done', site, results: siteResults });
      return;
    }
    let blockedBy: string | null = null;
    const toFollow: Array<{ change: PlannedChange; job: Job; reused: boolean }> = [];
    for (const c of site.changes) {
      if (blockedBy) {
        push({ ...base, change: c, outcome: 'blocked', reason: blockedBy });
        continue;
      }
      if (c.kind === 'removed') {
        if (c.supersedes) await supersede(c, c.supersedes);
        record(c, null);
        push({ ...base, change: c, outcome: 'skipped', reason: 'the script was removed from the repository: no job is sent; its state is forgotten' });
        continue;
      }
      if (c.action === 'skip-failed') {
        const reason = `${c.path} failed before with this content; fix it, or rerun with --retry-failed`;
        push({ ...base, job_id: c.previous?.job_id ?? null, change: c, outcome: 'skipped', reason });
        blockedBy = `an earlier script of ${site.site} (${c.path}) failed`;
        continue;
      }
      if (stopped()) {
        push({ ...base, change: c, outcome: 'blocked', reason: 'the run was stopped before this change was sent; the next run sends it' });
        continue;
      }
      let job: Job;
      let reused = false;
      try {
        if (c.action === 'follow') {
          job = await opts.sdx.getJob(c.site_id, c.job_id!);
          reused = true;
        } else {
          if (c.supersedes) await supersede(c, c.supersedes);
          const sc = scripts.get(`${c.site_id}\0${c.path}`);
          if (sc?.body === undefined) throw new Error(`${c.path} was not rendered for ${c.site}; this is a bug in routeros-gitops, nothing was sent`);
          const res = await opts.sdx.createJob({
            siteId: c.site_id,
            idempotencyKey: c.idempotency_key!,
            description: c.description!,
            script: sc.body,
            needsAck: site.settings.needs_ack,
            backup: site.settings.backup,
            express: site.settings.express,
          });
          job = res.job;
          reused = res.replayed;
        }
      } catch (e) {
        const reason = errorReason(e);
        opts.logger.error({ site: c.site, path: c.path, key: c.idempotency_key, err: reason }, 'could not create the job');
        // The job may exist (the answer was lost): the intent stays, so the next run finds it by key.
        push({ ...base, change: c, outcome: 'failed', reason });
        blockedBy = `an earlier change of ${site.site} (${c.path}) could not be sent`;
        continue;
      }
      emit({ type: 'job-created', change: c, job, reused });
      opts.logger.info({ site: c.site, path: c.path, job_id: job.id, key: c.idempotency_key, reused }, reused ? 'following an existing job' : 'job created');
      const st = jobState(job);
      if (st !== 'succeeded' && st !== 'failed') {
        const sc = scripts.get(`${c.site_id}\0${c.path}`);
        const prev = state.sites[c.site_id]?.scripts[c.path];
        const url = logUrl(job);
        record(c, makeRecord(c, sc, prev, { phase: st, job_id: job.id, at: iso(), log_url: url }));
        if (opts.noWait) {
          push({ change: c, job_id: job.id, log_url: url, reused, outcome: 'queued', reason: 'not followed (--no-wait); the next run records its outcome' });
          continue;
        }
      }
      if (!site.settings.needs_ack && st !== 'succeeded' && st !== 'failed') {
        // Without acknowledgement jobs do not wait for each other: follow them all at the end.
        toFollow.push({ change: c, job, reused });
        continue;
      }
      const r = await settle(c, job, reused, site);
      push(r);
      if (r.outcome !== 'succeeded') blockedBy = `an earlier change of ${site.site} (${c.path}) ${r.outcome === 'timed_out' ? 'timed out' : r.outcome}`;
    }
    for (const f of toFollow) push(await settle(f.change, f.job, f.reused, site));
    emit({ type: 'site-done', site, results: siteResults });
  };

  /** Follow a job to its outcome (or the timeout), and record it. */
  const settle = async (c: PlannedChange, first: Job, reused: boolean, site: SitePlan): Promise<Omit<ChangeResult, 'finished_at'>> => {
    const sc = scripts.get(`${c.site_id}\0${c.path}`);
    const prev = state.sites[c.site_id]?.scripts[c.path];
    const deadline = Date.now() + site.settings.timeout * 1000;
    let job = first;
    let delay = opts.pollInitialMs ?? 3000;
    const max = opts.pollMaxMs ?? 30_000;
    while (true) {
      const st = jobState(job);
      if (st === 'succeeded' || st === 'failed') {
        record(c, makeRecord(c, sc, prev, { phase: st, job_id: job.id, at: iso(), log_url: logUrl(job) }));
        return {
          change: c,
          job_id: job.id,
          log_url: logUrl(job),
          reused,
          outcome: st,
          reason: st === 'failed' ? `the router reported a failure at ${job.failed_at}; see the job's log` : null,
        };
      }
      const left = deadline - Date.now();
      if (left <= 0 || stopped()) {
        record(c, makeRecord(c, sc, prev, { phase: st, job_id: job.id, at: iso(), log_url: logUrl(job) }));
        if (stopped())
          return { change: c, job_id: job.id, log_url: logUrl(job), reused, outcome: 'queued', reason: 'the run was stopped; the next run follows this job' };
        return {
          change: c,
          job_id: job.id,
          log_url: logUrl(job),
          reused,
          outcome: 'timed_out',
          reason: `still ${st} after ${site.settings.timeout} s${st === 'queued' ? ' (the router has not checked in: is it online?)' : ''}; the next run follows the same job`,
        };
      }
      await sleep(Math.min(delay, left), opts.signal);
      // Back off faster while the router has not picked the job up (it may be offline).
      delay = Math.min(max, delay * (st === 'queued' ? 2 : 1.5));
      if (stopped()) continue;
      try {
        job = await opts.sdx.getJob(c.site_id, job.id);
      } catch (e) {
        if (e instanceof SdxApiError && e.status === 404) {
          record(c, makeRecord(c, sc, prev, { phase: 'cancelled', job_id: job.id, at: iso() }));
          return {
            change: c,
            job_id: job.id,
            log_url: logUrl(job),
            reused,
            outcome: 'failed',
            reason: 'the job disappeared from SDX (cancelled elsewhere?); the next run sends it again',
          };
        }
        opts.logger.warn({ site: c.site, job_id: job.id, err: errorReason(e) }, 'could not read the job; retrying');
      }
    }
  };

  /** Cancel the pending job of older content before creating the new one. */
  const supersede = async (c: PlannedChange, old: NonNullable<PlannedChange['supersedes']>) => {
    let jobId = old.job_id;
    if (!jobId) {
      // Only the intent was recorded: the job may or may not exist; find it by its key.
      const jobs = await opts.sdx.listJobs(c.site_id);
      jobId = jobs.find((j) => j.idempotency_key === old.key)?.id ?? null;
      if (!jobId) return;
    }
    const res = await opts.sdx.cancelJob(c.site_id, jobId);
    if (res === 'cancelled') {
      opts.logger.info({ site: c.site, path: c.path, job_id: jobId }, 'cancelled the queued job of older content (superseded)');
      emit({ type: 'job-cancelled', change: c, job_id: jobId });
      return;
    }
    if (res === 'already_started') {
      // Too late to cancel: let it finish first so the newer script runs after it.
      let job = await opts.sdx.getJob(c.site_id, jobId);
      const deadline = Date.now() + 600_000;
      let delay = opts.pollInitialMs ?? 3000;
      while (jobState(job) === 'running' && Date.now() < deadline && !stopped()) {
        await sleep(delay, opts.signal);
        delay = Math.min(opts.pollMaxMs ?? 30_000, delay * 1.5);
        job = await opts.sdx.getJob(c.site_id, jobId);
      }
    }
  };

  const queue = new PQueue({ concurrency: Math.max(1, opts.concurrency) });
  const sitesWithWork = plan.sites.filter((s) => s.changes.length);
  await Promise.all(sitesWithWork.map((s) => queue.add(() => runSite(s))));
  const writes = await Promise.allSettled(pendingWrites);
  const failedWrite = writes.find((w) => w.status === 'rejected');
  if (failedWrite) throw (failedWrite as PromiseRejectedResult).reason;

  const order = new Map(plan.changes.map((c, i) => [c, i]));
  results.sort((a, b) => order.get(a.change)! - order.get(b.change)!);
  const summary: ApplySummary = { succeeded: 0, failed: 0, timed_out: 0, queued: 0, blocked: 0, skipped: 0, stale: 0 };
  for (const r of results) summary[r.outcome]++;
  const stats = opts.sdx.stats();
  const retries: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats.retriesByCause)) if (v - (retriesBefore[k] ?? 0) > 0) retries[k] = v - (retriesBefore[k] ?? 0);
  return {
    plan,
    results,
    summary,
    exitCode: summary.failed || summary.timed_out || summary.blocked ? 1 : 0,
    requests: stats.requests - requestsBefore,
    retries,
    interrupted,
  };
}

function makeRecord(
  c: PlannedChange,
  sc: DesiredScript | undefined,
  prev: ScriptRecord | undefined,
  fields: { phase: JobPhase; job_id: string | null; at: string; log_url?: string | null; supersedes?: ScriptRecord['supersedes'] },
): ScriptRecord {
  // Keep the last success when this record is not one.
  let applied: AppliedRecord | null = null;
  if (fields.phase !== 'succeeded' && prev) {
    applied =
      prev.phase === 'succeeded'
        ? { fingerprint: prev.fingerprint, commit: prev.commit, job_id: prev.job_id, key: prev.key, at: prev.at }
        : (prev.applied ?? null);
  }
  const sameContent = prev && prev.fingerprint === c.fingerprint;
  return {
    fingerprint: c.fingerprint!,
    commit: c.commit,
    key: c.idempotency_key!,
    job_id: fields.job_id,
    phase: fields.phase,
    at: fields.at,
    attempt: c.attempt,
    source: sc ? { blob: sc.blob, inputs: sc.inputs } : (prev?.source ?? { blob: '', inputs: '' }),
    uses: sc?.uses ?? prev?.uses ?? { vars: [], secrets: [] },
    secret_digests: sc?.secretDigests ?? prev?.secret_digests ?? {},
    log_url: fields.log_url ?? (sameContent ? (prev?.log_url ?? null) : null),
    supersedes: fields.supersedes ?? null,
    applied,
  };
}

function errorReason(e: unknown): string {
  if (e instanceof SdxApiError) return `SDX answered ${e.status}${e.code ? ` ${e.code}` : ''}: ${e.message}`;
  return (e as Error)?.message ?? String(e);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
