// The CLI: parses arguments (commander), builds the adapters, calls the core, and turns its
// result into output and an exit code. Nothing below this file calls process.exit.
import { Command, CommanderError, Option } from 'commander';
import { InputError, SdxAccessError, formatProblem } from '../core/errors.js';
import type { CliIo } from './io.js';
import { Context, type CommonOptions } from './context.js';
import { planCommand, validateCommand, statusCommand, schemaCommand, rulesCommand } from './commands.js';
import { VERSION } from '../version.js';
import { watchOptions } from '../daemon/watch-options.js';
import { applySafetyOptions, planSafetyOptions, siteOption } from './safety-options.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_INVALID = 2;
/** SDX could not be used: unreachable, the token refused, not the SDX API (nothing was sent). */
export const EXIT_SDX = 3;

type Handler = (ctx: Context, opts: Record<string, unknown>, args: string[]) => Promise<number>;
/** Turns a handler into a commander action that records the context it made and the exit code it returned. */
type Wrap = (handler: Handler) => (this: Command, ...rest: unknown[]) => Promise<void>;

/** One invocation: the context the command made (for error messages) and its exit code. */
interface Invocation {
  ctx?: Context;
  exitCode: number;
}

export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const call: Invocation = { exitCode: EXIT_OK };
  const program = buildProgram(io, wrapper(io, call));
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT_OK;
      return invalidCommandLine(argv);
    }
    return reportError(e, call.ctx, io);
  }
  return call.exitCode;
}

/** The command table: every command with its options and its handler. */
export function buildProgram(io: CliIo, wrap: Wrap): Command {
  const program = new Command('routeros-gitops');
  program
    .description('GitOps for MikroTik RouterOS fleets through the Altostrat SDX jobs API')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });
  addReadCommands(program, wrap);
  addApplyCommand(program, wrap);
  addStateCommands(program, wrap);
  watchOptions(commonOptions(program.command('watch')))
    .description('the daemon: follow a branch (local, or --remote) and apply every new commit')
    .action(wrap(async (c, o) => (await import('./watch-command.js')).watchCommand(c, o)));
  addSandboxCommands(program, wrap);
  addReferenceCommands(program, wrap);
  return program;
}

function wrapper(io: CliIo, call: Invocation): Wrap {
  return (handler) =>
    async function (this: Command, ...rest: unknown[]) {
      const cmd = rest[rest.length - 1] as Command;
      const opts = cmd.optsWithGlobals() as Record<string, unknown>;
      const args = (rest.slice(0, -2) as unknown[]).flat().filter((a): a is string => typeof a === 'string');
      // plan shows template secrets' values nowhere, and hides none: see Runtime.loadSecrets.
      call.ctx = new Context(io, opts, cmd.name() === 'watch' ? 'info' : undefined, { hideTemplateSecrets: cmd.name() !== 'plan' });
      call.exitCode = await handler(call.ctx, opts, args);
    };
}

/** The options of every command that reads the fleet and the state. */
function commonOptions(cmd: Command): Command {
  return cmd
    .option('-C, --cwd <dir>', 'the repository to work in (default: the current directory)')
    .option('--sites <dir>', 'the sites directory, relative to the repository root', 'sites')
    .option('--ref <ref>', 'the commit, branch or tag to reconcile', 'HEAD')
    .option('--state-file <path>', 'keep the applied state in this JSON file instead of the state ref')
    .option('--state-ref <ref>', 'the ref holding the applied state (default: refs/routeros-gitops/state)')
    .option('--state-remote <name>', 'fetch the state ref from and push it to this remote')
    .option('--secrets-file <path>', 'YAML file of secret values (outside the repository)')
    .option('--log-level <level>', 'pino log level: debug, info, warn, error (default: info when not on a terminal)');
}

const formatOption = (...choices: string[]) => new Option('--format <format>', 'output format').choices(choices).default('text');

