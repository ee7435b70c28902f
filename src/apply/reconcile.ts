// Plan then apply: the one function behind `apply`, the Action's apply and each daemon run.
//   1. plan, and refuse invalid input (nothing sent, no lease taken);
//   2. take the apply lease (one apply at a time across every clone that shares the state);
//   3. plan again if the state moved meanwhile (another clone applied: this run may now be stale);
//   4. apply, recording each outcome as it lands; release the lease.
import { InputError, type Problem } from '../core/errors.js';
import { makePlan, type PlanRequest, type PlanResult } from '../core/engine.js';
import { secretsKeyCheck } from '../core/keys.js';
import type { Lease } from '../core/lease.js';
import type { SdxClient } from '../core/jobs.js';
import type { DesiredFleet } from '../core/model.js';
import type { Plan } from '../core/plan.js';
import type { StateStore } from '../core/ports.js';
import type { FleetDefaults } from '../core/settings.js';
import { FLEET_STATE_ID } from '../core/state.js';
import { applyPlan, type ApplyOptions, type ApplyResult } from './apply.js';
import { acquireLease, type SharedLease } from './lease.js';
import { recordPlanIndex } from './plan-index.js';
import { checkFleetApiUrl, type OperatorApiUrl } from '../core/api-url.js';
import { judgePlan, type PlanVerdict, refusalHeadline, refusalProblems } from '../core/verdict.js';
import { reportedVersionUpdates, VERSION_RULES } from '../core/routeros-target.js';

export interface ReconcileRequest
  extends Omit<PlanRequest, 'state'>,
    Omit<ApplyOptions, 'sdx' | 'store' | 'concurrency' | 'webUrl' | 'lease' | 'secretsKeyCheck'> {
  store: StateStore;
  /**
   * Builds the SDX client once the fleet settings (rate limit) are known; it sends to `apiUrl`. It may
   * check first that SDX can be used (issue 14: one request, before anything is sent) and throw.
   */
  sdxFor: (fleet: FleetDefaults) => SdxClient | Promise<SdxClient>;
  /** The operator's SDX API URL: a fleet file naming another one sends nothing (core/api-url.ts). */
  apiUrl: OperatorApiUrl;
  /** Overrides the fleet's concurrency setting. */
  concurrency?: number;
  /** Overrides every site's timeout (seconds). */
  timeout?: number;
  /** Overrides the fleet's web_url. */
  webUrl?: string;
  /** Apply even when a script check reports an error. */
  allowCheckErrors?: boolean;
  /** Apply even when a lockout-level finding is not acknowledged in the script (issue 14). Default false. */
  allowLockout?: boolean;
  /** Keep each read script's rendering with placeholders (for a plan shown before sending, with diffs). Default false. */
  keepDisplay?: boolean;
  /** Called with the plan once it is known to be valid and the lease is held, before the first job is created. */
  onPlan?: (plan: Plan, desired: DesiredFleet) => void | Promise<void>;
  /**
   * The lease: what holds it, how long to wait for another holder (default 300 s), a word when
   * waiting, and a lease shared by the overlapping runs of this process (the daemon), if any.
   */
  lease?: { purpose?: string; waitMs?: number; ttlMs?: number; onWait?: (lease: Lease) => void; shared?: SharedLease };
  /** Keep the plan index in the state once the jobs are done (apply/plan-index.ts). Default: true. */
  planIndex?: boolean;
}

export interface ReconcileResult extends ApplyResult {
  warnings: Problem[];
}

