// What the sandbox counts and remembers of the API requests it received (stats and the last 10 000
// requests), for tests and the /_sandbox/ admin endpoints.
import type { Logger } from '../core/logger.js';
import type { FaultKind } from './options.js';
import type { SandboxRequestRecord, SandboxStats } from './types.js';

const MAX_LOG = 10_000;

function emptyStats(): SandboxStats {
  return { requests: 0, posts: 0, byMethodStatus: {}, jobsCreated: 0, replays: 0, replayMismatches: 0, faults: {}, rateLimited: 0 };
}

export const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

export class RequestLog {
  stats: SandboxStats = emptyStats();
  private log: SandboxRequestRecord[] = [];

  constructor(private readonly logger: Logger) {}

  /** One answered (or reset) request. */
  record(r: SandboxRequestRecord): void {
    bump(this.stats.byMethodStatus, `${r.method} ${r.status}`);
    this.log.push(r);
    if (this.log.length > MAX_LOG) this.log = this.log.slice(-MAX_LOG);
    this.logger.debug({ method: r.method, path: r.path, status: r.status, fault: r.fault }, 'sandbox request');
  }

  /** The requests received, oldest first, as copies. */
  requests(): SandboxRequestRecord[] {
    return this.log.map((r) => ({ ...r }));
  }

  reset(): void {
    this.log = [];
    this.stats = emptyStats();
  }
}

/** The record of one request (fields left out when there is nothing to say). */
export function requestRecord(
  method: string,
  path: string,
  status: number | 'reset',
  key: string | undefined,
  fault: FaultKind | undefined,
): SandboxRequestRecord {
  return { method, path, status, ...(key !== undefined && { idempotencyKey: key }), ...(fault && { fault }) };
}
