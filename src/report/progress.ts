// The progress line a long apply prints when nobody watches a terminal (CI logs, systemd): how many
// changes were sent and are done, how many requests wait for the rate limit, and an estimate of the
// time left. Pure: counts in, one line out.

export interface ApplyProgressCounts {
  /** Changes the run sends or follows (the plan's to_send). */
  total: number;
  /** Of those, how many have a job (created, or found by its key). */
  sent: number;
  /** Of those, how many have an outcome. */
  done: number;
  /** SDX requests waiting for the client's rate limit right now. */
  waitingForRateLimit: number;
}

/** "progress: 12/40 sent, 8/40 done, 3 requests waiting on the rate limit, about 1 min 10 s left (35 s so far)". */
export function progressLine(c: ApplyProgressCounts, elapsedMs: number): string {
  const parts = [`${c.sent}/${c.total} sent`, `${c.done}/${c.total} done`];
  if (c.waitingForRateLimit > 0) parts.push(`${c.waitingForRateLimit} request${c.waitingForRateLimit === 1 ? '' : 's'} waiting on the rate limit`);
  const left = c.total - c.done;
  parts.push(c.done > 0 && left > 0 ? `about ${duration((elapsedMs / c.done) * left)} left` : left > 0 ? 'time left not known yet' : 'finishing');
  return `progress: ${parts.join(', ')} (${duration(elapsedMs)} so far)`;
}

/** 42 s, 3 min 5 s, 1 h 2 min. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
}
