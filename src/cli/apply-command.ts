// `apply`: plan, then send one job per change and follow each to its outcome.
import type { Context, CommonOptions } from './context.js';
import { InputError } from '../core/errors.js';
import { reconcile } from '../apply/reconcile.js';
import { createSdxClient } from '../sdx/client.js';
import { applyToJson, applyToText, colourOutcome } from '../report/apply-report.js';
import { LEASE_WAIT_MS, LeaseBusyError } from '../apply/lease.js';
import { describeHolder } from '../core/lease.js';
import type { FleetDefaults } from '../core/settings.js';
import type { ApplyEvent } from '../core/outcome.js';
import type { Logger } from '../core/logger.js';
import type { SdxClient } from '../core/jobs.js';
import { lintHook } from '../core/checks.js';
import { writeJson } from './commands.js';
import type { OperatorApiUrl } from '../core/api-url.js';
import { cliApiUrl } from './api-url-option.js';

export interface ApplyCliOptions extends CommonOptions {
  format?: string;
  retryFailed?: boolean;
  wait?: boolean;
  concurrency?: string;
  timeout?: string;
  apiUrl?: string;
  allowCheckErrors?: boolean;
  lockTimeout?: string;
  leaseTimeout?: string;
}

/** The SDX client for a fleet: the operator's URL (see cliApiUrl), the token from SDX_API_TOKEN. */
export function sdxFactory(
  env: Record<string, string | undefined>,
  logger: Logger,
  apiUrl: OperatorApiUrl,
  signal?: AbortSignal,
): (fleet: FleetDefaults) => SdxClient {
  const token = env.SDX_API_TOKEN;
  if (!token) {
    throw new InputError({
      file: '(environment)',
      message: 'SDX_API_TOKEN is not set: apply needs an SDX API token',
      hint: 'export SDX_API_TOKEN=<your token>; to rehearse without an account, run `routeros-gitops sandbox` and point SDX_API_URL at it',
    });
  }
  return (fleet) =>
    createSdxClient({
      baseUrl: apiUrl.url,
      token,
      requestsPerMinute: env.RGO_RATE_LIMIT !== undefined ? Number(env.RGO_RATE_LIMIT) : fleet.rate_limit,
      // A change that cannot be sent blocks its site until the next run: retry transient faults
      // generously (each retry reuses the idempotency key, so none can create a second job).
      maxRetries: 8,
      logger,
      signal,
    });
}

export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InputError(`${flag} ${JSON.stringify(value)} is not a whole number of at least 1`);
  return n;
}

export function pollSettings(env: Record<string, string | undefined>): { pollInitialMs?: number; pollMaxMs?: number } {
  const n = (v: string | undefined) => (v && Number(v) > 0 ? Number(v) : undefined);
  return { pollInitialMs: n(env.RGO_POLL_INITIAL_MS), pollMaxMs: n(env.RGO_POLL_MAX_MS) };
}

export async function applyCommand(ctx: Context, raw: Record<string, unknown>, _args?: string[]): Promise<number> {
  const opts = raw as unknown as ApplyCliOptions;
  const concurrency = positiveInt(opts.concurrency, '--concurrency');
  const timeout = positiveInt(opts.timeout, '--timeout');
  const leaseWait = seconds(opts.leaseTimeout ?? opts.lockTimeout, '--lease-timeout') ?? LEASE_WAIT_MS;
  const repo = await ctx.repo(opts);
  const secrets = await ctx.secrets(repo, opts);
  const apiUrl = cliApiUrl(ctx.io.env, opts.apiUrl);
  const sdxFor = sdxFactory(ctx.io.env, ctx.logger, apiUrl, ctx.io.signal);
  const store = await ctx.stateStore(repo, opts);
  const json = opts.format === 'json';
  const progress = !!ctx.io.stderr.isTTY && !json;
  const onEvent = (e: ApplyEvent) => {
    if (!progress) return;
    if (e.type === 'job-created') ctx.err(ctx.style.dim(`  ${e.change.site}: ${e.change.path} -> job ${e.job.id}${e.reused ? ' (existing)' : ''}\n`));
    if (e.type === 'result') ctx.err(`  ${colourOutcome(e.result.outcome, ctx.style)} ${e.result.change.site}: ${e.result.change.path}\n`);
  };
  try {
    const result = await reconcile({
      reader: repo,
      store,
      ref: opts.ref,
      sitesDir: opts.sites,
      secrets,
      lint: lintHook,
      retryFailed: opts.retryFailed,
      sdxFor,
      apiUrl,
      cache: await ctx.parseCache(repo),
      snapshot: ctx.planSnapshot(repo),
      logger: ctx.logger,
      concurrency,
      timeout,
      noWait: opts.wait === false,
      allowCheckErrors: opts.allowCheckErrors,
      webUrl: ctx.io.env.SDX_WEB_URL,
      signal: ctx.io.signal,
      onEvent,
      lease: {
        purpose: 'apply',
        waitMs: leaseWait,
        onWait: (l) => ctx.err(`waiting up to ${Math.round(leaseWait / 1000)} s for the apply lease, held by ${describeHolder(l)}\n`),
      },
      ...pollSettings(ctx.io.env),
    });
    if (json) writeJson((s) => ctx.out(s), applyToJson(result, result.warnings));
    else ctx.out(applyToText(result, result.warnings, ctx.style));
    return result.exitCode;
  } catch (e) {
    if (!(e instanceof LeaseBusyError)) throw e;
    if (json) writeJson((s) => ctx.out(s), leaseBusyJson(e));
    ctx.err(`error: ${e.message}\n`);
    return 1;
  } finally {
    await store.close();
  }
}

/** The JSON document of a run that could not take the lease: no results, the holder named. */
function leaseBusyJson(e: LeaseBusyError): object {
  return {
    error: { kind: 'lease-busy', message: e.message, holder: e.lease.holder, expires_at: e.lease.expires_at, waited_ms: e.waitedMs },
    results: [],
    exit_code: 1,
  };
}

/** A whole number of seconds, as milliseconds. */
export function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InputError(`${flag} ${JSON.stringify(value)} is not a number of seconds (0 or more)`);
  return Math.round(n * 1000);
}
