// The GitHub Action: reads the inputs with @actions/core, builds the adapters and calls the core
// (plan-step.ts, apply-step.ts), then turns the outcome into outputs and the step's result.
// Nothing here calls process.exit: a failure sets process.exitCode through core.setFailed.
import * as core from '@actions/core';
import { InputError, SdxAccessError } from '../core/errors.js';
import { capAnnotations, problemAnnotation } from '../github/annotations.js';
import { readInputs } from './inputs.js';
import type { ActionIo } from './io.js';
import { buildContext, type StepContext } from './context.js';
import { envSecrets, makeRedactor } from '../core/redact.js';
import { planStep } from './plan-step.js';
import { applyStep } from './apply-step.js';
import { outputsOf } from './outcome.js';
import { applyRefusal } from './apply-gate.js';
import { readEvent } from '../github/event.js';

/** @actions/core behind the ActionIo interface. */
export function coreIo(env: Readonly<Record<string, string | undefined>> = process.env): ActionIo {
  return {
    env,
    info: (l) => core.info(l),
    debug: (l) => core.debug(l),
    annotate: (a) => {
      const props = { title: a.title, file: a.file, startLine: a.startLine, startColumn: a.startColumn };
      if (a.kind === 'error') core.error(a.message, props);
      else if (a.kind === 'warning') core.warning(a.message, props);
      else core.notice(a.message, props);
    },
    setOutput: (n, v) => core.setOutput(n, v),
    appendSummary: async (m) => {
      if (env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(m, true).write();
      else core.info(m);
    },
    setSecret: (v) => core.setSecret(v),
    fail: (m) => core.setFailed(m),
  };
}

export async function run(io: ActionIo = coreIo(), signal: AbortSignal | undefined = cancelSignal()): Promise<void> {
  // Until the runtime exists (it needs the inputs), outputs are scrubbed of the environment's secrets.
  const early = makeRedactor(envSecrets(io.env));
  let ctx: StepContext | undefined;
  const redact = (s: string) => (ctx ? ctx.runtime.redact() : early)(s);
  try {
    const inputs = readInputs((name) => core.getInput(name));
    const event = readEvent(io.env);
    // Before anything is fetched, loaded or sent: apply only what was reviewed into a branch the operator names.
    const refusal = inputs.command === 'apply' ? applyRefusal(event, inputs.applyBranches) : null;
    if (refusal) {
      io.fail(redact(refusal));
      return;
    }
    ctx = await buildContext(inputs, io, event, signal);
    const outcome = inputs.command === 'plan' ? await planStep(ctx) : await applyStep(ctx);
    for (const [name, value] of Object.entries(outputsOf(outcome))) io.setOutput(name, redact(value));
    if (outcome.failure) io.fail(redact(outcome.failure));
  } catch (e) {
    if (e instanceof InputError) {
      const { send } = capAnnotations(e.problems.map((p) => problemAnnotation(p, 'error', ctx?.paths)));
      for (const a of send) io.annotate({ ...a, message: redact(a.message) });
      const n = e.problems.length;
      io.fail(redact(`${n === 1 ? 'the input is invalid' : `${n} problems in the input`}; nothing was sent:\n${e.message}`));
      return;
    }
    // SDX unreachable or the token refused (issue 14): found by one request, before anything was sent.
    if (e instanceof SdxAccessError) {
      io.fail(redact(`${e.message}\nhint: ${e.hint}`));
      return;
    }
    const err = e as Error;
    io.fail(redact(`${err?.message ?? String(e)}`));
    if (io.env.RGO_DEBUG) io.info(redact(err?.stack ?? ''));
  }
}

/** Stop cleanly when the runner cancels the job: no new job is created; followed ones are recorded. */
export function cancelSignal(): AbortSignal {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort(new Error(`received ${sig}`)));
  return controller.signal;
}
