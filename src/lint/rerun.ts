// Scripts are sent again whole on every change (a one-line edit re-sends the file), so every line
// runs again on a router that already has what the last send made. An `add` with nothing before it
// that clears or looks up the same menu's entries makes a second entry each time (or stops the
// script where the menu refuses a duplicate name). This rule points at such adds: advice, it never
// blocks, since only the person who wrote the script knows whether the menu is meant to grow.
import { showPath, walkCommands } from './commands.js';
import type { Statement } from './scanner.js';

export type RerunRuleId = 'unguarded-add';

export interface RerunHit {
  rule: RerunRuleId;
  message: string;
  /** The first unguarded add of its menu (one finding per menu: an /export has hundreds of adds). */
  statement: Statement;
  enclosing: readonly Statement[];
}

/** Is `st` a scripting command named `name` (`:if`, `:do`), in any case? */
function scripting(st: Statement, name: string): boolean {
  const first = st.args[0];
  return first !== undefined && first.groups.length === 0 && first.text.toLowerCase() === name;
}

/** Statements whose blocks guard what they hold: `:if`, `:do { } on-error={ }` and `:onerror`. */
function guards(st: Statement): boolean {
  if (scripting(st, ':if') || scripting(st, ':onerror')) return true;
  return scripting(st, ':do') && st.args.some((a) => a.text.toLowerCase().startsWith('on-error='));
}

/**
 * A `find` counts as a guard when its answer feeds the script's own logic (`:local id [find ...]`,
 * `:foreach i in=[find ...]`), not when it only picks what a menu command changes (`set [find ...]`).
 */
function feedsLogic(enclosing: readonly Statement[]): boolean {
  const inner = enclosing[enclosing.length - 1];
  return inner !== undefined && inner.args[0]?.text.startsWith(':') === true;
}

/**
 * The unguarded adds of a script, one hit per menu (at its first such add, counting the others).
 * `covered`: adds a `# routeros-gitops: allow unguarded-add` comment acknowledges, left out.
 */
export function findUnguardedAdds(
  statements: readonly Statement[],
  covered: (st: Statement, enclosing: readonly Statement[]) => boolean = () => false,
): RerunHit[] {
  const guarded = new Set<string>();
  const byMenu = new Map<string, { statement: Statement; enclosing: readonly Statement[]; lines: number[] }>();
  walkCommands(statements, (menu, verb, _from, statement, enclosing) => {
    const path = menu.path;
    if (verb === 'remove' || (verb === 'find' && feedsLogic(enclosing))) {
      guarded.add(path);
      return;
    }
    if (verb !== 'add' || guarded.has(path) || enclosing.some(guards) || covered(statement, enclosing)) return;
    const seen = byMenu.get(path);
    if (seen) seen.lines.push(statement.line);
    else byMenu.set(path, { statement, enclosing, lines: [statement.line] });
  });
  return [...byMenu].map(([path, { statement, enclosing, lines }]) => ({
    rule: 'unguarded-add' as const,
    statement,
    enclosing,
    message: `${lines.length > 1 ? `${lines.length} adds to ${showPath(path)} (lines ${lines[0]}-${lines[lines.length - 1]}) have` : `this add to ${showPath(path)} has`} no guard: every change sends the whole script again, and each run adds ${lines.length > 1 ? 'them' : 'it'} again (a second entry, or an error where the menu refuses duplicates). Remove what this script owns first (${showPath(path)} remove [find comment="..."]), or add only what is missing (:if ([:len [find ...]] = 0) do={ add ... }); if the menu is meant to grow, acknowledge it with "# routeros-gitops: allow unguarded-add".`,
  }));
}
