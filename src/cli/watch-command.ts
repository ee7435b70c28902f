// `watch`: the daemon's entry. Parses its options, takes the daemon lock, builds the adapters (git,
// state store, SDX client, secrets) as `apply` does, and hands them to the daemon core.
import { join } from 'node:path';
import type { Context, CommonOptions } from './context.js';
import { InputError } from '../core/errors.js';
import { lintHook } from '../core/checks.js';
import { acquireLock, LockBusyError, type Lock } from '../lock/lock-file.js';
import { parseListen } from '../core/listen.js';
import { positiveInt, pollSettings, sdxFactory } from './apply-command.js';
import { cliApiUrl } from './api-url-option.js';
import { statusRows } from './commands.js';
import { startDaemon, type EventSink } from '../daemon/daemon.js';
import { defaultBranch, localHead, remoteHead } from '../daemon/git-head.js';
import type { HeadSource } from '../daemon/watch-loop.js';
import type { SecretSource } from '../core/model.js';
import { VERSION } from '../version.js';
import { parseRepository } from '../github/event.js';
import { createGitHubClient, type GitHubClient } from '../github/octokit.js';
import { createStatusWriter, type StatusWriter } from '../github/status-writer.js';
import type { CommitInfo } from '../core/ports.js';
import type { Logger } from '../core/logger.js';

export interface WatchCliOptions extends CommonOptions {
  remote?: string;
  branch?: string;
  interval: string;
  retryInterval: string;
  jitter: string;
  debounce: string;
  listen?: string;
  shutdownTimeout: string;
  lockTimeout?: string;
  leaseTimeout: string;
  concurrency?: string;
  timeout?: string;
  apiUrl?: string;
  allowCheckErrors?: boolean;
}

