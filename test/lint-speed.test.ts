// How long checking a fleet's worth of scripts takes. It prints the figure and asserts nothing about
// time (figures belong in output, not in pass/fail); it does check that every script was read.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { expect, it } from 'vitest';
import { lintScript } from '../src/lint/index.js';

const VALID = join(import.meta.dirname, 'fixtures', 'lint', 'valid');

/** 1,000 scripts of realistic size: a full /export followed by one of the hand-written scripts. */
function fleet(count: number): string[] {
  const files = readdirSync(VALID).filter((f) => f.endsWith('.rsc')).sort();
  const texts = files.map((f) => readFileSync(join(VALID, f), 'utf8'));
  const base = texts[files.indexOf('export-full.rsc')]!;
  const others = texts.filter((t) => t !== base);
  return Array.from({ length: count }, (_, i) => base.replace('branch-ams-01', `branch-${i}`) + `/system identity set name=site-${i}\n` + others[i % others.length]!);
}

it('lints 1,000 scripts well under a second', () => {
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
