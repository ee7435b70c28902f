// The Action's inputs (action.yml), read through a getter (core.getInput in main.ts) and checked
// here: `required: true` in action.yml enforces nothing, so every check is made in code, with a
// message that quotes the bad value and says what is expected.
import { InputError, type Problem } from '../core/errors.js';
import { redactCredentials } from '../core/redact.js';
import { APPLY_OPTIONS, collectOptions, type Namer, type OptionParser, opt, type Spec, written } from '../wiring/options.js';
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

/** An input's name in action.yml: statusLimit -> status-limit. */
export const inputName = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const inputNamer: Namer = (key) => `input ${inputName(key)}`;
const where = (name: string) => `(input ${name})`;

/** An http(s) URL; a bad one is quoted without its credentials. */
const httpUrl: OptionParser<string | undefined> = (raw, name, problems) => {
  if (raw === undefined || raw === '') return undefined;
  const v = String(raw);
  try {
    const u = new URL(v);
    if (u.protocol === 'http:' || u.protocol === 'https:') return v;
  } catch {
    /* reported below */
  }
  problems.push({
    file: `(${name})`,
    message: `${name} ${JSON.stringify(redactCredentials(v))} is not an http(s) URL`,
    hint: `for example ${written(name, 'https://v1.api.altostrat.io')}`,
  });
  return undefined;
};

/**
 * The inputs besides `command` and `apply-branches`, in the order they are checked. Those that are
 * options of the CLI too (apply's --concurrency, --timeout, --retry-failed, --allow-check-errors)
 * use the CLI's specs, so their limits are the same from every entry.
 */
export const INPUT_SPEC = {
  sites: opt.stringOr('sites'),
  sdxApiUrl: httpUrl,
  sdxApiToken: opt.string(),
  sdxWebUrl: httpUrl,
  githubToken: opt.string(),
  concurrency: APPLY_OPTIONS.concurrency,
  timeout: APPLY_OPTIONS.timeout,
  comment: opt.bool(true),
  statuses: opt.bool(true),
  statusLimit: opt.int(0, 1_000_000),
  ref: opt.string(),
  workingDirectory: opt.stringOr('.'),
  stateRef: opt.string(),
  retryFailed: APPLY_OPTIONS.retryFailed,
  allowCheckErrors: APPLY_OPTIONS.allowCheckErrors,
  allowLockout: APPLY_OPTIONS.allowLockout,
} satisfies Spec;

/** Read and check every input at once: an InputError lists every problem, each quoting the bad value. */
export function readInputs(get: InputGetter): ActionInputs {
  const problems: Problem[] = [];
  const command = readCommand(get('command').trim(), problems);
  const raw = Object.fromEntries(Object.keys(INPUT_SPEC).map((key) => [key, get(inputName(key)).trim()]));
  const inputs: ActionInputs = { command, ...collectOptions(INPUT_SPEC, raw, inputNamer, problems), applyBranches: parseBranchPatterns(get('apply-branches')) };
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
      message: `input sites ${JSON.stringify(inputs.sites)} must be a folder inside the repository`,
      hint: 'for example "sites: sites"',
    });
  }
  if (problems.length) throw new InputError(problems);
  return inputs;
}

/** The command input: required, plan or apply. */
function readCommand(value: string, problems: Problem[]): Command {
  if (value === 'plan' || value === 'apply') return value;
  problems.push({
    file: where('command'),
    message: value === '' ? 'the input "command" is required' : `input command ${JSON.stringify(value)} is not a command of this Action`,
    hint: 'set "command: plan" for pull requests and merge queues, "command: apply" for pushes to the default branch',
  });
  return 'plan';
}
