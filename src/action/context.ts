// Builds what both steps need from the inputs and the runner's environment: the event, the
// repository (with the commit to reconcile fetched), the state store, secrets, the GitHub client,
// where reports go, and the redactor every output passes through.
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import type { Redact } from '../core/redact.js';
import type { SecretSource } from '../core/model.js';
import type { OperatorApiUrl } from '../core/api-url.js';
import type { StateStore } from '../core/ports.js';
import { makePlan, type PlanResult } from '../core/engine.js';
import type { GitRepo } from '../git/repo.js';
import type { WorkflowEvent } from '../github/event.js';
import { githubTarget, type GitHubTarget } from '../wiring/github.js';
import { Runtime } from '../wiring/runtime.js';
import { planAnnotations, capAnnotations, workspacePaths, type PathMapper } from '../github/annotations.js';
import type { Problem } from '../core/errors.js';
import type { Plan } from '../core/plan.js';
import type { ActionInputs } from './inputs.js';
import { redactingIo, type ActionIo } from './io.js';
import { ensureCommit, unshallow } from './history.js';

export interface StepContext {
  /** Builds every adapter (src/wiring). */
  runtime: Runtime;
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

/**
 * Build the step's context: the runtime (src/wiring) from the inputs and the runner's environment,
 * the event, the repository (with the commit to reconcile fetched), the secrets (none for a fork's
 * pull request), the GitHub target, and where reports go.
 */
export async function buildContext(inputs: ActionInputs, rawIo: ActionIo, event: WorkflowEvent, signal?: AbortSignal): Promise<StepContext> {
  const env = rawIo.env;
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const runtime = new Runtime({
    env,
    cwd: workspace,
    log: { kind: 'lines', sink: { info: (l) => rawIo.info(l), debug: (l) => rawIo.debug(l) } },
    apiUrl: [
      { source: 'input sdx-api-url', value: inputs.sdxApiUrl },
      { source: 'SDX_API_URL', value: env.SDX_API_URL },
    ],
    sdxToken: { value: inputs.sdxApiToken, source: 'input sdx-api-token' },
    secrets: [inputs.sdxApiToken, inputs.githubToken],
    mask: (v) => rawIo.setSecret(v),
    signal,
    // The plan step reads no template secret (below): hiding their values would only single out text.
    hideTemplateSecrets: inputs.command !== 'plan',
  });
  const io = redactingIo(rawIo, () => runtime.redact());
  const logger = runtime.logger;
  const apiUrl = runtime.apiUrl;
  const untrusted = event.kind === 'pull_request' && event.fork;
  if (untrusted)
    logger.info(
      { pull_request: event.kind === 'pull_request' ? event.number : undefined },
      'a pull request from a fork: planning without secrets, and writing nothing to GitHub (the plan is in the step summary)',
    );
  const repo = await runtime.openRepo(inputs.workingDirectory);
  const ref = inputs.ref ?? event.sha ?? 'HEAD';
  await ensureCommit(repo, ref, logger);
  // A fork's code must not see (nor render into a report) any secret: none is loaded. Nor does a
  // plan step: what it shows goes to a pull request, and whatever it hid (or the runner masked)
  // would tell a committer which of their text equals a secret. A rotated secret shows at apply.
  const withoutSecrets = untrusted || inputs.command === 'plan';
  if (withoutSecrets && !untrusted && Object.keys(env).some((k) => k.startsWith('RGO_SECRET_') && k !== 'RGO_SECRETS_KEY'))
    logger.info(
      {},
      'the plan step does not read template secrets (RGO_SECRET_*): a plan on a pull request must not tell a committer anything about them; a rotated secret shows in the apply step',
    );
  const loaded = await runtime.loadSecrets(repo, { none: withoutSecrets });
  // A fork gets a read-only token: no write is attempted.
  const github = untrusted
    ? null
    : githubTarget(runtime, { token: inputs.githubToken, repository: env.GITHUB_REPOSITORY, apiUrl: env.GITHUB_API_URL, tokenSource: 'input github-token' });
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const runUrl = env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY ? `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : null;
  const reportDir = join(env.RUNNER_TEMP || tmpdir(), 'routeros-gitops');
  await mkdir(reportDir, { recursive: true });
  return {
    runtime,
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
    secretsRedact: () => runtime.redact(),
    signal,
    apiUrl,
    untrusted,
    openStore: () => runtime.openState(repo, { stateRef: inputs.stateRef }),
  };
}

/**
 * Plan; when a site's last applied commit could not be ordered against this one because the clone
 * is shallow, fetch the history and plan again (the state is not read twice).
 */
export async function planWithHistory(ctx: StepContext, store: StateStore): Promise<PlanResult> {
  // Issue 18: incremental, from the state's plan index (a fresh clone has no snapshot of its own).
  const snapshot = ctx.runtime.planSnapshot(ctx.repo);
  const req = {
    reader: ctx.repo,
    ref: ctx.ref,
    sitesDir: ctx.inputs.sites,
    secrets: ctx.secrets,
    ...ctx.runtime.planChecks(ctx.repo),
    retryFailed: ctx.inputs.retryFailed,
    snapshot,
  };
  const first = await makePlan({ ...req, state: store });
  if (!first.plan.sites.some((s) => s.status === 'unknown-history')) return first;
  if (!(await unshallow(ctx.repo, first.plan.commit.sha, ctx.logger))) return first;
  // An incremental plan's state holds only the sites it read: the store is asked again then.
  return makePlan({ ...req, state: first.partial ? store : first.state });
}

/** Script findings and warnings as annotations (at most 10 of each kind); returns how many were left out. */
export function annotate(ctx: StepContext, plan: Plan, warnings: readonly Problem[]): number {
  const { send, dropped } = capAnnotations(planAnnotations(plan, warnings, ctx.paths));
  for (const a of send) ctx.io.annotate(a);
  return dropped;
}
