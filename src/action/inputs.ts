// The Action's inputs (action.yml), read through a getter (core.getInput in main.ts) and checked
// here: `required: true` in action.yml enforces nothing, so every check is made in code, with a
// message that quotes the bad value and says what is expected.
import { InputError, type Problem } from '../core/errors.js';
import { redactCredentials } from '../core/redact.js';
import { parseBranchPatterns } from './apply-gate.js';

export type Command = 'plan' | 'apply';

export interface ActionInputs {
  command: Command;
  /** The sites directory, relative to the repository root. Default 'sites'. */
  sites: string;
  sdxApiUrl?: string;
  sdxApiToken?: string;
  sdxWebUrl?: string;
  githubToken?: string;
  concurrency?: number;
  /** Seconds to wait for each job's outcome. */
  timeout?: number;
  /** Keep one plan comment on the pull request. Default true. */
  comment: boolean;
  /** Write commit statuses on apply. Default true. */
  statuses: boolean;
  /** Above this many sites, only the roll-up and failed sites get statuses. Default: the fleet's status_limit (50). */
  statusLimit?: number;
  /** The commit to reconcile. Default: from the event. */
  ref?: string;
  /** The repository, relative to GITHUB_WORKSPACE. Default '.'. */
  workingDirectory: string;
  stateRef?: string;
  retryFailed: boolean;
  allowCheckErrors: boolean;
  /** Send lockout risks the scripts do not acknowledge (issue 14). Default false. */
  allowLockout: boolean;
  /** Branches besides the default one whose pushes apply (names or globs). Default none. */
  applyBranches: string[];
}

export type InputGetter = (name: string) => string;

const where = (name: string) => `(input ${name})`;

export function readInputs(get: InputGetter): ActionInputs {
  const problems: Problem[] = [];
  const text = (name: string) => get(name).trim() || undefined;
  const bool = (name: string, dflt: boolean): boolean => {
    const v = text(name);
    if (v === undefined) return dflt;
    if (/^(true|yes|on|1)$/i.test(v)) return true;
    if (/^(false|no|off|0)$/i.test(v)) return false;
    problems.push({ file: where(name), message: `${name}: ${JSON.stringify(v)} is not true or false`, hint: `set "${name}: true" or "${name}: false"` });
    return dflt;
  };
  const int = (name: string, min: number): number | undefined => {
    const v = text(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      problems.push({
        file: where(name),
        message: `${name}: ${JSON.stringify(v)} is not a whole number of at least ${min}`,
        hint: `for example "${name}: ${Math.max(min, 4)}"`,
      });
      return undefined;
    }
    return n;
  };
  const url = (name: string): string | undefined => {
    const v = text(name);
    if (v === undefined) return undefined;
    try {
      const u = new URL(v);
      if (u.protocol === 'http:' || u.protocol === 'https:') return v;
    } catch {
      /* reported below */
    }
    problems.push({
      file: where(name),
      message: `${name}: ${JSON.stringify(redactCredentials(v))} is not an http(s) URL`,
      hint: `for example "${name}: https://v1.api.altostrat.io"`,
    });
    return undefined;
  };

  const rawCommand = text('command');
  let command: Command = 'plan';
  if (rawCommand === 'plan' || rawCommand === 'apply') command = rawCommand;
  else
    problems.push({
      file: where('command'),
      message: rawCommand === undefined ? 'the input "command" is required' : `command: ${JSON.stringify(rawCommand)} is not a command of this Action`,
      hint: 'set "command: plan" for pull requests and merge queues, "command: apply" for pushes to the default branch',
    });

  const inputs: ActionInputs = {
    command,
    sites: text('sites') ?? 'sites',
    sdxApiUrl: url('sdx-api-url'),
    sdxApiToken: text('sdx-api-token'),
    sdxWebUrl: url('sdx-web-url'),
    githubToken: text('github-token'),
    concurrency: int('concurrency', 1),
    timeout: int('timeout', 1),
    comment: bool('comment', true),
    statuses: bool('statuses', true),
    statusLimit: int('status-limit', 0),
    ref: text('ref'),
    workingDirectory: text('working-directory') ?? '.',
    stateRef: text('state-ref'),
    retryFailed: bool('retry-failed', false),
    allowCheckErrors: bool('allow-check-errors', false),
    allowLockout: bool('allow-lockout', false),
    applyBranches: parseBranchPatterns(get('apply-branches')),
  };
  if (command === 'apply' && !inputs.sdxApiToken && problems.every((p) => p.file !== where('command'))) {
    problems.push({
      file: where('sdx-api-token'),
      message: 'the input "sdx-api-token" is required to apply',
      hint: 'store the token as a repository secret and pass it: "sdx-api-token: ${{ secrets.SDX_API_TOKEN }}"',
    });
  }
  if (inputs.sites.startsWith('/') || inputs.sites.split('/').includes('..')) {
    problems.push({
      file: where('sites'),
      message: `sites: ${JSON.stringify(inputs.sites)} must be a folder inside the repository`,
      hint: 'for example "sites: sites"',
    });
  }
  if (problems.length) throw new InputError(problems);
  return inputs;
}
