// A render worker (issue 18): a thread that reads, renders, checks and fingerprints chunks of a
// plan's scripts with the same code as the main thread (core/render-fleet.ts renderChunk), and the
// installation's checks. It has no secret values: a script that uses secrets is left to the main
// thread. Built to build/plan-worker.js (the CLI) and dist/plan-worker.js (the Action); started by
// render-pool.ts. It prints nothing: what goes wrong goes back to the main thread, which then
// renders that chunk itself.
import { parentPort, workerData } from 'node:worker_threads';
import { cachedChecks } from '../core/check-cache.js';
import type { ScriptFinding } from '../core/model.js';
import { renderChunk, DEFERRED } from '../core/render-fleet.js';
import { openRepo, type GitRepo } from '../git/repo.js';
import { lintHook } from '../wiring/checks.js';
import { PROTOCOL, type FromWorker, type ToWorker, type WorkerStart } from './protocol.js';

const start = workerData as WorkerStart;
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);

let repo: Promise<GitRepo> | undefined;

port.on('message', (m: ToWorker) => {
  if (m.type !== 'chunk') return;
  void handle(m).catch((e: unknown) => send({ type: 'failed', id: m.id, message: (e as Error)?.message ?? String(e) }));
});
send({ type: 'ready', protocol: PROTOCOL });

async function handle(m: Extract<ToWorker, { type: 'chunk' }>): Promise<void> {
  repo ??= openRepo(start.root);
  // The main thread's check results for these scripts, and the ones found here, sent back to it.
  const known = new Map(m.checks as Array<[string, readonly ScriptFinding[]]> | undefined);
  const found: Array<[string, readonly ScriptFinding[]]> = [];
  const lint = start.lint
    ? cachedChecks(lintHook, {
        get: (k) => known.get(k),
        set: (k, f) => {
          known.set(k, f);
          found.push([k, f]);
        },
      })
    : undefined;
  const outcomes = await renderChunk(await repo, start.env, m.chunk, { secrets: DEFERRED, lint });
  send({ type: 'done', id: m.id, outcomes: [...outcomes], checks: found });
}
