// The data set and the resolver together, against the source: commands built from restraml's own
// trees of RouterOS 7.19.4 and 7.20.8 (test/fixtures/routeros/restraml), every command with every
// parameter, checked against data/routeros-commands.json. What one version has and the other lacks
// must be flagged there and only there; invented names must be flagged everywhere.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadCommandTree } from '../src/assets/command-data.js';
import { routerOsTarget } from '../src/lint/command-tree.js';
import { lintScript, RULES } from '../src/lint/index.js';
import { EXTRA_PACKAGES } from '../src/lint/routeros-data-summary.js';
import { parseRouterOsVersion } from '../src/lint/routeros-version.js';

interface RawNode {
  _type?: string;
  desc?: string;
  [name: string]: RawNode | string | undefined;
}

function raw(name: string): RawNode {
  return JSON.parse(gunzipSync(readFileSync(`test/fixtures/routeros/restraml/${name}-inspect.json.gz`)).toString('utf8')) as RawNode;
}

interface RawCommand {
  path: string[];
  name: string;
  args: Map<string, string | undefined>;
}

function children(n: RawNode): Array<[string, RawNode]> {
  return Object.entries(n).filter((e): e is [string, RawNode] => e[0] !== '_type' && e[0] !== 'desc' && typeof e[1] === 'object');
}

function* commandsOf(n: RawNode, path: string[] = []): Generator<RawCommand> {
  for (const [name, child] of children(n)) {
    if (child._type === 'cmd') yield { path, name, args: new Map(children(child).map(([a, v]) => [a, v.desc])) };
    else yield* commandsOf(child, [...path, name]);
  }
}

const key = (c: RawCommand) => [...c.path, c.name].join('/');
/** Parameters a script can name (`802.3-sap` cannot be written as name=value; `where` starts a query). */
const nameable = (a: string) => /^[A-Za-z][\w.-]*$/.test(a) && a !== 'where';

const tree = loadCommandTree();

/**
 * A value the parameter takes: the first its desc lists, or the first of the values the data set
 * knows for it (from completions: action=accept), else any word.
 */
function valueFor(c: RawCommand, arg: string, desc: string | undefined): string {
  const m = desc ? /^([^\s|[\]]+)(?:\|[^\s|[\]]+)*(\[,\w+\*\])?$/.exec(desc) : null;
  if (m && (m[2] || desc!.includes('|'))) return m[1]!;
  let node = tree.root;
  for (const p of c.path) node = node.menus.get(p) ?? node;
  const e = node.commands.get(c.name)?.args.get(arg)?.enum;
  return e ? [...e.values.keys()][0]! : 'x';
}

/** One command line; every other one with slashes (/ip/address/add), the rest with spaces. */
function line(c: RawCommand, args: Iterable<[string, string | undefined]>, n: number): string {
  const words = [...c.path, c.name];
  const head = n % 2 ? `/${words.join('/')}` : `/${words.join(' ')}`;
  return [head, ...[...args].filter(([a]) => nameable(a)).map(([a, d]) => `${a}=${valueFor(c, a, d)}`)].join(' ');
}

const ROUTEROS_RULES = new Set(RULES.filter((r) => r.kind === 'routeros').map((r) => r.id as string));

/** The command-tree findings (the lockout rules have their own tests). */
function findings(text: string, version: string, packages?: string[]) {
  const { target } = routerOsTarget(tree, parseRouterOsVersion(version), packages);
  return lintScript(text, { routeros: target }).filter((f) => ROUTEROS_RULES.has(f.rule));
}

const old = [...commandsOf(raw('7.19.4'))];
const now = [...commandsOf(raw('7.20.8'))];
const extra = [...commandsOf(raw('7.20.8-extra'))];
const oldByKey = new Map(old.map((c) => [key(c), c]));