/** plan, validate, status: they read, and send nothing. */
function addReadCommands(program: Command, wrap: Wrap): void {
  planSafetyOptions(commonOptions(program.command('plan')))
    .description('show what apply would send (a dry run): one job per changed script')
    .addOption(formatOption('text', 'json', 'markdown'))
    .option('--retry-failed', 'plan to send again scripts whose last job failed (with a new idempotency key)')
    .option('--api-url <url>', 'the SDX API base URL apply would use (default: SDX_API_URL, else https://v1.api.altostrat.io)')
    .action(wrap(planCommand));

  commonOptions(program.command('validate'))
    .description('check the repository (or the given script files) without sending anything')
    .argument('[files...]', 'script files to check (for pre-commit hooks and editors); default: the whole repository at --ref')
    .addOption(formatOption('text', 'json'))
    .option(
      '--routeros <version>',
      "check every command against this RouterOS version's command tree (default: each site's routeros: setting; for files, the newest version known)",
    )
    .option('--packages <list>', 'comma-separated extra packages the router has, with --routeros (default: any)')
    .option('--allow-lockout', 'do not fail on lockout risks that are not acknowledged (as apply --allow-lockout sends them)')
    .action(wrap(validateCommand));

  siteOption(commonOptions(program.command('status')))
    .description('per site: the last applied commit, the last outcome and when')
    .addOption(formatOption('text', 'json'))
    .action(wrap(statusCommand));
}

function addApplyCommand(program: Command, wrap: Wrap): void {
  applySafetyOptions(commonOptions(program.command('apply')))
    .description('send one SDX job per change and follow each to its outcome; record outcomes in the state')
    .addOption(formatOption('text', 'json'))
    .option('--retry-failed', 'send again scripts whose last job failed (with a new idempotency key)')
    .option('--no-wait', 'create the jobs and return without following them (the next run records their outcomes)')
    .option('--concurrency <n>', 'sites applied at once (default: the concurrency setting, 4)')
    .option('--timeout <seconds>', "seconds to wait for each job's outcome (default: the timeout setting, 600)")
    .option('--api-url <url>', 'SDX API base URL (default: SDX_API_URL, else https://v1.api.altostrat.io); https, or http to a loopback address')
    .option('--allow-check-errors', 'apply even when a script check reports an error')
    .option('--lease-timeout <seconds>', 'how long to wait for another apply holding the lease of the shared state (default 300)')
    .addOption(new Option('--lock-timeout <seconds>', 'the former name of --lease-timeout').hideHelp())
    .action(wrap(async (c, o, a) => (await import('./apply-command.js')).applyCommand(c, o, a)));
}

/** state break-lease, accept-history, rekey. */
function addStateCommands(program: Command, wrap: Wrap): void {
  const state = program.command('state').description('maintain the applied state: break a stale lease, accept rewritten history, change the secrets key');
  commonOptions(state.command('break-lease'))
    .description('free the apply lease of a run that is gone for good (asks first; --yes to skip)')
    .option('-y, --yes', 'do not ask')
    .action(wrap(async (c, o) => (await import('./state-command.js')).breakLeaseCommand(c, o)));
  commonOptions(state.command('accept-history'))
    .description('after history was rewritten (a force-push), count the state as applied from --at <commit> where its commit is gone')
    .option('--at <commit>', 'the commit the fleet now stands at (usually HEAD)')
    .option('-y, --yes', 'do not ask')
    .option('--lease-timeout <seconds>', 'how long to wait for the apply lease (default 60)')
    .action(wrap(async (c, o) => (await import('./state-command.js')).acceptHistoryCommand(c, o)));
  commonOptions(state.command('rekey'))
    .description("move the state's secret digests from RGO_OLD_SECRETS_KEY to RGO_SECRETS_KEY")
    .option('-y, --yes', 'do not ask')
    .option('--lease-timeout <seconds>', 'how long to wait for the apply lease (default 60)')
    .action(wrap(async (c, o) => (await import('./state-command.js')).rekeyCommand(c, o)));
}