/** "60", "60s", "1.5m", "500ms", "1h" -> milliseconds; a bare number is seconds. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'] : NaN;
  if (!(ms > 0)) throw new InputError(`${flag} ${JSON.stringify(value)} is not a duration; write it like 60s, 5m, 500ms or 1h (a bare number is seconds)`);
  return Math.round(ms);
}

export async function watchCommand(ctx: Context, raw: Record<string, unknown>): Promise<number> {
  const opts = raw as unknown as WatchCliOptions;
  const env = ctx.io.env;
  const signal = ctx.io.signal ?? new AbortController().signal;
  // A daemon is operated through its logs: info by default, even on a terminal.
  const pinoLike = ctx.logger as { level?: string };
  if (!opts.logLevel && !env.RGO_LOG_LEVEL && typeof pinoLike.level === 'string') pinoLike.level = 'info';

  // 1. Options, checked before anything is started.
  const intervalMs = parseDuration(opts.interval, '--interval');
  const retryIntervalMs = parseDuration(opts.retryInterval, '--retry-interval');
  const debounceMs = parseDuration(opts.debounce, '--debounce');
  const shutdownTimeoutMs = parseDuration(opts.shutdownTimeout, '--shutdown-timeout');
  const jitter = Number(opts.jitter);
  if (!(jitter >= 0 && jitter < 100)) throw new InputError(`--jitter ${JSON.stringify(opts.jitter)} is not a percentage from 0 to 99`);
  const leaseWaitMs = Number(opts.lockTimeout ?? opts.leaseTimeout) * 1000;
  if (!(leaseWaitMs >= 0)) throw new InputError(`--lease-timeout ${JSON.stringify(opts.lockTimeout ?? opts.leaseTimeout)} is not a number of seconds`);
  const listen = opts.listen !== undefined ? parseListen(opts.listen) : undefined;
  const concurrency = positiveInt(opts.concurrency, '--concurrency');
  const timeout = positiveInt(opts.timeout, '--timeout');
  if (opts.branch && !opts.remote) throw new InputError('--branch needs --remote; to follow a local branch, pass --ref <branch>');
  if (opts.remote && opts.ref !== 'HEAD')
    throw new InputError(`--ref and --remote do not go together; to follow ${opts.remote}'s branch ${opts.ref}, pass --branch ${opts.ref}`);
  const repo = await ctx.repo(opts);
  const apiUrl = cliApiUrl(env, opts.apiUrl);
  const sdxFor = sdxFactory(env, ctx.logger, apiUrl, signal);
  const github = githubTarget(env, ctx.logger);

  // 2. The followed head.
  let head: HeadSource;
  if (opts.remote) {
    const remotes = (await repo.run(['remote'])).stdout.toString('utf8').split('\n').filter(Boolean);
    if (!remotes.includes(opts.remote)) {
      throw new InputError(
        `--remote ${JSON.stringify(opts.remote)}: this repository has no such remote${remotes.length ? ` (it has ${remotes.join(', ')})` : ''}; add it with git remote add`,
      );
    }
    const branch = opts.branch ?? (await defaultBranch(repo, opts.remote));
    if (!branch) throw new InputError(`cannot tell which branch of ${opts.remote} to follow; pass --branch <name>`);
    head = remoteHead(repo, { remote: opts.remote, branch, logger: ctx.logger });
  } else {
    // Follow a branch, not whatever HEAD points at next: a rebase or a checkout in this clone moves
    // HEAD through commits nobody meant to apply. HEAD (the default) means the branch checked out now.
    let ref = opts.ref;
    if (ref === 'HEAD') {
      const r = await repo.run(['symbolic-ref', '--quiet', 'HEAD'], { okCodes: [1, 128] });
      if (r.exitCode === 0) ref = r.stdout.toString('utf8').trim();
      else ctx.logger.warn({ ref }, 'HEAD is detached: following HEAD itself; pass --ref <branch> to follow a branch');
    }
    head = await localHead(repo, { ref, debounceMs, logger: ctx.logger });
    // An unborn branch is fine (its first commit is picked up); a --ref naming nothing is a typo.
    await head.resolve().catch((e: unknown) => {
      if (!(e instanceof InputError && ref.startsWith('refs/heads/') && opts.ref === 'HEAD')) throw e;
    });
  }

  // 3. One daemon per repository, for its whole life.
  let daemonLock: Lock;
  try {
    daemonLock = await acquireLock(join(repo.gitDir, 'routeros-gitops', 'daemon.lock'), { purpose: 'watch', waitMs: 0 });
  } catch (e) {
    if (e instanceof LockBusyError) {
      ctx.err(
        `error: ${e.message}.\n  A routeros-gitops daemon${e.holder ? ` (pid ${e.holder.pid})` : ''} is already watching this repository, and two daemons never apply at once; stop it first (or run this one on another clone).\n`,
      );
      return 1;
    }
    throw e;
  }

  const store = await ctx.stateStore(repo, opts).catch(async (e: unknown) => {
    await daemonLock.release();
    throw e;
  });
  let secrets: SecretSource;
  // Each run plans incrementally from the last one's snapshot (see README, plan).
  const snapshot = ctx.planSnapshot(repo);
  const onHup = () => {
    ctx.secrets(repo, opts).then(
      (reloaded) => {
        secrets = reloaded;
        ctx.logger.info(
          { event: 'reloaded', secrets_file: opts.secretsFile ?? null },
          'settings reloaded (SIGHUP): secrets re-read; reconciling the current head again',
        );
        daemon?.reconcileNow('reload');
      },
      (e: unknown) => ctx.logger.error({ event: 'reload-failed', err: (e as Error).message }, 'could not reload the settings; keeping the previous ones'),
    );
  };
  let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
  try {
    secrets = await ctx.secrets(repo, opts);
    process.on('SIGHUP', onHup);
    daemon = await startDaemon({
      head,
      settings: () => ({
        reader: repo,
        store,
        sitesDir: opts.sites,
        secrets,
        lint: lintHook,
        snapshot,
        sdxFor,
        apiUrl,
        logger: ctx.logger,
        concurrency,
        timeout,
        allowCheckErrors: opts.allowCheckErrors,
        webUrl: env.SDX_WEB_URL,
        ...pollSettings(env),
      }),
      leaseWaitMs,
      siteStatus: async () => ({ state: store.describe(), sites: statusRows(await store.load()) }),
      runSink: github ? (commit) => statusSink(github, commit, { env, logger: ctx.logger, redact: (t) => ctx.redact(t) }) : undefined,
      listen,
      intervalMs,
      retryIntervalMs,
      jitter: jitter / 100,
      shutdownTimeoutMs,
      signal,
      logger: ctx.logger,
      info: { version: VERSION },
      redact: (t) => ctx.redact(t),
    });
    return await daemon.done;
  } finally {
    process.off('SIGHUP', onHup);
    await store.close().catch((e: unknown) => ctx.logger.warn({ err: (e as Error).message }, 'could not close the state store'));
    await daemonLock.release();
  }
}

interface GitHubTarget {
  client: GitHubClient;
  owner: string;
  repo: string;
}

/** Commit statuses are written when GITHUB_TOKEN and GITHUB_REPOSITORY are set (GITHUB_API_URL: the API base). */
function githubTarget(env: Record<string, string | undefined>, logger: Logger): GitHubTarget | null {
  if (!env.GITHUB_TOKEN && !env.GITHUB_REPOSITORY) return null;
  if (!env.GITHUB_TOKEN || !env.GITHUB_REPOSITORY) {
    logger.warn({}, `${env.GITHUB_TOKEN ? 'GITHUB_REPOSITORY' : 'GITHUB_TOKEN'} is not set: no commit statuses are written (set both to have them)`);
    return null;
  }
  const slug = parseRepository(env.GITHUB_REPOSITORY);
  if (!slug)
    throw new InputError({
      file: '(environment)',
      message: `GITHUB_REPOSITORY ${JSON.stringify(env.GITHUB_REPOSITORY)} is not owner/name`,
      hint: 'set it like GITHUB_REPOSITORY=acme/network-config',
    });
  return { client: createGitHubClient({ token: env.GITHUB_TOKEN, baseUrl: env.GITHUB_API_URL, logger }), ...slug };
}

/**
 * One run's status writer. It sees the plan through the sink's onPlan, before the first job goes
 * out (the roll-up turns pending, the site limit is decided).
 */
async function statusSink(
  gh: GitHubTarget,
  commit: CommitInfo,
  a: { env: Record<string, string | undefined>; logger: Logger; redact: (s: string) => string },
): Promise<EventSink> {
  let writer: StatusWriter | null = null;
  return {
    onPlan(plan, desired) {
      writer = createStatusWriter({
        octokit: gh.client,
        owner: gh.owner,
        repo: gh.repo,
        logger: a.logger,
        webUrl: a.env.SDX_WEB_URL ?? desired.fleet.web_url,
        siteLimit: desired.fleet.status_limit,
        redact: a.redact,
      });
      writer.begin(plan);
    },
    onEvent: (e) => writer?.onEvent(e),
    async abort(reason) {
      await writer?.abort(reason);
    },
    async flush() {
      if (!writer) return;
      const r = await writer.flush();
      a.logger.info(
        { event: 'statuses', commit: commit.sha, posted: r.posted.length, unchanged: r.unchanged, failed: r.failed, disabled: r.disabled },
        'commit statuses written',
      );
    },
  };
}
