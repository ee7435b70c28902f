// The import boundaries between the rooms of src/ (docs/architecture.md shows the table below, and
// a test here keeps the two in step): every import, export-from, dynamic import() and import type of every file under src/ is
// read with the TypeScript parser and checked against the table. A new folder under src/ needs a
// row here before it passes.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ENTRIES = ['cli', 'action', 'daemon'] as const;
const ADAPTERS = ['git', 'state', 'sdx', 'github', 'secrets', 'cache', 'lock', 'workers'] as const;
const PURE = ['core', 'lint', 'report'] as const;
const ALL_ROOMS = [...PURE, 'apply', ...ADAPTERS, 'assets', 'sandbox', 'wiring', ...ENTRIES, 'version'] as const;
type Room = (typeof ALL_ROOMS)[number];

interface Rule {
  /** What the room holds. */
  holds: string;
  /** The rooms it may import (itself always). */
  may: readonly Room[];
  /** Packages only this room may import (the library its adapter wraps). */
  owns?: readonly string[];
  /** A leaf every room may import (it imports nothing of src/). */
  leaf?: true;
}

const but = (...not: Room[]) => ALL_ROOMS.filter((r) => !not.includes(r));

/** The rooms of src/ and what each may import. */
const RULES: Record<Room, Rule> = {
  core: { holds: 'pure: repository model, settings, templates, keys, plan, outcome types, ports', may: ['lint'] },
  lint: { holds: 'pure: the RouterOS scanner and rules', may: ['core'] },
  report: { holds: 'pure: text, markdown and JSON renderings', may: ['core'] },
  apply: { holds: 'the executor: per-site lanes, following jobs, recording outcomes', may: ['core'] },
  git: { holds: 'adapter: trees and blobs at a commit, refs', may: ['core'] },
  state: { holds: 'adapter: the applied state (a git ref or a file)', may: ['core', 'git'] },
  sdx: { holds: 'adapter: the SDX jobs API client', may: ['core'], owns: ['undici'] },
  github: { holds: 'adapter: commit statuses, pull-request comments, annotations', may: ['core'], owns: ['@octokit/', 'bottleneck'] },
  secrets: { holds: 'adapter: secret values from the environment and a file', may: ['core'] },
  cache: { holds: 'adapter: the plan snapshot, the parse cache and the check cache in the git directory', may: ['core'] },
  lock: { holds: 'adapter: the lock file of a run', may: ['core'] },
  workers: { holds: "adapter: worker threads that render a plan's scripts, and the threads' entry", may: ['core', 'git', 'assets'] },
  assets: { holds: 'the data shipped with the package (the RouterOS command tree), read from disk', may: ['core', 'lint'] },
  sandbox: { holds: 'the local SDX double (a product feature)', may: ['core'] },
  wiring: { holds: 'the only place adapters are built', may: but(...ENTRIES) },
  cli: { holds: 'entry: the command line', may: but('action') },
  action: { holds: 'entry: the GitHub Action', may: but('cli') },
  daemon: { holds: 'entry: the watch daemon, its HTTP endpoints, signals', may: but('cli') },
  version: { holds: 'src/version.ts: the version string', may: [], leaf: true },
};

/**
 * Imports that break the table today, each with what would fix it. The test fails when one is
 * fixed (remove it here) as when a new one appears: this list only shrinks.
 */
const KNOWN_VIOLATIONS: ReadonlyArray<{ file: string; specifier: string; fix: string }> = [];

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

interface Import {
  /** src-relative file. */
  file: string;
  line: number;
  specifier: string;
}

/** Every module specifier a file names: imports, export-from, import(), import type. */
function importsOf(file: string, text: string): Import[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Import[] = [];
  const add = (node: ts.Node, spec: ts.Expression | undefined) => {
    if (spec && ts.isStringLiteralLike(spec)) out.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, specifier: spec.text });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node, node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, node.moduleReference.expression);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The room of a src-relative path: its first folder, or the file's name for a file at the top. */
function roomOf(rel: string): string {
  const [first, ...rest] = rel.split('/');
  return rest.length ? first! : first!.replace(/\.(ts|js)$/, '');
}

/** What is wrong with one import (undefined when it is allowed). */
function violation(imp: Import, rules: Record<string, Rule> = RULES): string | undefined {
  const from = roomOf(imp.file);
  const where = `src/${imp.file}:${imp.line} imports '${imp.specifier}'`;
  const rule = rules[from];
  if (!rule) return `src/${imp.file}: the room "${from}" has no row in the table of test/architecture.test.ts`;
  if (imp.specifier.startsWith('.')) {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(imp.file), imp.specifier));
    if (target.startsWith('..')) return `${where}: outside src/`;
    const to = roomOf(target);
    if (to === from || rule.may.includes(to as Room) || rules[to]?.leaf) return undefined;
    return `${where}: ${from} may not import ${to} (${from} may import ${rule.may.join(', ') || 'nothing else'})`;
  }
  for (const [room, r] of Object.entries(rules)) {
    if (room === from || !r.owns) continue;
    const lib = r.owns.find((p) => imp.specifier === p || imp.specifier.startsWith(p.endsWith('/') ? p : `${p}/`));
    if (lib) return `${where}: ${lib} is ${room}'s library; go through src/${room}`;
  }
  return undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

