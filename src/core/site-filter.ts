// `--site NAME` (repeatable, globs such as `edge-*`): a plan, an apply or a status narrowed to some
// sites, for a first router or a canary. Narrowing happens on the plan, after it was made for the
// whole fleet, so every rule of the whole plan still holds for the sites kept (never backwards, the
// fleet's frontier, the lease); the other sites are neither sent to nor recorded: their changes wait
// for the next run that includes them.
import { InputError, type Problem } from './errors.js';
import { globRegExp, isGlob } from './glob.js';
import { summarize, type Plan } from './plan.js';
import { distance } from '../lint/rules.js';

/** The names among `names` that match any of `patterns`; a pattern that matches none is an InputError naming the closest names. */
export function matchSites(names: readonly string[], patterns: readonly string[]): Set<string> {
  const matched = new Set<string>();
  const problems: Problem[] = [];
  for (const pattern of patterns) {
    const re = globRegExp(pattern);
    const hits = names.filter((n) => re.test(n));
    for (const h of hits) matched.add(h);
    if (!hits.length) problems.push(noMatch(pattern, names));
  }
  if (problems.length) throw new InputError(problems);
  return matched;
}

/** A pattern that matched no site: the problem names the closest sites (or says there are none). */
function noMatch(pattern: string, names: readonly string[]): Problem {
  const close = closestSites(pattern, names);
  const what = isGlob(pattern) ? `--site ${pattern} matches no site` : `--site ${pattern}: there is no site named "${pattern}"`;
  const known = close.length
    ? `; did you mean ${close.join(', ')}?`
    : `; the sites are ${names.slice(0, 5).join(', ')}${names.length > 5 ? `, and ${names.length - 5} more` : ''}`;
  return {
    file: '(command line)',
    message: names.length ? `${what}${known}` : `${what}: there are no sites`,
    hint: 'name a site folder of the sites directory, or a glob of them (edge-*); `routeros-gitops plan` lists every site',
  };
}

/** Up to three site names near the pattern (its wildcards left out), nearest first: a likely typo, or names holding it. */
export function closestSites(pattern: string, names: readonly string[], max = 3): string[] {
  const bare = pattern.replace(/[*?]/g, '').toLowerCase();
  const near = Math.max(2, Math.floor(bare.length / 3));
  return names
    .map((n) => ({ n, d: n.toLowerCase().includes(bare) && bare.length >= 2 ? 0 : distance(bare, n.toLowerCase()) }))
    .filter((x) => x.d <= near)
    .sort((a, b) => a.d - b.d || (a.n < b.n ? -1 : 1))
    .slice(0, max)
    .map((x) => x.n);
}

/** The plan of the sites matching `patterns` only (see the file comment); `only` records the narrowing. */
export function narrowPlan(plan: Plan, patterns: readonly string[]): Plan {
  const names = [...new Set(plan.sites.map((s) => s.site))].sort();
  const keep = matchSites(names, patterns);
  const sites = plan.sites.filter((s) => keep.has(s.site));
  const ids = new Set(sites.map((s) => s.site_id));
  const changes = sites.flatMap((s) => s.changes);
  return {
    ...plan,
    sites,
    changes,
    moves: plan.moves.filter((m) => ids.has(m.site_id)),
    missing_history: [...new Set(sites.filter((s) => s.status === 'unknown-history' && s.last_commit).map((s) => s.last_commit!))],
    summary: summarize(sites, changes),
    only: { patterns: [...patterns], of: plan.sites.filter((s) => !s.removed).length },
  };
}