export async function reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
  const first = await firstPlan(req);
  const leaseOptions = {
    purpose: req.lease?.purpose ?? 'apply',
    commit: first.plan.commit.sha,
    waitMs: req.lease?.waitMs,
    ttlMs: req.lease?.ttlMs,
    signal: req.signal,
    logger: req.logger,
    onWait: req.lease?.onWait,
  };
  const held = await (req.lease?.shared ? req.lease.shared.acquire(req.store, leaseOptions) : acquireLease(req.store, leaseOptions));
  try {
    // After taking the lease: a plan of another state revision may be out of date (another clone
    // applied meanwhile, maybe a newer commit): plan again from the state as it is now.
    let current = held.basedOn !== null && held.basedOn === first.state.revision ? first : await planFor(req);
    // Issue 14: SDX is checked (sdxFor) before the plan goes to the sinks: a wrong URL or token
    // leaves no pending status behind.
    const sdx = await req.sdxFor(current.desired.fleet);
    try {
      current = await withReportedVersions(req, sdx, current);
      if (req.timeout) for (const s of current.plan.sites) s.settings = { ...s.settings, timeout: req.timeout };
      await req.onPlan?.(current.plan, current.desired);
      const result = await applyPlan(current.plan, current.desired, current.state, {
        ...req,
        sdx,
        store: req.store,
        concurrency: req.concurrency ?? current.desired.fleet.concurrency,
        webUrl: req.webUrl ?? current.desired.fleet.web_url,
        lease: held,
        secretsKeyCheck: req.secrets?.digestKey ? secretsKeyCheck(req.secrets.digestKey) : null,
      });
      // Issue 18: what the next plan needs, in the state (under the lease: one writer at a time).
      if (req.planIndex !== false && !req.signal?.aborted) {
        await recordPlanIndex({ ...req, commit: current.plan.commit.sha });
      }
      return { ...result, warnings: current.warnings };
    } finally {
      await sdx.close();
    }
  } finally {
    await req.store.close().catch(() => {}); // let the outcomes be written before the lease goes
    await held.release();
  }
}

/**
 * Issue 16: a changed site without a `routeros:` setting is checked against the RouterOS version SDX
 * reports for it. The versions are read from SDX (GET /site-minimal) only when such a site has a
 * change; a version that moved is recorded in the state, and the plan is made again with it (its
 * checks may now refuse the commit: nothing has been sent). A site list SDX cannot give leaves the
 * recorded versions in use, with a warning.
 */
async function withReportedVersions(req: ReconcileRequest, sdx: SdxClient, current: PlanResult): Promise<PlanResult> {
  const byId = new Map(current.desired.sites.map((s) => [s.id.toLowerCase(), s]));
  const unset = current.plan.sites.filter((s) => s.changes.length && byId.get(s.site_id.toLowerCase())?.lintTarget.routeros === undefined);
  if (!unset.length) return current;
  let reported: Awaited<ReturnType<SdxClient['listSites']>>;
  try {
    reported = await sdx.listSites();
  } catch (e) {
    req.logger.warn(
      { err: (e as Error).message },
      'could not read the RouterOS versions SDX reports; sites without a routeros: setting are checked against the version last recorded, else the newest known',
    );
    return current;
  }
  const names = new Map([...byId].map(([id, s]) => [id, s.name]));
  const updates = reportedVersionUpdates(current.state, reported, names, new Date());
  if (!updates.length) return current;
  await req.store.record(updates);
  req.logger.info(
    { sites: updates.map((u) => ({ site: u.site, routeros: u.reported_version?.version })) },
    `RouterOS versions reported by SDX recorded for ${updates.length} site${updates.length === 1 ? '' : 's'}; planning again with them`,
  );
  return planFor(req);
}

/** Plan, then refuse what apply must not send: script check errors, secrets without their key. */
async function planFor(req: ReconcileRequest): Promise<PlanResult> {
  const result = await makePlan({
    ...req,
    state: req.store,
    keep: { display: req.keepDisplay ?? false, body: true },
    checksSecretsKey: true,
    hideSecrets: true,
  });
  if (result.incremental) {
    req.logger.debug(
      result.incremental,
      `incremental plan: ${result.incremental.from_snapshot} sites unchanged since the last plan, ${result.incremental.read} read`,
    );
  }
  // The repository cannot redirect the token: refused before anything is sent or shown as pending.
  await checkFleetApiUrl(req.reader, result.desired, req.apiUrl);
  const keyProblems = secretsKeyProblems(req, result);
  // Script check errors and lockout risks nobody acknowledged: the same verdict `plan` shows.
  const verdict = judgePlan(result.plan, { allowCheckErrors: req.allowCheckErrors, allowLockout: req.allowLockout });
  const refusals = verdict.refused ? refusalProblems(verdict) : [];
  if (keyProblems.length || refusals.length)
    throw new RefusedPlan(
      [...keyProblems, ...refusals],
      keyProblems.length ? undefined : refusalHeadline(verdict),
      result,
      !keyProblems.length && refusedForVersion(result.plan, verdict),
    );
  return result;
}

