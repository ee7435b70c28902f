// What apply would do with a plan, decided once for `plan` and `apply` alike (issue 14), so the plan
// tells the truth about apply: which changes it would refuse or block and why, whether it would
// refuse the whole run (script check errors, lockout risks nobody acknowledged), and the exit code
// it would end with. Pure: a plan and the apply options in, a verdict out.
import type { Problem } from './errors.js';
import type { ScriptFinding } from './model.js';
import type { Plan, PlannedChange, SitePlan } from './plan.js';

/** The options of apply that decide what it refuses. */
export interface ApplyGate {
  /** --allow-check-errors: error-level findings do not stop the run. Default false. */
  allowCheckErrors?: boolean;
  /** --allow-lockout: lockout-level findings nobody acknowledged do not stop the run. Default false. */
  allowLockout?: boolean;
  /**
   * Judge missing secrets as apply in this same environment would (it blocks the site). False when
   * the plan runs where apply does not (the Action's plan on a pull request). Default true.
   */
  secrets?: boolean;
}

/**
 * Why apply would not send a change: `check-error` and `lockout` (its own findings stop the run),
 * `run-refused` (another script's findings stop the whole run), `secrets-missing` (its site's
 * secrets are not supplied), `stale` and `unknown-history` (never backwards), `failed-before` (the
 * same content failed; --retry-failed), `earlier-change` (an earlier change of its site is not sent).
 */
export type BlockKind = 'check-error' | 'lockout' | 'run-refused' | 'secrets-missing' | 'stale' | 'unknown-history' | 'failed-before' | 'earlier-change';

export interface Blocked {
  kind: BlockKind;
  /** For people: why, and what to do. */
  reason: string;
}

/** A finding of a change apply would create. */
export interface FindingAt {
  site: string;
  path: string;
  /** The group of a shared script (its findings are the same on every site). */
  group: string | null;
  finding: ScriptFinding;
}

export interface PlanVerdict {
  /** Changes apply would not send (or follow), with why. A change absent here goes out as planned. */
  blocked: Map<PlannedChange, Blocked>;
  /** Error-level findings of changes to create, and whether they stop the run. */
  errors: FindingAt[];
  /** Lockout-level findings of changes to create (none is acknowledged: an acknowledged one is not reported). */
  lockouts: FindingAt[];
  /** Apply refuses the whole run, before sending anything (exit 2). */
  refused: boolean;
  /** Jobs apply would send or follow. */
  toSend: number;
  /** The exit code apply would end with, as far as a plan can tell: 0; 1 (changes blocked, history missing); 2 (refused). */
  exitCode: 0 | 1 | 2;
  /** The gate the verdict was made under. */
  gate: Required<ApplyGate>;
}

const sends = (c: PlannedChange) => c.action === 'create' || c.action === 'follow';

/** Decide what apply would do with `plan` under `gate`. */
export function judgePlan(plan: Plan, gate: ApplyGate = {}): PlanVerdict {
  const g: Required<ApplyGate> = { allowCheckErrors: false, allowLockout: false, secrets: true, ...gate };
  const errors: FindingAt[] = [];
  const lockouts: FindingAt[] = [];
  for (const c of plan.changes) {
    if (c.action !== 'create') continue;
    for (const f of c.findings) {
      if (f.level === 'error') errors.push({ site: c.site, path: c.path, group: c.group, finding: f });
      else if (f.level === 'lockout') lockouts.push({ site: c.site, path: c.path, group: c.group, finding: f });
    }
  }
  const refused = (!g.allowCheckErrors && errors.length > 0) || (!g.allowLockout && lockouts.length > 0);
  const blocked = new Map<PlannedChange, Blocked>();
  const what = stoppers(errors, lockouts, g);
  for (const site of plan.sites) {
    if (refused) refuseSite(site, g, blocked, what);
    else blockSite(site, g, blocked);
  }
  const toSend = plan.changes.filter((c) => sends(c) && !blocked.has(c)).length;
  const blocking = [...blocked.values()].some((b) => b.kind === 'secrets-missing' || b.kind === 'earlier-change');
  const exitCode = refused ? 2 : blocking || plan.missing_history.length ? 1 : 0;
  return { blocked, errors, lockouts, refused, toSend, exitCode, gate: g };
}

