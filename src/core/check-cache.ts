// Script check results kept between runs (issue 18): a script already checked is not checked
// again. A result is known by what decides it: the checked text (its blob, and for a template the
// render inputs, which cover every value it takes in; see render-fleet.ts checkKey) and the
// settings the checks read (the rules, the RouterOS version and packages checked against). The store
// (src/cache/check-cache.ts) keeps them per version of this tool and of the command data, which
// decide the rest. Findings are plain data, so a result read back prints exactly as a fresh one.
import { targetVersion } from './routeros-target.js';
import type { LintFn, ScriptFinding } from './model.js';

/** Where results are kept, by key. */
export interface CheckCacheStore {
  get(key: string): readonly ScriptFinding[] | undefined;
  set(key: string, findings: readonly ScriptFinding[]): void;
}

/** `lint` with its results kept in `store`: calls that say what their text is (ctx.key) are answered from it when they can be. */
export function cachedChecks(lint: LintFn, store: CheckCacheStore): LintFn {
  return (text, rules, ctx) => {
    if (!ctx?.key) return lint(text, rules, ctx);
    const target = ctx.target;
    // The text's key first (no '|' in it): the store groups results by what follows.
    const settings = `${JSON.stringify(Object.entries(rules).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}|${targetVersion(target) ?? ''}|${target?.packages?.join(',') ?? '*'}`;
    const key = `${ctx.key}|${settings}`;
    const hit = store.get(key);
    if (hit) return hit as ScriptFinding[];
    const findings = lint(text, rules, ctx);
    store.set(key, findings);
    return findings;
  };
}
