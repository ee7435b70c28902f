// The GitHub side of a run, built one way for the Action and the daemon: the client (throttled,
// retried), the repository it writes to, and the commit-status sink that sees the plan before the
// first job and every event after.
import type { Logger } from '../core/logger.js';
import type { DesiredFleet } from '../core/model.js';
import type { ApplyEvent } from '../core/outcome.js';
import type { Plan } from '../core/plan.js';
import { parseRepository } from '../github/event.js';
import { createGitHubClient, type GitHubClient } from '../github/octokit.js';
import { createStatusWriter, type StatusWriter, type StatusWriterReport } from '../github/status-writer.js';
import { InputError } from '../core/errors.js';
import type { Runtime } from './runtime.js';

export interface GitHubTarget {
  client: GitHubClient;
  owner: string;
  repo: string;
}

export interface GitHubTargetOptions {
  token: string | undefined;
  /** owner/name (GITHUB_REPOSITORY). */
  repository: string | undefined;
  /** GITHUB_API_URL (Enterprise Server: https://HOST/api/v3). */
  apiUrl?: string;
  /** For messages: where the token and repository come from ("GITHUB_TOKEN", "input github-token"). */
  tokenSource: string;
}

/** The GitHub target, or null (with a warning saying why) when the token or the repository is missing. */
export function githubTarget(rt: Runtime, o: GitHubTargetOptions): GitHubTarget | null {
  if (!o.token && !o.repository) return null;
  if (!o.token) {
    rt.logger.warn({}, `${o.tokenSource} is not set: no pull request comment and no commit status will be written`);
    return null;
  }
  const slug = parseRepository(o.repository);
  if (!slug) {
    if (!o.repository) {
      rt.logger.warn({}, 'GITHUB_REPOSITORY is not set: no commit statuses are written (set both it and the token to have them)');
      return null;
    }
    throw new InputError({
      file: '(environment)',
      message: `GITHUB_REPOSITORY ${JSON.stringify(o.repository)} is not owner/name`,
      hint: 'set it like GITHUB_REPOSITORY=acme/network-config',
    });
  }
  rt.addSecrets([o.token]);
  const ms = (v: string | undefined) => (v !== undefined && v !== '' && Number(v) >= 0 ? Number(v) : undefined);
  const client = createGitHubClient({
    token: o.token,
    baseUrl: o.apiUrl,
    logger: rt.logger,
    writeIntervalMs: ms(rt.env.RGO_GITHUB_WRITE_INTERVAL_MS),
    notifyIntervalMs: ms(rt.env.RGO_GITHUB_NOTIFY_INTERVAL_MS),
  });
  return { client, ...slug };
}

/** A consumer of one run's plan and events (the daemon's EventSink has this shape). */
export interface RunSink {
  onPlan?(plan: Plan, desired: DesiredFleet): void | Promise<void>;
  onEvent(e: ApplyEvent): void;
  flush?(): Promise<void>;
  abort?(reason: string): Promise<void>;
}

export interface StatusSinkOptions {
  /** SDX web UI base for job links (SDX_WEB_URL, an input); default the fleet's web_url. */
  webUrl?: string;
  /** Above this many sites, statuses only for the roll-up and failed sites; default the fleet's status_limit. */
  siteLimit?: number;
  /** The roll-up's link (the Actions run). */
  rollupUrl?: string;
  /** Told of the report once the statuses are written (or the run aborted). */
  onReport?: (report: StatusWriterReport) => void;
}

/**
 * Commit statuses for one run: the writer is sized on the plan (the roll-up turns pending) before
 * the first job, takes every event, and writes the roll-ups at the end; an error after the plan
 * is said on the roll-up.
 */
export function statusSink(rt: Runtime, gh: GitHubTarget, o: StatusSinkOptions = {}): RunSink & { writer(): StatusWriter | null } {
  let writer: StatusWriter | null = null;
  const logger: Logger = rt.logger;
  return {
    writer: () => writer,
    onPlan(plan, desired) {
      writer = createStatusWriter({
        octokit: gh.client,
        owner: gh.owner,
        repo: gh.repo,
        logger,
        siteLimit: o.siteLimit ?? desired.fleet.status_limit,
        rollupUrl: o.rollupUrl,
        webUrl: o.webUrl ?? desired.fleet.web_url,
        redact: (s) => rt.redact()(s),
      });
      writer.begin(plan);
    },
    onEvent: (e) => writer?.onEvent(e),
    async abort(reason) {
      if (!writer) return;
      o.onReport?.(await writer.abort(reason));
    },
    async flush() {
      if (!writer) return;
      const r = await writer.flush();
      o.onReport?.(r);
    },
  };
}