/** The whole run is refused: each change of a site that could be sent says why. */
function refuseSite(site: SitePlan, g: Required<ApplyGate>, blocked: Map<PlannedChange, Blocked>, what: string): void {
  if (staleSite(site, blocked)) return;
  for (const c of site.changes) {
    const own = c.action === 'create' ? c.findings : [];
    const err = g.allowCheckErrors ? undefined : own.find((f) => f.level === 'error');
    const lock = g.allowLockout ? undefined : own.find((f) => f.level === 'lockout');
    if (err)
      blocked.set(c, { kind: 'check-error', reason: `refused: script check error at line ${err.line} (${err.rule}); nothing is sent while it is there` });
    else if (lock)
      blocked.set(c, {
        kind: 'lockout',
        reason: `refused: lockout risk at line ${lock.line} (${lock.rule}) not acknowledged; acknowledge it with "# routeros-gitops: allow ${lock.rule}", or apply with --allow-lockout`,
      });
    else blocked.set(c, { kind: 'run-refused', reason: `not sent: apply refuses the whole run (${what})` });
  }
}

/** The run goes ahead: what apply's site lane would not send, in the lane's own order. */
function blockSite(site: SitePlan, g: Required<ApplyGate>, blocked: Map<PlannedChange, Blocked>): void {
  if (staleSite(site, blocked)) return;
  const missing = g.secrets ? [...new Set(site.changes.filter(sends).flatMap((c) => c.secrets_missing))] : [];
  if (missing.length) {
    const reason = `blocked: secrets not supplied for ${site.site}: ${missing.join(', ')}; nothing is sent to this site (set RGO_SECRET_<NAME> or use --secrets-file)`;
    for (const c of site.changes) blocked.set(c, { kind: 'secrets-missing', reason });
    return;
  }
  let after: PlannedChange | null = null;
  for (const c of site.changes) {
    if (after)
      blocked.set(c, { kind: 'earlier-change', reason: `blocked: an earlier script of ${site.site} (${after.path}) failed before and is not sent again` });
    else if (c.action === 'skip-failed') {
      blocked.set(c, { kind: 'failed-before', reason: 'failed before with this content; not sent again (fix it, or use --retry-failed)' });
      after = c;
    }
  }
}

/** A stale site (or one whose history is missing): nothing is sent to it. */
function staleSite(site: SitePlan, blocked: Map<PlannedChange, Blocked>): boolean {
  if (site.status === 'ok') return false;
  const kind: BlockKind = site.status === 'unknown-history' ? 'unknown-history' : 'stale';
  for (const c of site.changes) blocked.set(c, { kind, reason: `not sent: ${site.reason ?? 'the site is stale'}` });
  return true;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** How many distinct findings (a shared script's once). */
const distinct = (list: FindingAt[]) => new Set(list.map((x) => `${x.path}:${x.finding.line}:${x.finding.column}:${x.finding.rule}`)).size;

/** What stops the run, in words: "1 script check error and 2 lockout risks not acknowledged". */
function stoppers(errors: FindingAt[], lockouts: FindingAt[], g: Required<ApplyGate>): string {
  return [
    !g.allowCheckErrors && errors.length ? plural(distinct(errors), 'script check error') : '',
    !g.allowLockout && lockouts.length ? `${plural(distinct(lockouts), 'lockout risk')} not acknowledged` : '',
  ]
    .filter(Boolean)
    .join(' and ');
}

/**
 * The findings that make apply refuse the run, as problems naming each file and line and how to go
 * on (a shared script's finding once, not once per site).
 */
export function refusalProblems(v: PlanVerdict): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const add = (list: FindingAt[], hint: (f: ScriptFinding) => string) => {
    for (const { site, path, group, finding: f } of list) {
      const k = `${path}:${f.line}:${f.column}:${f.rule}`;
      if (seen.has(k)) continue;
      seen.add(k);
      problems.push({ file: path, line: f.line, column: f.column, site: group ? undefined : site, message: `${f.message} [${f.rule}]`, hint: hint(f) });
    }
  };
  if (!v.gate.allowCheckErrors)
    add(v.errors, (f) => `fix the script, acknowledge it with "# routeros-gitops: allow ${f.rule}" where the rule allows it, or pass --allow-check-errors`);
  if (!v.gate.allowLockout)
    add(
      v.lockouts,
      (f) =>
        `this can cut the router off from whoever manages it. If it is intended, acknowledge it: "# routeros-gitops: allow ${f.rule}" on the line above the command (or at the top of the file), or apply with --allow-lockout`,
    );
  return problems;
}

/** The headline of a refused run, what stops it in one line: as apply says it, or as plan foretells it (`would`). */
export function refusalHeadline(v: PlanVerdict, would = false): string {
  const what = stoppers(v.errors, v.lockouts, v.gate);
  return would ? `apply would refuse this commit: ${what}; it would send nothing` : `apply refuses this commit: ${what}; nothing was sent`;
}
