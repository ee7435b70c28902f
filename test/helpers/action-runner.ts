// Runs the committed dist/index.js the way the runner runs it: a child process with INPUT_*
// variables, GITHUB_EVENT_PATH holding GitHub's own example payloads (@octokit/webhooks-examples,
// repository and shas patched), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, in a workspace checked
// out like actions/checkout does (depth 1) from a bare origin.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BareRemote, runGitIn } from './git-repo.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLE = path.join(ROOT, 'dist', 'index.js');
export const OWNER = 'acme';
export const NAME = 'fleet';

interface WebhookExample {
  name: string;
  examples: Array<Record<string, unknown>>;
}
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookExample[];
/** A deep copy of the first example payload of event `name` that `pick` accepts. */
export const example = (name: string, pick: (e: Record<string, unknown>) => boolean) =>
  structuredClone(examples.find((e) => e.name === name)!.examples.find(pick)!);

/** A payload's repository, renamed to ours (acme/fleet, default branch main). */
export function repository(r: Record<string, unknown>) {
  return { ...r, name: NAME, full_name: `${OWNER}/${NAME}`, owner: { ...(r.owner as object), login: OWNER }, default_branch: 'main', master_branch: 'main' };
}

/** GitHub's example push payload, moved to our repository and commits (on `branch`, default main). */
export function pushEvent(before: string, after: string, branch = 'main'): Record<string, unknown> {
  const e = example('push', (x) => x.ref === 'refs/heads/master' && !!x.head_commit);
  e.ref = `refs/heads/${branch}`;
  e.before = before;
  e.after = after;
  e.head_commit = { ...(e.head_commit as object), id: after };
  e.repository = repository(e.repository as Record<string, unknown>);
  return e;
}

/** GitHub's example pull_request (synchronize) payload, for our repository; `fork` makes the head a fork. */
export function pullRequestEvent(n: number, head: string, base: string, fork = false): Record<string, unknown> {
  const e = example('pull_request', (x) => x.action === 'synchronize');
  e.number = n;
  const pr = e.pull_request as Record<string, Record<string, unknown>>;
  const baseRepo = repository(pr.base!.repo as Record<string, unknown>);
  const headRepo = fork ? { ...baseRepo, full_name: `forker/${NAME}`, owner: { login: 'forker' }, fork: true } : baseRepo;
  e.pull_request = {
    ...pr,
    number: n,
    head: { ...pr.head, sha: head, ref: 'change', repo: headRepo },
    base: { ...pr.base, sha: base, ref: 'main', repo: baseRepo },
  };
  e.repository = baseRepo;
  return e;
}

/** Registers a cleanup (the suite's lifecycle). */
export type Defer = (fn: () => unknown) => void;

/** A workspace as actions/checkout makes it: one commit fetched (depth 1) from origin, checked out. */
export async function checkout(remote: BareRemote, sha: string, defer: Defer, dest = 'refs/remotes/origin/main'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rgo-ws-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const git = (args: string[]) => runGitIn(dir, args);
  await git(['init', '-q']);
  await git(['config', 'gc.auto', '0']);
  await git(['remote', 'add', 'origin', `file://${remote.dir}`]);
  await git(['-c', 'protocol.version=2', 'fetch', '--no-tags', '--prune', '--no-recurse-submodules', '--depth=1', 'origin', `+${sha}:${dest}`]);
  if (dest === 'refs/remotes/origin/main') await git(['checkout', '-q', '--force', '-B', 'main', dest]);
  else await git(['checkout', '-q', '--force', '--detach', dest]);
  return dir;
}

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** Everything the run wrote (stdout without ::add-mask:: lines, stderr, outputs, summary, reports). */
  everything(): Promise<string>;
}

export interface ActionRunOptions {
  workspace: string;
  event: string;
  payload: Record<string, unknown>;
  sha: string;
  /** Inputs by their action.yml names (INPUT_<NAME> variables). */
  inputs: Record<string, string>;
  /** More environment (SDX_API_URL, GITHUB_API_URL, RGO_*...), over the runner's own variables. */
  env?: Record<string, string>;
  defer: Defer;
}

/** Run the bundle once, as the runner would, and read what it wrote. */
export async function runActionBundle(opts: ActionRunOptions): Promise<ActionRun> {
  const tmp = await mkdtemp(path.join(tmpdir(), 'rgo-runner-'));
  opts.defer(() => rm(tmp, { recursive: true, force: true }));
  const eventPath = path.join(tmp, 'event.json');
  const outputPath = path.join(tmp, 'output');
  const summaryPath = path.join(tmp, 'summary.md');
  await writeFile(eventPath, JSON.stringify(opts.payload));
  await writeFile(outputPath, '');
  await writeFile(summaryPath, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmp,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_EVENT_NAME: opts.event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: `${OWNER}/${NAME}`,
    GITHUB_SHA: opts.sha,
    GITHUB_REF: opts.event === 'pull_request' ? `refs/pull/${String(opts.payload.number)}/merge` : 'refs/heads/main',
    GITHUB_WORKSPACE: opts.workspace,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_RUN_ID: '4242',
    RUNNER_TEMP: tmp,
    ...opts.env,
  };
  for (const [k, v] of Object.entries(opts.inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const child = spawn(process.execPath, [BUNDLE], { cwd: opts.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const t0 = Date.now();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (process.env.SHOW_TIME) console.log(`${opts.event} ${opts.inputs.command} took ${Date.now() - t0} ms`);
  const outputs = parseOutputs(await readFile(outputPath, 'utf8'));
  const summary = await readFile(summaryPath, 'utf8');
  return {
    code,
    stdout,
    stderr,
    outputs,
    summary,
    async everything() {
      const reports = [outputs.report, outputs['report-json']].filter((p): p is string => !!p && existsSync(p)).map((p) => readFileSync(p, 'utf8'));
      const visible = stdout
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n');
      return [visible, stderr, JSON.stringify(outputs), summary, ...reports].join('\n');
    },
  };
}

/** GITHUB_OUTPUT as @actions/core writes it: name<<DELIMITER, value, DELIMITER. */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (m) {
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i]!);
      out[m[1]!] = value.join('\n');
    } else if (lines[i]!.includes('=')) {
      const [k, ...v] = lines[i]!.split('=');
      out[k!] = v.join('=');
    }
  }
  return out;
}
