// The daemon's entry: from its settings to a running daemon. It resolves what to follow (a local
// branch watched, or a remote's branch fetched), holds the one-daemon-per-repository lock for its
// whole life, builds the run settings from the runtime (src/wiring), reloads the secrets on SIGHUP,
// and hands everything to the daemon core (daemon.ts). The CLI's `watch` only parses flags.
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SdxClient } from '../core/jobs.js';
import { noSecrets, type SecretSource } from '../core/model.js';
import type { CommitInfo, StateStore } from '../core/ports.js';
import type { FleetDefaults } from '../core/settings.js';
import { statusRows } from '../report/status.js';
import type { GitRepo } from '../git/repo.js';
import { listRemotes } from '../git/remotes.js';
import { acquireLock, LockBusyError, type Lock } from '../lock/lock-file.js';
import { VERSION } from '../version.js';
import { type GitHubTarget, githubTarget, statusSink } from '../wiring/github.js';
import type { Runtime, StateLocation } from '../wiring/runtime.js';
import { type Daemon, type DaemonOptions, type EventSink, startDaemon } from './daemon.js';
import { defaultBranch, localHead, remoteHead } from './git-head.js';
import type { HeadSource } from './watch-loop.js';

export interface WatchSettings extends StateLocation {
  /** The repository (relative to the runtime's cwd); default the cwd. */
  cwd?: string;
  sites: string;
  ref: string;
  secretsFile?: string;
  remote?: string;
  branch?: string;
  intervalMs: number;
  retryIntervalMs: number;
  /** 0..0.99 */
  jitter: number;
  debounceMs: number;
  listen?: { host: string; port: number };
  shutdownTimeoutMs: number;
  leaseWaitMs: number;
  concurrency?: number;
  timeout?: number;
  allowCheckErrors: boolean;
  /** Send lockout risks nobody acknowledged (issue 14). Default false: such a commit is refused, as invalid. */
  allowLockout?: boolean;
}

export interface WatchIo {
  /** A message for people (a second daemon refused). */
  err(text: string): void;
  /** Aborted on SIGTERM/SIGINT. */
  signal: AbortSignal;
  /** SIGHUP: default process.on('SIGHUP'). */
  onReload?(listener: () => void): () => void;
}

/** What changes while the daemon runs: the secrets (SIGHUP reloads them) and the daemon, once started. */
interface Live {
  secrets: SecretSource;
  daemon?: Daemon;
}

/** What every run reads, built once at start. */
interface WatchParts {
  repo: GitRepo;
  store: StateStore;
  head: HeadSource;
  sdxFor: (fleet: FleetDefaults) => SdxClient | Promise<SdxClient>;
  github: GitHubTarget | null;
  live: Live;
}

/** Run the daemon until it is stopped; resolves with its exit code. */
export async function runWatch(rt: Runtime, s: WatchSettings, io: WatchIo): Promise<number> {
  const repo = await rt.openRepo(s.cwd);
  const sdxFor = await rt.sdxFactory();
  const github = githubTarget(rt, {
    token: rt.env.GITHUB_TOKEN,
    repository: rt.env.GITHUB_REPOSITORY,
    apiUrl: rt.env.GITHUB_API_URL,
    tokenSource: 'GITHUB_TOKEN',
  });
  const head = await followedHead(repo, s, rt.logger);
  const daemonLock = await holdDaemonLock(repo, io);
  if (!daemonLock) return 1;
  const store = await rt.openState(repo, s).catch(async (e: unknown) => {
    await daemonLock.release();
    throw e;
  });
  const live: Live = { secrets: noSecrets };
  const offReload = (io.onReload ?? onSighup)(() => reloadSecrets(rt, repo, s, live));
  try {
    live.secrets = await rt.loadSecrets(repo, { file: s.secretsFile });
    live.daemon = await startDaemon(daemonOptions(rt, s, io, { repo, store, head, sdxFor, github, live }));
    return await live.daemon.done;
  } finally {
    offReload();
    await store.close().catch((e: unknown) => rt.logger.warn({ err: (e as Error).message }, 'could not close the state store'));
    await daemonLock.release();
  }
}

/** SIGHUP: read the secrets again, then reconcile the current head again; on failure keep the previous ones. */
export function reloadSecrets(rt: Runtime, repo: GitRepo, s: WatchSettings, live: Live): void {
  rt.loadSecrets(repo, { file: s.secretsFile }).then(
    (reloaded) => {
      live.secrets = reloaded;
      // A process's environment cannot change: only the secrets file is read anew.
      const fromEnv = Object.keys(rt.env).filter((k) => k.startsWith('RGO_SECRET_') && k !== 'RGO_SECRETS_KEY');
      if (fromEnv.length) {
        rt.logger.warn(
          { event: 'reload-env', variables: fromEnv },
          'secrets set in the environment (RGO_SECRET_*) keep their values until a restart, and win over the secrets file: rotate those with a restart, or move them to --secrets-file',
        );
      }
      rt.logger.info(
        { event: 'reloaded', secrets_file: s.secretsFile ?? null },
        'settings reloaded (SIGHUP): secrets re-read; reconciling the current head again',
      );
      live.daemon?.reconcileNow('reload');
    },
    (e: unknown) => rt.logger.error({ event: 'reload-failed', err: (e as Error).message }, 'could not reload the settings; keeping the previous ones'),
  );
}

