// Diffs of each change against its last-applied rendering (with secret placeholders), for the
// Markdown plan. The old rendering is made from the fleet as it was at the recorded commit, so a
// changed variable shows as the line it changes.
import type { RepoReader } from './ports.js';
import type { Plan } from './plan.js';
import type { DesiredFleet } from './model.js';
import { readFleet, noSecrets } from './model.js';
import { renderFleet } from './render-fleet.js';
import { emptyState } from './state.js';

export async function planDiffs(reader: RepoReader, plan: Plan, desired: DesiredFleet, maxChanges = 200): Promise<Map<string, string>> {
  const diffs = new Map<string, string>();
  const { createTwoFilesPatch } = await import('diff');
  const wanted = plan.changes.filter((c) => c.action !== 'stale').slice(0, maxChanges);
  const oldFleets = new Map<string, Promise<DesiredFleet | null>>();
  const fleetAt = (sha: string) => {
    if (!oldFleets.has(sha)) {
      oldFleets.set(
        sha,
        (async () => {
          try {
            const commit = await reader.resolveCommit(sha);
            const model = await readFleet(reader, commit, desired.sitesDir);
            return await renderFleet(reader, model, emptyState(), { secrets: noSecrets, readAll: true });
          } catch {
            return null; // history not available (shallow clone): diff against nothing
          }
        })(),
      );
    }
    return oldFleets.get(sha)!;
  };
  const newText = new Map<string, string>();
  for (const s of desired.sites) for (const sc of s.scripts) if (sc.display !== undefined) newText.set(`${s.id}\0${sc.path}`, sc.display);
  for (const c of wanted) {
    const id = `${c.site_id}\0${c.path}`;
    let before = '';
    // Against what the router runs: the last send that succeeded (a send that never went out, or
    // failed, is not on the router).
    const base = c.kind === 'removed' ? (c.previous?.commit ?? null) : (c.previous?.applied_commit ?? null);
    if (base) {
      const old = await fleetAt(base);
      before = old?.sites.find((s) => s.id === c.site_id)?.scripts.find((s) => s.file === c.file)?.display ?? '';
    }
    const after = c.kind === 'removed' ? '' : (newText.get(id) ?? before);
    if (before === after && c.kind !== 'removed') {
      // Same text with placeholders: what changed is a secret's value (or a rendering detail). Whether
      // it is sent is said by the change itself (it may be a failed script that is not sent again).
      const why =
        c.action === 'skip-failed'
          ? 'no textual change since the send that failed'
          : c.secrets.length
            ? `the value of ${c.secrets.map((n) => `<secret:${n}>`).join(', ')} changed; the text is the same`
            : 'no textual change since the last send that succeeded';
      diffs.set(id, `  (${why})\n`);
      continue;
    }
    diffs.set(
      id,
      createTwoFilesPatch(c.kind === 'added' ? '/dev/null' : `a/${c.path}`, c.kind === 'removed' ? '/dev/null' : `b/${c.path}`, before, after, '', '', {
        context: 3,
      })
        .split('\n')
        .slice(2)
        .join('\n'),
    );
  }
  return diffs;
}
