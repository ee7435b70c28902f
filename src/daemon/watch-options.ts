// The options of `watch`, apart from the command: `run.ts` registers them at start-up, while the
// daemon itself (watch-command.ts and what it imports: undici, chokidar, octokit) loads only when run.
import { Option, type Command } from 'commander';

/** The options of `watch` (besides the common ones); each says its default once. */
export function watchOptions(cmd: Command): Command {
  return cmd
    .option(
      '--remote <name>',
      'follow a branch of this remote, fetched every --interval (default: follow --ref of this repository, watching its refs; --ref HEAD means the branch checked out at start)',
    )
    .option('--branch <name>', "with --remote: the branch to follow (default: the remote's default branch, else the current branch)")
    .option('--interval <duration>', 'remote mode: how often to git fetch; local mode: how often to re-check --ref besides watching it', '60s')
    .option('--retry-interval <duration>', 'after a transient failure (doubling on each one, up to 10x) and while jobs are pending', '30s')
    .option('--jitter <percent>', 'randomise every interval by up to this many percent either way', '10')
    .option('--debounce <duration>', 'local mode: act once the refs have been quiet this long', '150ms')
    .option('--listen <host:port>', 'serve /healthz, /metrics and /status on this address (default: off)')
    .option('--shutdown-timeout <duration>', 'on SIGTERM or SIGINT, how long to wait for the run in progress to record its outcomes', '30s')
    .option('--lease-timeout <seconds>', 'how long each run waits for the apply lease held by another run (an apply, a daemon on another clone)', '300')
    .addOption(new Option('--lock-timeout <seconds>', 'the former name of --lease-timeout').hideHelp())
    .option('--concurrency <n>', 'sites applied at once (default: the concurrency setting, 4)')
    .option('--timeout <seconds>', "seconds to wait for each job's outcome (default: the timeout setting, 600)")
    .option('--api-url <url>', 'SDX API base URL (default: SDX_API_URL, else https://v1.api.altostrat.io); https, or http to a loopback address')
    .addOption(new Option('--allow-check-errors', 'apply even when a script check reports an error'))
    .addOption(new Option('--allow-lockout', 'apply scripts whose lockout risks are not acknowledged in the script'));
}
