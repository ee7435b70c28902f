// The CLI: parses arguments (commander), builds the adapters, calls the core, and turns its
// result into output and an exit code. Nothing below this file calls process.exit.
import { Command, CommanderError, Option } from 'commander';
import { InputError, SdxAccessError, formatProblem } from '../core/errors.js';
import type { CliIo } from './io.js';
import { Context, type CommonOptions } from './context.js';
import { planCommand, validateCommand, statusCommand, schemaCommand, rulesCommand } from './commands.js';
import { VERSION } from '../version.js';
import { watchOptions } from '../daemon/watch-options.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_INVALID = 2;
/** SDX could not be used: unreachable, the token refused, not the SDX API (nothing was sent). */
export const EXIT_SDX = 3;

type Handler = (ctx: Context, opts: Record<string, unknown>, args: string[]) => Promise<number>;

export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = EXIT_OK;
  let ctx: Context | undefined;
  const program = new Command('routeros-gitops');
  program
    .description('GitOps for MikroTik RouterOS fleets through the Altostrat SDX jobs API')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });

  const wrap = (handler: Handler) =>
    async function (this: Command, ...rest: unknown[]) {
      const cmd = rest[rest.length - 1] as Command;
      const opts = cmd.optsWithGlobals() as Record<string, unknown>;
      const args = (rest.slice(0, -2) as unknown[]).flat().filter((a): a is string => typeof a === 'string');
      ctx = new Context(io, opts, cmd.name() === 'watch' ? 'info' : undefined);
      exitCode = await handler(ctx, opts, args);
    };

  const common = (cmd: Command) =>
    cmd
      .option('-C, --cwd <dir>', 'the repository to work in (default: the current directory)')
      .option('--sites <dir>', 'the sites directory, relative to the repository root', 'sites')
      .option('--ref <ref>', 'the commit, branch or tag to reconcile', 'HEAD')
      .option('--state-file <path>', 'keep the applied state in this JSON file instead of the state ref')
      .option('--state-ref <ref>', 'the ref holding the applied state (default: refs/routeros-gitops/state)')
      .option('--state-remote <name>', 'fetch the state ref from and push it to this remote')
      .option('--secrets-file <path>', 'YAML file of secret values (outside the repository)')
      .option('--log-level <level>', 'pino log level: debug, info, warn, error (default: info when not on a terminal)');

  common(program.command('plan'))
    .description('show what apply would send (a dry run): one job per changed script')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'markdown']).default('text'))
    .option('--retry-failed', 'plan to send again scripts whose last job failed (with a new idempotency key)')
    .option('--api-url <url>', 'the SDX API base URL apply would use (default: SDX_API_URL, else https://v1.api.altostrat.io)')
    .action(wrap(planCommand));

  common(program.command('validate'))
    .description('check the repository (or the given script files) without sending anything')
    .argument('[files...]', 'script files to check (for pre-commit hooks and editors); default: the whole repository at --ref')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option(
      '--routeros <version>',
      "check every command against this RouterOS version's command tree (default: each site's routeros: setting; for files, the newest version known)",
    )
    .option('--packages <list>', 'comma-separated extra packages the router has, with --routeros (default: any)')
    .action(wrap(validateCommand));

  common(program.command('status'))
    .description('per site: the last applied commit, the last outcome and when')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(wrap(statusCommand));

  common(program.command('apply'))
    .description('send one SDX job per change and follow each to its outcome; record outcomes in the state')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--retry-failed', 'send again scripts whose last job failed (with a new idempotency key)')
    .option('--no-wait', 'create the jobs and return without following them (the next run records their outcomes)')
    .option('--concurrency <n>', 'sites applied at once (default: the concurrency setting, 4)')
    .option('--timeout <seconds>', "seconds to wait for each job's outcome (default: the timeout setting, 600)")
    .option('--api-url <url>', 'SDX API base URL (default: SDX_API_URL, else https://v1.api.altostrat.io); https, or http to a loopback address')
    .option('--allow-check-errors', 'apply even when a script check reports an error')
    .option('--lease-timeout <seconds>', 'how long to wait for another apply holding the lease of the shared state (default 300)')
    .addOption(new Option('--lock-timeout <seconds>', 'the former name of --lease-timeout').hideHelp())
    .action(wrap(async (c, o, a) => (await import('./apply-command.js')).applyCommand(c, o, a)));

  const state = program.command('state').description('maintain the applied state: break a stale lease, accept rewritten history, change the secrets key');
  common(state.command('break-lease'))
    .description('free the apply lease of a run that is gone for good (asks first; --yes to skip)')
    .option('-y, --yes', 'do not ask')
    .action(wrap(async (c, o) => (await import('./state-command.js')).breakLeaseCommand(c, o)));
  common(state.command('accept-history'))
    .description('after history was rewritten (a force-push), count the state as applied from --at <commit> where its commit is gone')
    .option('--at <commit>', 'the commit the fleet now stands at (usually HEAD)')
    .option('-y, --yes', 'do not ask')
    .option('--lease-timeout <seconds>', 'how long to wait for the apply lease (default 60)')
    .action(wrap(async (c, o) => (await import('./state-command.js')).acceptHistoryCommand(c, o)));
  common(state.command('rekey'))
    .description("move the state's secret digests from RGO_OLD_SECRETS_KEY to RGO_SECRETS_KEY")
    .option('-y, --yes', 'do not ask')
    .option('--lease-timeout <seconds>', 'how long to wait for the apply lease (default 60)')
    .action(wrap(async (c, o) => (await import('./state-command.js')).rekeyCommand(c, o)));

  watchOptions(common(program.command('watch')))
    .description('the daemon: follow a branch (local, or --remote) and apply every new commit')
    .action(wrap(async (c, o) => (await import('./watch-command.js')).watchCommand(c, o)));

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
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(wrap(rulesCommand));

  program
    .command('schema')
    .description('print the JSON Schema of routeros-gitops.yaml or site.yaml (for editors)')
    .addOption(new Option('--file <which>', 'which schema').choices(['fleet', 'site']).default('fleet'))
    .option('--write <dir>', 'write both schemas into this folder instead')
    .action(wrap(schemaCommand));

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT_OK;
      return EXIT_INVALID;
    }
    return reportError(e, ctx, io);
  }
  return exitCode;
}

/** Turn an error into a message for people (never a stack trace) and an exit code. */
export function reportError(e: unknown, ctx: Context | undefined, io: CliIo): number {
  const write = (s: string) => (ctx ? ctx.err(s) : void io.stderr.write(s));
  if (e instanceof InputError) {
    const n = e.problems.length;
    write(`error: ${n === 1 ? 'the input is invalid' : `${n} problems in the input`}; nothing was sent\n`);
    for (const p of e.problems) write(`${formatProblem(p).replace(/^/gm, '  ')}\n`);
    return EXIT_INVALID;
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
