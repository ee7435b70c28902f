// RenderWorkers over worker_threads (issue 18): for a plan with many scripts to read (a first plan,
// a fleet-wide change), threads render chunks of whole sites while the main thread renders others;
// core/render-fleet.ts puts the outcomes together in site order, so the plan is byte for byte the
// one a single thread makes. Threads are started for one rendering and ended after it. Anything
// that goes wrong in a thread (it cannot start, its file is of another build, a chunk fails) makes
// the rendering fall back to the main thread alone, which then says what a single thread says.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CheckCacheStore, CheckResult } from '../core/check-cache.js';
import type { Logger } from '../core/logger.js';
import type { ChunkEnv, ChunkOutcomes, DEFERRED, RenderChunk, RenderWorkers, ScriptOutcome } from '../core/render-fleet.js';
import { PROTOCOL, type FromWorker, type ToWorker, type WorkerStart } from './protocol.js';

/** Below this many scripts to read, starting threads costs more than it saves. */
export const MIN_SCRIPTS = 8000;
/** Scripts per chunk: small enough to share the work evenly, large enough that git is asked seldom. */
export const CHUNK_SCRIPTS = 1000;
/** A thread's heap (MB): its young generation (kept small: memory), and the most it may hold. */
const WORKER_YOUNG_MB = 8;
const WORKER_OLD_MB = 256;
/** Chunks a thread holds at once (one being rendered, one waiting), so that it never waits for the main thread. */
const IN_FLIGHT = 2;

export interface RenderPoolOptions {
  /** The repository's top-level directory (threads read their blobs themselves). */
  root: string;
  /** Threads to start. Default: one per spare core (os.availableParallelism() - 1). */
  threads?: number;
  /**
   * Start the threads for any script to read, and let them render every one (in chunks of one
   * site; this thread only hands out work): RGO_WORKERS set. Default false: only for MIN_SCRIPTS
   * scripts or more, and this thread takes a share.
   */
  forced?: boolean;
  /** The plan's check cache, whose results the threads are given and add to. */
  checks?: CheckCacheStore & { resultsOf(blob: string): CheckResult[] };
  logger: Logger;
}

type Outcomes = ChunkOutcomes;

/** The pool, or undefined when there is no spare core (or threads: 0), or no worker file in this installation. */
export function createRenderPool(opts: RenderPoolOptions): RenderWorkers | undefined {
  const threads = opts.threads ?? availableParallelism() - 1;
  const file = workerFile();
  if (threads < 1 || !file) return undefined;
  const forced = !!opts.forced;
  return {
    chunkScripts: forced ? 1 : CHUNK_SCRIPTS,
    wants: (scripts) => scripts >= (forced ? 1 : MIN_SCRIPTS),
    render: (env, lint, chunks, local) =>
      forced || chunks.length > 1
        ? renderShared({ ...opts, file, threads: Math.min(threads, forced ? chunks.length : chunks.length - 1) }, env, lint, chunks, forced ? undefined : local)
        : renderShared({ ...opts, file, threads: 0 }, env, lint, chunks, local),
  };
}

/**
 * The worker file of this build: next to the running module, one folder up (build/chunks/), or in
 * build/ from the sources (the tests run the built file: `npm test` builds first).
 */
function workerFile(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, 'plan-worker.js'), join(here, '..', 'plan-worker.js'), join(here, '..', '..', 'build', 'plan-worker.js')]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

interface Shared extends RenderPoolOptions {
  file: string;
  threads: number;
}

/**
 * Chunks shared between the threads and this one (which takes the next chunk whenever it is free).
 * A thread that cannot go on (it does not start, its file is of another build) hands its chunks
 * back; a chunk that fails (git could not read it) fails the whole: the caller renders it all in
 * this thread then, so that what it says is what a single thread says.
 */
