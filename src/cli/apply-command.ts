// `apply`: plan, then send one job per change and follow each to its outcome.
import { LeaseBusyError, LEASE_WAIT_MS } from '../apply/lease.js';
import { reconcile } from '../apply/reconcile.js';
import { describeHolder } from '../core/lease.js';
import { SdxAccessError } from '../core/errors.js';
import type { ApplyEvent } from '../core/outcome.js';
import { applyToJson, applyToText, colourOutcome } from '../report/apply-report.js';
import { parseOptions } from '../wiring/options.js';
import { writeJson } from './commands.js';
import type { Context } from './context.js';
import { APPLY_SPEC } from './option-specs.js';
import { ApplyDeclined, confirmApply } from './confirm-apply.js';
import { canAsk } from './prompt.js';
import { ApplyProgress } from './apply-progress.js';

export async function applyCommand(ctx: Context, raw: Record<string, unknown>, _args?: string[]): Promise<number> {
  const opts = parseOptions(APPLY_SPEC, raw);
  const leaseWait = opts.leaseTimeout ?? opts.lockTimeout ?? LEASE_WAIT_MS;
  const rt = ctx.runtime;
  const repo = await ctx.repo(opts);
  const secrets = await ctx.secrets(repo, opts);
  const sdxFor = await rt.sdxFactory();
  const store = await ctx.stateStore(repo, opts);
  const json = opts.format === 'json';
  const progress = !!ctx.io.stderr.isTTY && !json;
  // On a terminal, the plan is shown and a person says yes before anything is sent (issue 14).
  const ask = canAsk(ctx.io) && !opts.yes;
  // Without a terminal, a progress line every RGO_PROGRESS_INTERVAL (10 s) on stderr (issue 14).
  const ticker = ctx.io.stderr.isTTY ? null : new ApplyProgress((s) => ctx.err(s), rt.tuning.RGO_PROGRESS_INTERVAL);
  const onEvent = (e: ApplyEvent) => {
    ticker?.onEvent(e);
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
      ...rt.planChecks(repo),
      retryFailed: opts.retryFailed,
      sdxFor: async (fleet) => (ticker ? ticker.watch(await sdxFor(fleet)) : sdxFor(fleet)),
      apiUrl: rt.apiUrl,
      cache: await ctx.parseCache(repo),
      snapshot: ctx.planSnapshot(repo),
      logger: ctx.logger,
      concurrency: opts.concurrency,
      timeout: opts.timeout,
      noWait: !opts.wait,
      allowCheckErrors: opts.allowCheckErrors,
      allowLockout: opts.allowLockout,
      sitePatterns: opts.site,
      keepDisplay: ask,
      onPlan: async (plan, desired) => {
        if (ask) await confirmApply(ctx, repo, plan, desired, { allowCheckErrors: opts.allowCheckErrors, allowLockout: opts.allowLockout, json });
        ticker?.plan(plan);
      },
      webUrl: ctx.io.env.SDX_WEB_URL,
      signal: ctx.io.signal,
      onEvent,
      lease: {
        purpose: 'apply',
        waitMs: leaseWait,
        onWait: (l) => ctx.err(`waiting up to ${Math.round(leaseWait / 1000)} s for the apply lease, held by ${describeHolder(l)}\n`),
      },
      ...rt.poll(),
    });
    if (json) writeJson((s) => ctx.out(s), applyToJson(result, result.warnings));
    else ctx.out(applyToText(result, result.warnings, ctx.style));
    return result.exitCode;
  } catch (e) {
    if (e instanceof ApplyDeclined) {
      ctx.err('Apply cancelled: nothing was sent.\n');
      return 1;
    }
    // SDX unreachable or the token refused: the machine-readable document says so too (exit 3, run.ts).
    if (e instanceof SdxAccessError && json) writeJson((s) => ctx.out(s), sdxAccessJson(e));
    if (!(e instanceof LeaseBusyError)) throw e;
    if (json) writeJson((s) => ctx.out(s), leaseBusyJson(e));
    ctx.err(`error: ${e.message}\n`);
    return 1;
  } finally {
    ticker?.stop();
    await store.close();
  }
}

/** The JSON document of a run that found SDX unusable before sending anything. */
export function sdxAccessJson(e: SdxAccessError): object {
  return { error: { kind: 'sdx-access', reason: e.kind, message: e.message, api_url: e.apiUrl, status: e.status }, results: [], exit_code: 3 };
}

/** The JSON document of a run that could not take the lease: no results, the holder named. */
function leaseBusyJson(e: LeaseBusyError): object {
  return {
    error: { kind: 'lease-busy', message: e.message, holder: e.lease.holder, expires_at: e.lease.expires_at, waited_ms: e.waitedMs },
    results: [],
    exit_code: 1,
  };
}
