// The options of issue 14 (a safe first apply), registered here so that run.ts only names them:
// `--site` on plan, apply and status; what plan foretells of apply; apply's confirmation and its
// lockout gate.
import type { Command } from 'commander';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `--site NAME` (repeatable, globs): only those sites. */
export function siteOption(cmd: Command): Command {
  return cmd.option('--site <name>', 'only this site (repeatable; globs such as edge-*; default: every site)', collect);
}

/** plan: judge the plan as apply with the same options would, and Terraform's exit codes. */
export function planSafetyOptions(cmd: Command): Command {
  return siteOption(cmd)
    .option('--allow-check-errors', 'judge the plan as apply --allow-check-errors would')
    .option('--allow-lockout', 'judge the plan as apply --allow-lockout would (lockout risks sent without acknowledgement)')
    .option(
      '--detailed-exitcode',
      'exit 0 when there is nothing to send, 1 on an error or when apply would refuse or block a change, 2 when there are jobs to send',
    )
    .option('--verbose', "show each change's idempotency key")
    .option('--no-diff', 'leave out the diff under each change (text format)');
}

/** apply: the confirmation asked on a terminal, and the lockout gate. */
export function applySafetyOptions(cmd: Command): Command {
  return siteOption(cmd)
    .option('-y, --yes', 'do not ask for confirmation (asked only when stdin and stderr are a terminal)')
    .option('--allow-lockout', 'send scripts whose lockout risks are not acknowledged in the script');
}