async function renderShared(
  opts: Shared,
  env: ChunkEnv,
  lint: boolean,
  chunks: readonly RenderChunk[],
  local: ((chunk: RenderChunk) => Promise<Outcomes>) | undefined,
): Promise<Outcomes> {
  const results: Outcomes = new Map();
  const started = performance.now();
  let next = 0;
  let byThreads = 0;
  let failure: Error | undefined;
  const handedBack: number[] = [];
  const take = () => (failure ? undefined : (handedBack.pop() ?? (next < chunks.length ? next++ : undefined)));
  const threads = Array.from({ length: opts.threads }, () =>
    runThread(opts, { protocol: PROTOCOL, root: opts.root, env, lint }, chunks, {
      take,
      handBack: (ids, why) => {
        handedBack.push(...ids);
        opts.logger.debug({ err: why.message }, 'a plan worker stopped; this thread renders its chunks');
      },
      fail: (e) => (failure ??= e),
      done: (outcomes, checks) => {
        for (const [k, v] of outcomes) {
          results.set(k, v);
          byThreads += v.length;
        }
        for (const [settings, text, f] of checks) opts.checks?.set(settings, text, f);
      },
    }),
  );
  const renderHere = async (all: (chunk: RenderChunk) => Promise<Outcomes>) => {
    for (let i = take(); i !== undefined; i = take()) {
      for (const [k, v] of await all(chunks[i]!)) results.set(k, v);
      await new Promise((r) => setImmediate(r)); // let the threads' answers in, and hand them more
    }
  };
  try {
    if (local) await renderHere(local);
    await Promise.all(threads.map((t) => t.done));
    // What stopped threads handed back: with no thread left, the caller renders it all here.
    if (handedBack.length || next < chunks.length) {
      if (!local) throw new Error('the plan workers stopped');
      await renderHere(local);
    }
  } catch (e) {
    failure ??= e as Error;
  } finally {
    for (const t of threads) void t.worker.terminate();
  }
  if (failure) throw failure;
  opts.logger.debug(
    { threads: opts.threads, scripts: byThreads, chunks: chunks.length, ms: Math.round(performance.now() - started) },
    `plan workers: ${byThreads} scripts read in ${opts.threads} thread(s)`,
  );
  return results;
}

interface ThreadHooks {
  take(): number | undefined;
  handBack(ids: number[], why: Error): void;
  fail(e: Error): void;
  done(outcomes: Array<[string, Array<ScriptOutcome | typeof DEFERRED>]>, checks: CheckResult[]): void;
}

/** One thread: started, fed chunks as it finishes them; `done` settles when it has none left, or stopped. */
function runThread(opts: Shared, start: WorkerStart, chunks: readonly RenderChunk[], hooks: ThreadHooks): { worker: Worker; done: Promise<void> } {
  // A small young generation: the thread's garbage is collected often, so that the plan's peak
  // memory (threads included) stays low; a thread that runs out hands its chunks back.
  const worker = new Worker(opts.file, {
    workerData: start,
    stdout: true,
    stderr: true,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB, maxOldGenerationSizeMb: WORKER_OLD_MB },
  });
  worker.unref(); // never what keeps the process running
  const inFlight = new Set<number>();
  let settled = false;
  const done = new Promise<void>((resolve) => {
    const finish = () => {
      settled = true;
      resolve();
    };
    const stop = (why: Error) => {
      if (settled) return;
      hooks.handBack([...inFlight], why);
      inFlight.clear();
      finish();
    };
    const feed = () => {
      while (inFlight.size < IN_FLIGHT) {
        const id = hooks.take();
        if (id === undefined) break;
        inFlight.add(id);
        const chunk = chunks[id]!;
        const checks = opts.checks && start.lint ? chunk.sites.flatMap((s) => s.site.scripts.flatMap((sc) => opts.checks!.resultsOf(sc.blob))) : undefined;
        worker.postMessage({ type: 'chunk', id, chunk, checks } satisfies ToWorker);
      }
      if (inFlight.size === 0) finish();
    };
    worker.on('message', (m: FromWorker) => {
      if (settled) return;
      if (m.type === 'ready') {
        if (m.protocol !== PROTOCOL) return stop(new Error(`the plan worker ${opts.file} is of another build; rebuild routeros-gitops`));
        return feed();
      }
      if (m.type === 'failed') {
        hooks.fail(new Error(m.message));
        return finish();
      }
      inFlight.delete(m.id);
      hooks.done(m.outcomes, m.checks);
      feed();
    });
    worker.on('error', (e) => stop(e));
    worker.on('exit', (code) => stop(new Error(`the plan worker exited (${code})`)));
  });
  return { worker, done };
}
