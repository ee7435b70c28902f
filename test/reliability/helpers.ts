// Shared by the reliability suites: a generated fleet, and the checks that nothing was done twice
// and that the applied state agrees with the jobs the sandbox holds.
import { expect } from 'vitest';
import type { TempRepo } from '../helpers/git-repo.js';
import type { Sandbox } from '../../src/sandbox/sandbox.js';
import { openRepo } from '../../src/git/repo.js';
import { openStateStore } from '../../src/state/open-store.js';
import type { AppliedState } from '../../src/core/state.js';

export { seededRandom } from '../../src/core/random.js';

/** Site ids of a generated fleet: `prefix` keeps suites apart. */
export const siteId = (s: number, prefix = 'cccccccc-dddd-4eee-8fff') => `${prefix}-${s.toString(16).padStart(12, '0')}`;

/** `sites` sites r0..rN with `scripts` scripts each; `version` is in every script's content. */
export function fleet(sites: number, scripts: number, version = 0, prefix?: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (let s = 0; s < sites; s++) {
    files[`sites/r${s}/site.yaml`] = `id: ${siteId(s, prefix)}\n`;
    for (let n = 0; n < scripts; n++) files[`sites/r${s}/${n}0-x.rsc`] = `/ip dns set servers=10.${s}.${n}.${version}\n`;
  }
  return files;
}

export async function loadState(r: TempRepo): Promise<AppliedState> {
  const repo = await openRepo(r.dir);
  const store = await openStateStore({ cwd: r.dir, repo, stateRemote: false });
  try {
    return await store.load();
  } finally {
    await store.close();
  }
}

/** No key created twice; no script content run twice on a router (contents only move forward in these suites). */
export function expectNoDuplicates(sb: Sandbox): void {
  expect(sb.createdCounts().filter((c) => c.count !== 1)).toEqual([]);
  const seen = new Map<string, number>();
  for (const j of sb.jobs()) {
    if (j.cancelled) continue;
    const k = `${j.site_id}\0${j.script}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  expect([...seen].filter(([, n]) => n > 1)).toEqual([]);
}

/** The state agrees with the sandbox: each record succeeded, and its job exists with its key and outcome. Returns the record count. */
export async function expectStateAgrees(r: TempRepo, sb: Sandbox): Promise<number> {
  const state = await loadState(r);
  const jobs = new Map(sb.jobs().map((j) => [j.id, j]));
  let records = 0;
  for (const site of Object.values(state.sites)) {
    for (const [path, rec] of Object.entries(site.scripts)) {
      records++;
      expect(rec.phase, `${site.site} ${path}`).toBe('succeeded');
      const job = jobs.get(rec.job_id!);
      expect(job, `${site.site} ${path}: job ${rec.job_id} is not in the sandbox`).toBeDefined();
      expect(job!.idempotency_key).toBe(rec.key);
      expect(job!.site_id).toBe(site.site_id);
      expect(job!.completed_at).not.toBeNull();
      expect(job!.cancelled).toBe(false);
    }
  }
  return records;
}
