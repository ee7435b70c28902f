// Script check results kept between runs (issue 18): a script already checked is not checked
// again. A result is known by what decides it: the checked text (its blob, and for a template the
// render inputs, which cover every value it takes in; see render-fleet.ts checkKey) and the
// settings the checks read (the rules, the RouterOS version and packages checked against). The store
// (src/cache/check-cache.ts) keeps them per version of this tool and of the command data, which
// decide the rest. Findings are plain data, so a result read back prints exactly as a fresh one.
import { targetVersion, type LintTarget } from './routeros-target.js';
import type { LintFn, ScriptFinding } from './model.js';

/** Where results are kept: by the check settings, then by the checked text's key (ctx.key). */
export interface CheckCacheStore {
  get(settings: string, text: string): readonly ScriptFinding[] | undefined;
  set(settings: string, text: string, findings: readonly ScriptFinding[]): void;
}

/** A result as worker threads are given it and give it back: settings, text key, findings. */
export type CheckResult = [settings: string, text: string, findings: readonly ScriptFinding[]];

/** `lint` with its results kept in `store`: calls that say what their text is (ctx.key) are answered from it when they can be. */
export function cachedChecks(lint: LintFn, store: CheckCacheStore): LintFn {
  // A site's scripts share its rules and target objects: their settings text is made once.
  const made = new WeakMap<object, { target: unknown; settings: string }>();
  const settingsOf = (rules: Record<string, unknown>, target: LintTarget | undefined) => {
    const m = made.get(rules);
    if (m && m.target === target) return m.settings;
    const settings = `${JSON.stringify(Object.entries(rules).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}|${targetVersion(target) ?? ''}|${target?.packages?.join(',') ?? '*'}`;
    made.set(rules, { target, settings });
    return settings;
  };
  return (text, rules, ctx) => {
    if (!ctx?.key) return lint(text, rules, ctx);
    const settings = settingsOf(rules, ctx.target);
    const hit = store.get(settings, ctx.key);
    if (hit) return hit as ScriptFinding[];
    const findings = lint(text, rules, ctx);
    store.set(settings, ctx.key, findings);
    return findings;
  };
}
