// How long checking a fleet's worth of scripts takes. It prints the figures and asserts nothing about
// time (figures belong in output, not in pass/fail); it does check that every script was read.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { expect, it } from 'vitest';
import { loadCommandTree } from '../src/assets/command-data.js';
import { routerOsTarget } from '../src/lint/command-tree.js';
import { lintScript } from '../src/lint/index.js';
import { parseRouterOsVersion } from '../src/lint/routeros-version.js';
import { lintScript as referenceLint } from './fixtures/lint/reference/index.js';

const VALID = join(import.meta.dirname, 'fixtures', 'lint', 'valid');
const validFiles = readdirSync(VALID)
  .filter((f) => f.endsWith('.rsc'))
  .sort();
const validTexts = validFiles.map((f) => readFileSync(join(VALID, f), 'utf8'));

/** 1,000 scripts of realistic size: a full /export followed by one of the hand-written scripts. */
function fleet(count: number): string[] {
  const base = validTexts[validFiles.indexOf('export-full.rsc')]!;
  const others = validTexts.filter((t) => t !== base);
  return Array.from(
    { length: count },
    (_, i) => `${base.replace('branch-ams-01', `branch-${i}`)}/system identity set name=site-${i}\n${others[i % others.length]!}`,
  );
}

/** 1,000 scripts of about 1 KB: twelve firewall rules and a DNS setting each. */
function firewallFleet(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    let s = '/ip firewall filter\n';
    for (let k = 0; k < 12; k++) s += `add chain=forward action=accept src-address=10.${i % 256}.${k}.${(i * 7 + k) % 256} comment="rule ${k}"\n`;
    return `${s}/ip dns set servers=1.1.1.1\n`;
  });
}

/** Best time of `passes` passes over all scripts, in ms, after one untimed pass (so the figures are of optimised code). */
function best(lint: (text: string) => unknown, scripts: readonly string[], passes: number): number {
  for (const s of scripts) lint(s);
  let min = Infinity;
  for (let pass = 0; pass < passes; pass++) {
    const start = performance.now();
    for (const s of scripts) lint(s);
    min = Math.min(min, performance.now() - start);
  }
  return min;
}

it('lints 1,000 scripts without an error finding, and prints how long three passes take (the figure is in npm run bench)', () => {
  const scripts = fleet(1000);
  for (const s of scripts) lintScript(s); // one untimed pass, so the figures are of optimised code
  const chars = scripts.reduce((n, s) => n + s.length, 0);
  const lines = scripts.reduce((n, s) => n + s.split('\n').length - 1, 0);
  const passes: number[] = [];
  let errors = 0;
  for (let pass = 0; pass < 3; pass++) {
    const start = performance.now();
    for (const s of scripts) errors += lintScript(s).filter((f) => f.severity === 'error').length;
    passes.push(performance.now() - start);
  }
  console.log(
    `lint: ${scripts.length} scripts, ${(chars / 1e6).toFixed(1)} MB, ${lines} lines (${Math.round(lines / scripts.length)} per script): ` +
      `${passes.map((ms) => `${ms.toFixed(0)} ms`).join(', ')} over three passes (best ${(Math.min(...passes) / scripts.length).toFixed(3)} ms per script)`,
  );
  expect(errors).toBe(0);
});

it('prints the speed on 1 KB firewall scripts and on the corpus, beside the reference implementation', () => {
  const sets: Array<[string, string[]]> = [
    ['1,000 firewall scripts', firewallFleet(1000)],
    ['1,000 corpus files', Array.from({ length: 1000 }, (_, i) => validTexts[i % validTexts.length]!)],
  ];
  for (const [name, scripts] of sets) {
    const mb = scripts.reduce((n, s) => n + s.length, 0) / 1e6;
    const before = best(referenceLint, scripts, 8);
    const now = best(lintScript, scripts, 8);
    console.log(
      `lint speed, ${name} (${(mb * 1000).toFixed(0)} KB): ${now.toFixed(1)} ms, ${(mb / (now / 1000)).toFixed(0)} MB/s ` +
        `(reference: ${before.toFixed(1)} ms, ${(mb / (before / 1000)).toFixed(0)} MB/s; ${(before / now).toFixed(1)}x)`,
    );
    // The same findings as the reference, besides the rules newer than it (unguarded-add).
    expect(scripts.map((s) => lintScript(s).filter((f) => f.rule !== 'unguarded-add').length)).toEqual(scripts.map((s) => referenceLint(s).length));
  }
});

it('prints the speed with the RouterOS command checks beside the speed without them (the figure is in npm run bench)', () => {
  const routeros = routerOsTarget(loadCommandTree(), parseRouterOsVersion('7.16.2'), undefined).target;
  const sets: Array<[string, string[]]> = [
    ['1,000 firewall scripts', firewallFleet(1000)],
    ['1,000 corpus files', Array.from({ length: 1000 }, (_, i) => validTexts[i % validTexts.length]!)],
  ];
  for (const [name, scripts] of sets) {
    const without = best(lintScript, scripts, 8);
    const withChecks = best((s) => lintScript(s, { routeros }), scripts, 8);
    console.log(
      `lint speed with the RouterOS command checks, ${name}: ${withChecks.toFixed(1)} ms (without: ${without.toFixed(1)} ms; ${(withChecks / without).toFixed(2)}x)`,
    );
    // Scripts that pass on 7.16.2: the checks find nothing in them.
    expect(scripts.flatMap((s) => lintScript(s, { routeros }).filter((f) => f.severity === 'error'))).toEqual([]);
  }
});
