// What the simulated routers of a sandbox ran, per script: the ground truth the exactly-once tests
// check against. A router runs its queued jobs one at a time in creation order, so the jobs of a site
// that started, in creation order, are what it executed, in order. A job's script is named by its
// X-Description, which the default template makes "gitops <site>: <path> @<sha>".
import type { Sandbox, SandboxJob } from '../../src/sandbox/sandbox.js';

export interface Execution {
  site_id: string;
  file: string;
  /** The commit the job was sent from (7 hex digits), from its description. */
  sha: string;
  script: string;
  key: string;
  failed: boolean;
}

const DESCRIPTION = /^gitops \S+: (?:\S+\/)?([^/\s]+) @([0-9a-f]{7})$/;

/** Every job the routers ran, per `${site_id}|${file}`, in the order they ran. */
export function executions(sb: Sandbox): Map<string, Execution[]> {
  const out = new Map<string, Execution[]>();
  for (const j of sb.jobs()) {
    if (j.started_at === null || j.forgotten) continue;
    const e = toExecution(j);
    const k = `${e.site_id}|${e.file}`;
    if (!out.has(k)) out.set(k, []);
    out.get(k)!.push(e);
  }
  return out;
}

function toExecution(j: SandboxJob): Execution {
  const m = DESCRIPTION.exec(j.description);
  if (!m) throw new Error(`job ${j.id} has a description the tests cannot read: ${JSON.stringify(j.description)}`);
  return { site_id: j.site_id.toLowerCase(), file: m[1]!, sha: m[2]!, script: j.script, key: j.idempotency_key, failed: j.failed_at !== null };
}

/** The last body each router executed, per `${site_id}|${file}`. */
export function lastBodies(sb: Sandbox): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, list] of executions(sb)) out.set(k, list[list.length - 1]!.script);
  return out;
}

/** Keys that more than one job was created with, and jobs executed twice (a violation either way). */
export function duplicateSends(sb: Sandbox): string[] {
  const problems: string[] = [];
  for (const c of sb.createdCounts()) if (c.count > 1) problems.push(`key ${c.idempotencyKey} created ${c.count} jobs on ${c.siteId}`);
  return problems;
}
