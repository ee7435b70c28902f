// `apply`: plan, then send one job per change and follow each to its outcome.
import { join } from 'node:path';
import type { Context, CommonOptions } from './context.js';
import { InputError } from '../core/errors.js';
import { reconcile } from '../apply/reconcile.js';
import { createSdxClient } from '../sdx/client.js';
import { applyToJson, applyToText, colourOutcome } from '../report/apply-report.js';
import { acquireLock, LockBusyError } from '../lock/lock-file.js';
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
}

/** The SDX client for a fleet: the operator's URL (see cliApiUrl), the token from SDX_API_TOKEN. */
export function sdxFactory(env: Record<string, string | undefined>, logger: Logger, apiUrl: OperatorApiUrl): (fleet: FleetDefaults) => SdxClient {
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
  const lockWait = opts.lockTimeout !== undefined ? Number(opts.lockTimeout) * 1000 : 600_000;
  const repo = await ctx.repo(opts);
  const secrets = await ctx.secrets(repo, opts);
  const apiUrl = cliApiUrl(ctx.io.env, opts.apiUrl);
  const sdxFor = sdxFactory(ctx.io.env, ctx.logger, apiUrl);
  let lock: Awaited<ReturnType<typeof acquireLock>>;
  try {
    lock = await acquireLock(join(repo.gitDir, 'routeros-gitops', 'apply.lock'), { purpose: 'apply', waitMs: lockWait, signal: ctx.io.signal });
  } catch (e) {
    if (e instanceof LockBusyError) {
      ctx.err(
        `error: ${e.message}; waited ${lockWait / 1000} s. Two applies never run at once on one repository; try again when it ends (or raise --lock-timeout).\n`,
      );
      return 1;
    }
    throw e;
  }
  const store = await ctx.stateStore(repo, opts);
  const progress = !!ctx.io.stderr.isTTY && opts.format !== 'json';
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
      ...pollSettings(ctx.io.env),
    });
    if (opts.format === 'json') writeJson((s) => ctx.out(s), applyToJson(result, result.warnings));
    else ctx.out(applyToText(result, result.warnings, ctx.style));
    return result.exitCode;
  } finally {
    await store.close();
    await lock.release();
  }
}