describe('generated corpus: restraml trees against the data set', () => {
  it('every command of 7.19.4 and of 7.20.8 (base and extra packages), with every parameter, passes on its own version', () => {
    for (const [version, commands] of [
      ['7.19.4', old],
      ['7.20.8', now],
      ['7.20.8', extra],
    ] as const) {
      const text = commands.map((c, n) => line(c, c.args, n)).join('\n');
      const got = findings(text, version).map((f) => `${f.line}: ${f.rule} ${f.message}`);
      if (got.length) console.log(got.slice(0, 40).join('\n'));
      expect(got, version).toEqual([]);
      const params = commands.reduce((s, c) => s + [...c.args.keys()].filter(nameable).length, 0);
      console.log(`routeros corpus ${version}: ${commands.length} commands, ${params} parameters, no finding`);
    }
    expect(now.length).toBeGreaterThan(1500);
  });

  it('flags on 7.19.4 exactly the commands and parameters 7.19.4 lacks, and on 7.20.8 those 7.20.8 lacks', () => {
    let added = 0;
    let removed = 0;
    for (const [from, to, version, count] of [
      [now, oldByKey, '7.19.4', (n: number) => (added += n)],
      [old, new Map(now.map((c) => [key(c), c])), '7.20.8', (n: number) => (removed += n)],
    ] as const) {
      const lines: string[] = [];
      const expected: string[] = [];
      for (const c of from) {
        const other = to.get(key(c));
        if (!other) {
          // The whole command (or its menu) is missing there.
          lines.push(line(c, [], lines.length));
          expected.push(`${lines.length} not-in-version`);
          continue;
        }
        for (const [a, d] of c.args) {
          if (!nameable(a)) continue;
          lines.push(line(c, [[a, d]], lines.length));
          if (!other.args.has(a)) expected.push(`${lines.length} not-in-version`);
        }
      }
      const got = findings(lines.join('\n'), version).map((f) => `${f.line} ${f.rule}`);
      expect(got, version).toEqual(expected);
      count(expected.length);
    }
    console.log(`routeros corpus: ${added} commands and parameters new in 7.20.8 flagged on 7.19.4, ${removed} gone in 7.20.8 flagged there`);
    expect(added).toBeGreaterThan(50);
    expect(removed).toBeGreaterThan(5);
  });

  /**
   * Commands whose parameters are checked: not `find` (its words are properties to match, which the
   * tree does not list) nor those whose parameters depend on the hardware (accepted unchecked).
   * (Invented parameters of the others are all flagged below.)
   */
  function takesNamedParameters(c: RawCommand): boolean {
    let node = tree.root;
    for (const p of c.path) node = node.menus.get(p)!;
    const cmd = node.commands.get(c.name)!;
    return c.name !== 'find' && !cmd.openArgs && !cmd.open;
  }

  /** Commands below menus whose contents depend on the hardware (/system health) accept what the tree does not list. */
  function inOpenMenu(c: RawCommand): boolean {
    let node = tree.root;
    for (const p of c.path) node = node.menus.get(p)!;
    return node.open;
  }

  it('flags invented parameters, commands and menus on every command', () => {
    const lines: string[] = [];
    const expected: string[] = [];
    now.forEach((c, n) => {
      if (inOpenMenu(c)) return;
      if (n % 3 === 0 && takesNamedParameters(c)) {
        lines.push(line(c, [...c.args, ['zq-option', undefined]], n));
        expected.push(`${lines.length} unknown-parameter`);
      } else if (n % 3 !== 2 && c.path.length) {
        const path = [...c.path];
        path[path.length - 1] = `${path[path.length - 1]}zq`;
        lines.push(line({ ...c, path }, [], n));
        expected.push(`${lines.length} unknown-menu|unknown-command`);
      } else {
        lines.push(line({ ...c, name: `${c.name}zq` }, [], n));
        expected.push(`${lines.length} unknown-menu|unknown-command`);
      }
    });
    const got = findings(lines.join('\n'), '7.20.8').map((f) => `${f.line} ${f.rule}`);
    const missing = expected.filter((e) => !got.some((g) => g.split(' ')[0] === e.split(' ')[0]));
    if (missing.length)
      console.log(
        missing
          .slice(0, 30)
          .map((m) => lines[Number(m.split(' ')[0]) - 1])
          .join('\n'),
      );
    expect(got.map((g) => g.replace(/unknown-(menu|command)$/, 'unknown-menu|unknown-command'))).toEqual(expected);
  });

  it('flags a value outside the values the data set lists, on every parameter that lists them', () => {
    const vi = tree.versions.indexOf('7.20.8');
    const lines: string[] = [];
    for (const c of now) {
      if (inOpenMenu(c)) continue;
      let node = tree.root;
      for (const p of c.path) node = node.menus.get(p)!;
      const cmd = node.commands.get(c.name)!;
      for (const [a, info] of cmd.args) {
        const known = info.enum?.known;
        if (!known || !nameable(a) || !c.args.has(a) || !known.some((_, i) => i % 2 === 0 && vi >= known[i]! && vi <= known[i + 1]!)) continue;
        lines.push(`${line(c, [], lines.length)} ${a}=zqvalue`);
      }
    }
    const got = findings(lines.join('\n'), '7.20.8').map((f) => `${f.line} ${f.rule}`);
    expect(got).toEqual(lines.map((_, i) => `${i + 1} invalid-value`));
    console.log(`routeros corpus: ${lines.length} parameters with listed values, an invented value flagged on each`);
    expect(lines.length).toBeGreaterThan(100);
  });

  it('flags the extra packages a site does not list, and accepts them all when listed', () => {
    const baseKeys = new Set(now.map(key));
    // Entries no package claims count as part of the system (see scripts/build-routeros-data.mjs).
    const onlyExtra = extra.filter((c) => !baseKeys.has(key(c)) && !/^(file\/(export|recursive-print)|tool\/netinstall|system\/resource)/.test(key(c)));
    const text = onlyExtra.map((c, n) => line(c, [], n)).join('\n');
    const none = findings(text, '7.20.8', []);
    expect(none.map((f) => f.rule)).toEqual(onlyExtra.map(() => 'missing-package'));
    expect(findings(text, '7.20.8', [...EXTRA_PACKAGES])).toEqual([]);
    expect(onlyExtra.length).toBeGreaterThan(500);
  });
});
