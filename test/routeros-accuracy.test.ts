// How often the RouterOS command checks are wrong, on scripts routers accept and on scripts they
// refuse (test/fixtures/routeros): real /export files checked against the version their header
// names, the eworm-de/routeros-scripts collection, sites.example and the valid lint fixtures on the
// one side; hand-written mistakes, each with the version that refuses it, on the other. It prints
// the false-error and catch rates; it fails on any false error in eworm-de's scripts, on more than
// 1% elsewhere, and on a catch rate under 75%.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCommandTree } from '../src/assets/command-data.js';
import { routerOsTarget } from '../src/lint/command-tree.js';
import { lintScript, RULES } from '../src/lint/index.js';
import { parseRouterOsVersion } from '../src/lint/routeros-version.js';

const tree = loadCommandTree();
const ROUTEROS_RULES = new Set(RULES.filter((r) => r.kind === 'routeros').map((r) => r.id as string));
const FIXTURES = join(import.meta.dirname, 'fixtures');

function rscFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? rscFiles(p) : p.endsWith('.rsc') ? [p] : [];
    });
}

/** The command-tree errors of a script, checked against `version` (undefined: the newest). */
function errors(text: string, version?: string, packages?: string[]): string[] {
  const { target } = routerOsTarget(tree, version === undefined ? undefined : parseRouterOsVersion(version), packages);
  return lintScript(text, { routeros: target })
    .filter((f) => f.severity === 'error' && ROUTEROS_RULES.has(f.rule))
    .map((f) => `${f.line}:${f.column} ${f.rule} ${f.message}`);
}

/** Scripts with at least one error, as "file: first error". */
function falseErrors(files: string[], versionOf: (text: string) => string | undefined): string[] {
  return files.flatMap((f) => {
    const text = readFileSync(f, 'utf8');
    const e = errors(text, versionOf(text));
    return e.length ? [`${f.slice(FIXTURES.length + 1)}: ${e[0]}`] : [];
  });
}

const header = (text: string) => /^# .*by RouterOS (\S+)/m.exec(text.slice(0, 300))?.[1];

describe('accuracy of the RouterOS command checks', () => {
  it('finds no error in the scripts of eworm-de/routeros-scripts (not the templates)', () => {
    const files = rscFiles(join(FIXTURES, 'routeros', 'accepted', 'eworm-de'));
    expect(files.length).toBeGreaterThan(70);
    expect(falseErrors(files, () => undefined)).toEqual([]);
  });

  it('finds errors in at most 1% of the scripts routers accept, and prints the rate', () => {
    const exports = rscFiles(join(FIXTURES, 'routeros', 'accepted', 'exports'));
    const eworm = rscFiles(join(FIXTURES, 'routeros', 'accepted', 'eworm-de'));
    const example = rscFiles(join(import.meta.dirname, '..', 'sites.example'));
    const exampleVersion = /^routeros: "?([\w.]+)"?$/m.exec(
      readFileSync(join(import.meta.dirname, '..', 'sites.example', 'routeros-gitops.yaml'), 'utf8'),
    )?.[1];
    expect(exampleVersion).toBeDefined();
    const valid = rscFiles(join(FIXTURES, 'lint', 'valid'));
    const others = [...eworm, ...example, ...valid];
    const wrong = [
      ...falseErrors(exports, header),
      ...falseErrors(eworm, () => undefined),
      ...falseErrors(example, () => exampleVersion),
      ...falseErrors(valid, (text) => header(text)),
    ];
    const total = exports.length + others.length;
    console.log(
      `routeros accuracy: ${wrong.length} of ${total} router-accepted scripts with a false error (${((100 * wrong.length) / total).toFixed(1)}%): ` +
        `${exports.length} /export files on their own version, ${eworm.length} eworm-de scripts on the newest, ` +
        `${example.length} sites.example scripts on ${exampleVersion}, ${valid.length} lint fixtures${wrong.length ? `\n${wrong.join('\n')}` : ''}`,
    );
    expect(exports.length).toBeGreaterThan(30);
    expect(wrong.length / total).toBeLessThanOrEqual(0.01);
  });

  it('catches at least 75% of the scripts routers refuse, and prints the rate and the misses', () => {
    const files = rscFiles(join(FIXTURES, 'routeros', 'refused'));
    const missed: string[] = [];
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      const version = /^# refused by RouterOS (\d[\w.]*)/.exec(text)?.[1];
      expect(version, f).toBeDefined();
      const packages = /^# packages: (.*)$/m
        .exec(text)?.[1]
        ?.split(',')
        .map((p) => p.trim());
      if (!errors(text, version, packages).length) missed.push(`${f.slice(FIXTURES.length + 1)}: ${text.split('\n')[0]}`);
    }
    const caught = files.length - missed.length;
    console.log(
      `routeros accuracy: ${caught} of ${files.length} refused scripts caught (${((100 * caught) / files.length).toFixed(0)}%); missed:\n${missed.join('\n')}`,
    );
    expect(files.length).toBeGreaterThan(40);
    expect(caught / files.length).toBeGreaterThanOrEqual(0.75);
  });
});
