// What the Action writes to the runner, as an interface: main.ts backs it with @actions/core; the
// steps only see this. Every text goes through the redactor before it leaves.
import type { Annotation } from '../github/annotations.js';

export interface ActionIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  info(line: string): void;
  debug(line: string): void;
  annotate(a: Annotation): void;
  setOutput(name: string, value: string): void;
  /** Append Markdown to the step summary (GITHUB_STEP_SUMMARY). */
  appendSummary(markdown: string): Promise<void>;
  /** Mask a value in the runner's log. */
  setSecret(value: string): void;
  /** Mark the step failed with this message. */
  fail(message: string): void;
}

/** The same io, with every string scrubbed by `redact()` (read on each call: secrets are added as they are loaded). */
export function redactingIo(io: ActionIo, redact: () => (s: string) => string): ActionIo {
  const r = (s: string) => redact()(s);
  return {
    env: io.env,
    info: (l) => io.info(r(l)),
    debug: (l) => io.debug(r(l)),
    annotate: (a) => io.annotate({ ...a, message: r(a.message), title: a.title === undefined ? undefined : r(a.title) }),
    setOutput: (n, v) => io.setOutput(n, r(v)),
    appendSummary: (m) => io.appendSummary(r(m)),
    setSecret: (v) => io.setSecret(v),
    fail: (m) => io.fail(r(m)),
  };
}