/** sandbox, demo: the local SDX double, and the quick start over it. */
function addSandboxCommands(program: Command, wrap: Wrap): void {
  program
    .command('sandbox')
    .description('run a local double of the SDX jobs API with simulated routers (no account needed)')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8787')
    .option('--config <file>', 'JSON file of sandbox settings (sites, delays, faults, rate limit, unknown behaviours)')
    .option('--token <token>', 'the bearer token to accept (default: sandbox-token)')
    .option('--checkin-ms <ms>', 'router check-in interval in milliseconds (default 2000)')
    .option('--no-auto-sites', 'only accept the sites of --config (default: any UUID is an online site)')
    .option('--log-level <level>', 'pino log level')
    .action(wrap(async (c, o, a) => (await import('./sandbox-command.js')).sandboxCommand(c, o, a)));

  program
    .command('demo')
    .description('the quick start: reconcile sites.example in a temporary repository against an in-process sandbox')
    .option('--keep', 'keep the temporary repository')
    .action(wrap(async (c, o, a) => (await import('./sandbox-command.js')).demoCommand(c, o, a, run)));
}

/** rules, schema: reference material for people and editors. */
function addReferenceCommands(program: Command, wrap: Wrap): void {
  program
    .command('sites')
    .description('list the SDX sites the token reaches: name, id, RouterOS version, model, online, last seen (read only)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--api-url <url>', 'SDX API base URL (default: SDX_API_URL, else https://v1.api.altostrat.io)')
    .option('--no-details', "list from one request: without each site's model and last-seen time")
    .option('--log-level <level>', 'pino log level: debug, info, warn, error')
    .action(wrap(async (c, o) => (await import('./sites-command.js')).sitesCommand(c, o)));

  program
    .command('init')
    .description('start a fleet repository from the SDX sites: a folder per site, settings, the workflow, a pre-commit hook (read only towards SDX)')
    .argument('[dir]', 'the repository to create or fill (default: the current directory)')
    .option('--sites <dir>', 'the sites directory, relative to the repository root', 'sites')
    .option('--force', 'overwrite files that exist (a git hook is never overwritten)')
    .option('--api-url <url>', 'SDX API base URL (default: SDX_API_URL, else https://v1.api.altostrat.io)')
    .option('--no-details', "one request: without each site's model (and its routeros: version when the list has none)")
    .option('--log-level <level>', 'pino log level: debug, info, warn, error')
    .action(wrap(async (c, o, a) => (await import('./init-command.js')).initCommand(c, o, a)));

  program
    .command('rules')
    .description('list the script checks: rule id, default severity and what it catches')
    .addOption(formatOption('text', 'json'))
    .action(wrap(rulesCommand));

  program
    .command('schema')
    .description('print the JSON Schema of routeros-gitops.yaml or site.yaml (for editors)')
    .addOption(new Option('--file <which>', 'which schema').choices(['fleet', 'site']).default('fleet'))
    .option('--write <dir>', 'write both schemas into this folder instead')
    .action(wrap(schemaCommand));
}

/** The exit code of a command line commander refuses: 2, or 1 under plan --detailed-exitcode (where 2 means "jobs to send"). */
function invalidCommandLine(argv: readonly string[]): number {
  return argv[0] === 'plan' && argv.includes('--detailed-exitcode') ? EXIT_FAILED : EXIT_INVALID;
}

/** Turn an error into a message for people (never a stack trace) and an exit code. */
export function reportError(e: unknown, ctx: Context | undefined, io: CliIo): number {
  const write = (s: string) => (ctx ? ctx.err(s) : void io.stderr.write(s));
  if (e instanceof InputError) {
    const n = e.problems.length;
    write(`error: ${e.headline ?? `${n === 1 ? 'the input is invalid' : `${n} problems in the input`}; nothing was sent`}\n`);
    for (const p of e.problems) write(`${formatProblem(p).replace(/^/gm, '  ')}\n`);
    return ctx?.invalidExitCode ?? EXIT_INVALID;
  }
  if (e instanceof SdxAccessError) {
    write(`error: ${e.message}\n  hint: ${e.hint}\n`);
    return EXIT_SDX;
  }
  const err = e as Error;
  write(`error: ${err?.message ?? String(e)}\n`);
  if (io.env.RGO_DEBUG) write(`${err?.stack ?? ''}\n`);
  return EXIT_FAILED;
}

export type { CommonOptions };