/** The daemon's options: its schedule and endpoints from the settings, each run's settings read anew (a reload takes effect). */
function daemonOptions(rt: Runtime, s: WatchSettings, io: WatchIo, p: WatchParts): DaemonOptions {
  // Each run plans incrementally from the last one's snapshot (see README, plan).
  const snapshot = rt.planSnapshot(p.repo);
  const github = p.github;
  return {
    head: p.head,
    settings: () => ({
      reader: p.repo,
      store: p.store,
      sitesDir: s.sites,
      secrets: p.live.secrets,
      ...rt.planChecks(p.repo), // issue 18: the check cache and worker threads
      snapshot,
      sdxFor: p.sdxFor,
      apiUrl: rt.apiUrl,
      logger: rt.logger,
      concurrency: s.concurrency,
      timeout: s.timeout,
      allowCheckErrors: s.allowCheckErrors,
      allowLockout: s.allowLockout,
      webUrl: rt.env.SDX_WEB_URL,
      ...rt.poll(),
    }),
    leaseWaitMs: s.leaseWaitMs,
    siteStatus: async () => ({ state: p.store.describe(), sites: statusRows(await p.store.load()) }),
    runSink: github ? (commit) => Promise.resolve(commitStatusSink(rt, github, commit)) : undefined,
    listen: s.listen,
    intervalMs: s.intervalMs,
    retryIntervalMs: s.retryIntervalMs,
    jitter: s.jitter,
    shutdownTimeoutMs: s.shutdownTimeoutMs,
    signal: io.signal,
    logger: rt.logger,
    info: { version: VERSION },
    redact: (t) => rt.redact()(t),
  };
}

function onSighup(listener: () => void): () => void {
  process.on('SIGHUP', listener);
  return () => process.off('SIGHUP', listener);
}

/** What the daemon follows: a remote's branch (fetched), or a local branch (watched). */
async function followedHead(repo: GitRepo, s: WatchSettings, logger: Logger): Promise<HeadSource> {
  if (s.branch && !s.remote) throw new InputError('--branch needs --remote; to follow a local branch, pass --ref <branch>');
  if (s.remote && s.ref !== 'HEAD')
    throw new InputError(`--ref and --remote do not go together; to follow ${s.remote}'s branch ${s.ref}, pass --branch ${s.ref}`);
  if (s.remote) {
    const remotes = await listRemotes(repo);
    if (!remotes.includes(s.remote)) {
      throw new InputError(
        `--remote ${JSON.stringify(s.remote)}: this repository has no such remote${remotes.length ? ` (it has ${remotes.join(', ')})` : ''}; add it with git remote add`,
      );
    }
    const branch = s.branch ?? (await defaultBranch(repo, s.remote));
    if (!branch) throw new InputError(`cannot tell which branch of ${s.remote} to follow; pass --branch <name>`);
    return remoteHead(repo, { remote: s.remote, branch, logger });
  }
  // Follow a branch, not whatever HEAD points at next: a rebase or a checkout in this clone moves
  // HEAD through commits nobody meant to apply. HEAD (the default) means the branch checked out now.
  let ref = s.ref;
  if (ref === 'HEAD') {
    const r = await repo.run(['symbolic-ref', '--quiet', 'HEAD'], { okCodes: [1, 128] });
    if (r.exitCode === 0) ref = r.stdout.toString('utf8').trim();
    else logger.warn({ ref }, 'HEAD is detached: following HEAD itself; pass --ref <branch> to follow a branch');
  }
  const head = await localHead(repo, { ref, debounceMs: s.debounceMs, logger });
  // An unborn branch is fine (its first commit is picked up); a --ref naming nothing is a typo.
  await head.resolve().catch((e: unknown) => {
    if (!(e instanceof InputError && ref.startsWith('refs/heads/') && s.ref === 'HEAD')) throw e;
  });
  return head;
}

/** One daemon per repository, for its whole life; null (after saying so) when another holds it. */
async function holdDaemonLock(repo: GitRepo, io: WatchIo): Promise<Lock | null> {
  try {
    return await acquireLock(join(repo.gitDir, 'routeros-gitops', 'daemon.lock'), { purpose: 'watch', waitMs: 0 });
  } catch (e) {
    if (!(e instanceof LockBusyError)) throw e;
    io.err(
      `error: ${e.message}.\n  A routeros-gitops daemon${e.holder ? ` (pid ${e.holder.pid})` : ''} is already watching this repository, and two daemons never apply at once; stop it first (or run this one on another clone).\n`,
    );
    return null;
  }
}

/** Commit statuses of one run, on the commits its changes came from, logged when written. */
function commitStatusSink(rt: Runtime, gh: GitHubTarget, commit: CommitInfo): EventSink {
  return statusSink(rt, gh, {
    webUrl: rt.env.SDX_WEB_URL,
    onReport: (r) =>
      rt.logger.info(
        { event: 'statuses', commit: commit.sha, posted: r.posted.length, unchanged: r.unchanged, failed: r.failed, disabled: r.disabled },
        'commit statuses written',
      ),
  });
}
