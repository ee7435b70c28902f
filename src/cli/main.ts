#!/usr/bin/env node
// The routeros-gitops command. Everything happens in run(); this file only connects the process.
import { run } from './run.js';

const controller = new AbortController();
const argv = process.argv.slice(2);
// A stopped apply sends nothing new at once and records what it knows; a CI system kills the job
// a few seconds after SIGTERM, so it must be gone within 10 s whatever is still in flight (the
// intents are stored before any job, so the next run finds every job). The daemon has its own
// --shutdown-timeout.
const HARD_STOP_MS = argv[0] === 'watch' || argv[0] === 'sandbox' ? 0 : 9_000;
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    signals++;
    if (signals > 1) process.exit(130); // a second signal: stop now
    controller.abort(new Error(`received ${sig}`));
    if (HARD_STOP_MS) setTimeout(() => process.exit(130), HARD_STOP_MS).unref();
  });
}

run(argv, { cwd: process.cwd(), env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, signal: controller.signal }).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`error: ${(e as Error)?.message ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
