// What the main thread and a render worker (plan-worker.ts) say to each other. Both sides are built
// from this one file; PROTOCOL tells a worker file of another build (a stale build/) from this one.
import type { ChunkEnv, DEFERRED, RenderChunk, ScriptOutcome } from '../core/render-fleet.js';
import type { CheckResult } from '../core/check-cache.js';

export const PROTOCOL = 1;

/** Given to the worker when it starts (workerData). */
export interface WorkerStart {
  protocol: number;
  /** The repository's top-level directory: the worker reads its chunks' blobs itself. */
  root: string;
  env: ChunkEnv;
  /** Whether the scripts are checked (with the installation's checks, as the plan's). */
  lint: boolean;
}

export type ToWorker = { type: 'chunk'; id: number; chunk: RenderChunk; checks?: CheckResult[] };

export type FromWorker =
  | { type: 'ready'; protocol: number }
  | { type: 'done'; id: number; outcomes: Array<[string, Array<ScriptOutcome | typeof DEFERRED>]>; checks: CheckResult[] }
  | { type: 'failed'; id: number; message: string };
