// A render worker (issue 18): a thread that reads, renders, checks and fingerprints chunks of a
// plan's scripts with the same code as the main thread (core/render-fleet.ts renderChunk), and the
// installation's checks. It has no secret values: a script that uses secrets is left to the main
// thread. Built to build/plan-worker.js (the CLI) and dist/plan-worker.js (the Action); started by
// render-pool.ts. It prints nothing: what goes wrong goes back to the main thread, which then
// renders that chunk itself.
import { parentPort, workerData } from 'node:worker_threads';
import { cachedChecks, type CheckResult } from '../core/check-cache.js';
import { createChecks } from '../core/checks.js';
import { loadCommandTree } from '../assets/command-data.js';
import type { ScriptFinding } from '../core/model.js';
import { renderChunk, DEFERRED } from '../core/render-fleet.js';
import { openRepo } from '../git/repo.js';
import type { BlobReader } from '../core/ports.js';
import { PROTOCOL, type FromWorker, type ToWorker, type WorkerStart } from './protocol.js';

const start = workerData as WorkerStart;
// The installation's checks, as the main thread's (wiring/checks.ts), over the same command data.
const { lintHook } = createChecks(loadCommandTree);
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);

// Every chunk's blobs from one git process (the thread's; it ends with the thread).
let blobs: Promise<BlobReader> | undefined;

port.on('message', (m: ToWorker) => {
  if (m.type !== 'chunk') return;
  void handle(m).catch((e: unknown) => send({ type: 'failed', id: m.id, message: (e as Error)?.message ?? String(e) }));
});
send({ type: 'ready', protocol: PROTOCOL });

async function handle(m: Extract<ToWorker, { type: 'chunk' }>): Promise<void> {
  blobs ??= openRepo(start.root).then((repo) => repo.openBlobReader());
  // The main thread's check results for these scripts, and the ones found here, sent back to it.
  const known = new Map<string, readonly ScriptFinding[]>();
  for (const [settings, text, f] of m.checks ?? []) known.set(`${settings}\0${text}`, f);
  const found: CheckResult[] = [];
  const lint = start.lint
    ? cachedChecks(lintHook, {
        get: (settings, text) => known.get(`${settings}\0${text}`),
        set: (settings, text, f) => {
          known.set(`${settings}\0${text}`, f);
          found.push([settings, text, f]);
        },
      })
    : undefined;
  const outcomes = await renderChunk(await blobs, start.env, m.chunk, { secrets: DEFERRED, lint });
  send({ type: 'done', id: m.id, outcomes: [...outcomes], checks: found });
}
