// Builds what both steps need from the inputs and the runner's environment: the event, the
// repository (with the commit to reconcile fetched), the state store, secrets, the GitHub client,
// where reports go, and the redactor every output passes through.
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from '../core/logger.js';
import { envSecrets, makeRedactor, MIN_SECRET_LENGTH, type Redact } from '../core/redact.js';
import { noSecrets, type SecretSource } from '../core/model.js';
import { operatorApiUrl, type OperatorApiUrl } from '../core/api-url.js';
import type { StateStore } from '../core/ports.js';
import { makePlan, type PlanResult } from '../core/engine.js';
import { lintHook } from '../core/checks.js';
import { openRepo, type GitRepo } from '../git/repo.js';
import { openStateStore } from '../state/open-store.js';
import { loadSecrets } from '../secrets/secret-source.js';
import { createGitHubClient, type GitHubClient } from '../github/octokit.js';
import { parseRepository, type WorkflowEvent } from '../github/event.js';
import { planAnnotations, capAnnotations, workspacePaths, type PathMapper } from '../github/annotations.js';
import type { Problem } from '../core/errors.js';
import type { Plan } from '../core/plan.js';
import type { ActionInputs } from './inputs.js';
import { redactingIo, type ActionIo } from './io.js';
import { createActionLogger, parseLogLevel } from './logger.js';
import { ensureCommit, unshallow } from './history.js';

export interface GitHubTarget {
  client: GitHubClient;
  owner: string;
  repo: string;
}

export interface StepContext {
  inputs: ActionInputs;
  io: ActionIo;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  event: WorkflowEvent;
  repo: GitRepo;
  /** The commit (or ref) to reconcile. */
  ref: string;
  secrets: SecretSource;
  github: GitHubTarget | null;
  /** The Actions run's page, for links. */
  runUrl: string | null;
  /** A folder for the full reports (under RUNNER_TEMP). */
  reportDir: string;
  paths: PathMapper;
  /** The redactor as it is now (it grows as secrets are loaded). */
  secretsRedact: () => Redact;
  /** Aborted when the runner cancels the job (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** The operator's SDX API URL (input sdx-api-url, SDX_API_URL, the default); a fleet file naming another is refused. */
  apiUrl: OperatorApiUrl;
  /**
   * A pull request from a fork: its code is not reviewed, and GitHub gives it a read-only token.
   * It is planned without secrets and writes nothing to GitHub (no comment attempt).
   */
  untrusted: boolean;
  openStore(): Promise<StateStore>;
}

export interface Secrets {
  add(values: Iterable<string | undefined>): void;
  redact: () => Redact;
}

/** The secrets to scrub: tokens from the inputs and environment, template secrets once loaded. */
export function secretsHolder(env: Readonly<Record<string, string | undefined>>, io: Pick<ActionIo, 'setSecret'>): Secrets {
  const values = new Set<string>();
  let redact = makeRedactor(values);
  const add = (more: Iterable<string | undefined>) => {
    for (const v of more) {
      if (!v || v.length < MIN_SECRET_LENGTH || values.has(v)) continue;
      values.add(v);
      io.setSecret(v);
    }
    redact = makeRedactor(values);
  };
  add(envSecrets(env));
  return { add, redact: () => redact };
}

export async function buildContext(inputs: ActionInputs, rawIo: ActionIo, secrets: Secrets, event: WorkflowEvent, signal?: AbortSignal): Promise<StepContext> {
  const env = rawIo.env;
  secrets.add([inputs.sdxApiToken, inputs.githubToken]);
  const io = redactingIo(rawIo, secrets.redact);
  const logger = createActionLogger({ info: io.info, debug: io.debug }, secrets.redact, parseLogLevel(env.RGO_LOG_LEVEL));
  const apiUrl = operatorApiUrl([
    { source: 'input sdx-api-url', value: inputs.sdxApiUrl },
    { source: 'SDX_API_URL', value: env.SDX_API_URL },
  ]);
  const untrusted = event.kind === 'pull_request' && event.fork;
  if (untrusted)
    logger.info(
      { pull_request: event.kind === 'pull_request' ? event.number : undefined },
      'a pull request from a fork: planning without secrets, and writing nothing to GitHub (the plan is in the step summary)',
    );
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const repo = await openRepo(resolve(workspace, inputs.workingDirectory), { logger });
  const ref = inputs.ref ?? event.sha ?? 'HEAD';
  await ensureCommit(repo, ref, logger);
  // A fork's code must not see (nor render into a report) any secret: none is loaded.
  const loaded = untrusted ? noSecrets : await loadSecrets({ env: env as Record<string, string | undefined>, repoRoot: repo.root });
  secrets.add(loaded.values());

  const where = parseRepository(env.GITHUB_REPOSITORY);
  let github: GitHubTarget | null = null;
  if (untrusted) {
    // A read-only token: no write is attempted.
  } else if (inputs.githubToken && where) {
    const ms = (v: string | undefined) => (v !== undefined && v !== '' && Number(v) >= 0 ? Number(v) : undefined);
    github = {
      client: createGitHubClient({
        token: inputs.githubToken,
        baseUrl: env.GITHUB_API_URL,
        logger,
        writeIntervalMs: ms(env.RGO_GITHUB_WRITE_INTERVAL_MS),
        notifyIntervalMs: ms(env.RGO_GITHUB_NOTIFY_INTERVAL_MS),
      }),
      ...where,
    };
  } else if (!inputs.githubToken) {
    logger.warn({}, 'no github-token: no pull request comment and no commit status will be written');
  }
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const runUrl = env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY ? `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : null;
  const reportDir = join(env.RUNNER_TEMP || tmpdir(), 'routeros-gitops');
  await mkdir(reportDir, { recursive: true });
  return {
    inputs,
    io,
    env,
    logger,
    event,
    repo,
    ref,
    secrets: loaded,
    github,
    runUrl,
    reportDir,
    paths: workspacePaths(repo.root, workspace),
    secretsRedact: secrets.redact,
    signal,
    apiUrl,
    untrusted,
    openStore: () => openStateStore({ cwd: repo.root, repo, stateRef: inputs.stateRef, logger, redact: secrets.redact }),
  };
}

/**
 * Plan; when a site's last applied commit could not be ordered against this one because the clone
 * is shallow, fetch the history and plan again (the state is not read twice).
 */
export async function planWithHistory(ctx: StepContext, store: StateStore): Promise<PlanResult> {
  const req = { reader: ctx.repo, ref: ctx.ref, sitesDir: ctx.inputs.sites, secrets: ctx.secrets, lint: lintHook, retryFailed: ctx.inputs.retryFailed };
  const first = await makePlan({ ...req, state: store });
  if (!first.plan.sites.some((s) => s.status === 'unknown-history')) return first;
  if (!(await unshallow(ctx.repo, first.plan.commit.sha, ctx.logger))) return first;
  return makePlan({ ...req, state: first.state });
}

/** Script findings and warnings as annotations (at most 10 of each kind); returns how many were left out. */
export function annotate(ctx: StepContext, plan: Plan, warnings: readonly Problem[]): number {
  const { send, dropped } = capAnnotations(planAnnotations(plan, warnings, ctx.paths));
  for (const a of send) ctx.io.annotate(a);
  return dropped;
}