describe('import boundaries', () => {
  it('no import of src/ crosses a room boundary', () => {
    const imports = sourceFiles(SRC).flatMap((f) => importsOf(path.relative(SRC, f).split(path.sep).join('/'), readFileSync(f, 'utf8')));
    expect(imports.length).toBeGreaterThan(300);
    const isKnown = (i: Import) => KNOWN_VIOLATIONS.some((k) => k.file === i.file && k.specifier === i.specifier);
    const broken = imports.filter((i) => violation(i) !== undefined);
    expect(broken.filter((i) => !isKnown(i)).map((i) => violation(i))).toEqual([]);
    // A known violation that is gone is taken off the list.
    expect(KNOWN_VIOLATIONS.filter((k) => !broken.some((i) => k.file === i.file && k.specifier === i.specifier))).toEqual([]);
  });

  it('every room of src/ has a row, and every row names only rooms', () => {
    const rooms = new Set(readdirSync(SRC).map((n) => roomOf(n)));
    expect([...rooms].filter((r) => !(r in RULES))).toEqual([]);
    for (const [room, rule] of Object.entries(RULES))
      expect(
        rule.may.filter((m) => !(m in RULES)),
        room,
      ).toEqual([]);
  });

  it('docs/architecture.md shows this table: the same rooms, what each may import, the libraries each owns', () => {
    const doc = readFileSync(path.join(SRC, '..', 'docs', 'architecture.md'), 'utf8');
    const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const rows = new Map<string, { may: string[]; owns: string[] }>();
    for (const line of doc.split('\n')) {
      const cells = /^\| `(\w+)` \|/.test(line) ? line.split('|').map((c) => c.trim()) : null;
      if (!cells) continue;
      const [, room, , mayCell, ownsCell] = cells as [string, string, string, string, string];
      const but = /^every room but (.*)$/.exec(mayCell);
      const except = but ? (but[1] === 'the entries' ? [...ENTRIES] : ticked(but[1]!)) : [];
      const may = but ? ALL_ROOMS.filter((r) => !except.includes(r)) : mayCell === 'nothing' ? [] : ticked(mayCell);
      rows.set(ticked(room)[0]!, {
        may: [...may].sort(),
        owns: ticked(ownsCell)
          .map((o) => o.replace(/\*$/, ''))
          .sort(),
      });
    }
    const table = Object.fromEntries(
      Object.entries(RULES).map(([room, r]) => [room, { may: r.may.filter((m) => m !== room).sort(), owns: [...(r.owns ?? [])].sort() }]),
    );
    const shown = Object.fromEntries([...rows].map(([room, r]) => [room, { may: r.may.filter((m) => m !== room), owns: r.owns }]));
    expect(shown).toEqual(table);
  });

  it('finds what crosses a boundary, in every form an import takes', () => {
    const text = [
      "import { x } from '../sdx/client.js';",
      "import type { Y } from '../apply/apply.js';",
      "export { z } from '../cli/run.js';",
      "const m = await import('../github/octokit.js');",
      "type T = import('../daemon/daemon.js').Options;",
      "import { request } from 'undici';",
      "import { ok } from './model.js';",
      "import { lint } from '../lint/index.js';",
    ].join('\n');
    const found = importsOf('core/example.ts', text).map((i) => violation(i));
    expect(found).toEqual([
      "src/core/example.ts:1 imports '../sdx/client.js': core may not import sdx (core may import lint)",
      "src/core/example.ts:2 imports '../apply/apply.js': core may not import apply (core may import lint)",
      "src/core/example.ts:3 imports '../cli/run.js': core may not import cli (core may import lint)",
      "src/core/example.ts:4 imports '../github/octokit.js': core may not import github (core may import lint)",
      "src/core/example.ts:5 imports '../daemon/daemon.js': core may not import daemon (core may import lint)",
      "src/core/example.ts:6 imports 'undici': undici is sdx's library; go through src/sdx",
      undefined,
      undefined,
    ]);
    expect(violation({ file: 'cli/main.ts', line: 1, specifier: '../action/main.js' })).toMatch(/cli may not import action/);
    expect(violation({ file: 'daemon/daemon.ts', line: 1, specifier: '../cli/run.js' })).toMatch(/daemon may not import cli/);
    expect(violation({ file: 'wiring/build.ts', line: 1, specifier: '../daemon/metrics.js' })).toMatch(/wiring may not import daemon/);
    expect(violation({ file: 'state/git-ref-store.ts', line: 1, specifier: '../git/repo.js' })).toBeUndefined();
    expect(violation({ file: 'git/repo.ts', line: 1, specifier: '../state/encoding.js' })).toMatch(/git may not import state/);
    expect(violation({ file: 'newroom/x.ts', line: 1, specifier: '../core/errors.js' })).toMatch(/no row in the table/);
  });
});