/** A plan apply refuses; `byVersion`: only because of command-tree findings on sites without a `routeros:` setting. */
class RefusedPlan extends InputError {
  constructor(
    problems: Problem[],
    headline: string | undefined,
    readonly result: PlanResult,
    readonly byVersion: boolean,
  ) {
    super(problems, headline);
  }
}

/** Whether some refused finding depends on the RouterOS version of a site whose version is not set in the repository. */
function refusedForVersion(plan: Plan, verdict: PlanVerdict): boolean {
  const unset = new Set(plan.sites.filter((s) => s.routeros && s.routeros.source !== 'setting').map((s) => s.site));
  return verdict.errors.some((e) => unset.has(e.site) && VERSION_RULES.has(e.finding.rule));
}

/**
 * The first plan. One refused for command-tree findings on a site whose version comes from SDX (or is
 * unknown) is judged again with the versions SDX reports now: a router upgraded since its version
 * was recorded is not refused for the version it ran before. Otherwise, or when SDX cannot say,
 * the refusal stands.
 */
async function firstPlan(req: ReconcileRequest): Promise<PlanResult> {
  try {
    return await planFor(req);
  } catch (e) {
    if (!(e instanceof RefusedPlan) || !e.byVersion) throw e;
    let sdx: SdxClient;
    try {
      sdx = await req.sdxFor(e.result.desired.fleet);
    } catch {
      throw e; // the refusal is what the user must see first
    }
    try {
      const again = await withReportedVersions(req, sdx, e.result);
      if (again === e.result) throw e;
      return again;
    } finally {
      await sdx.close();
    }
  }
}

/**
 * Scripts that use secrets need RGO_SECRETS_KEY (without it a rotation cannot be seen), and the key
 * the state's digests were made with (another key would make every such script look changed).
 */
export function secretsKeyProblems(req: Pick<ReconcileRequest, 'secrets'>, result: Pick<PlanResult, 'desired' | 'state'>): Problem[] {
  const users = result.desired.sites.flatMap((s) => s.scripts.filter((sc) => sc.uses.secrets.length).map((sc) => ({ site: s.name, path: sc.path })));
  if (!users.length) return [];
  const key = req.secrets?.digestKey;
  if (!key) {
    return [
      {
        file: '(environment)',
        message: `RGO_SECRETS_KEY is not set, and ${users.length} script${users.length === 1 ? ' uses' : 's use'} secrets (${users[0]!.path}${users.length > 1 ? ', ...' : ''}); nothing was sent`,
        hint: 'the key makes the digests of secrets in the state impossible to guess, and lets a rotated secret be seen: make one with `openssl rand -base64 32`, keep it with your secrets, and set RGO_SECRETS_KEY to it everywhere the state is shared',
      },
    ];
  }
  const recorded = result.state.sites[FLEET_STATE_ID]?.secrets_key_check;
  if (recorded && recorded !== secretsKeyCheck(key)) {
    return [
      {
        file: '(environment)',
        message: `RGO_SECRETS_KEY is not the key the applied state was written with (check value ${recorded}, this key's ${secretsKeyCheck(key)}); nothing was sent, and nothing would have been sent twice`,
        hint: 'use the same RGO_SECRETS_KEY everywhere the state is shared (CI, daemon, laptops); to change the key, run `routeros-gitops state rekey` with the old key in RGO_OLD_SECRETS_KEY and the new one in RGO_SECRETS_KEY',
      },
    ];
  }
  return [];
}
