// Parse one of the user's YAML files into a typed value, or into problems that name the file,
// the line and the column, and say how to fix them. Never throws on bad input.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import jsyaml from 'js-yaml';
import type { z } from 'zod';
import type { Problem } from './errors.js';

const MAX_ALIASES = 100;
const MAX_DEPTH = 32;

export interface ParsedYaml<T> {
  value?: T;
  problems: Problem[];
}
type Position = { line?: number; column?: number };

export interface ParseYamlOptions {
  /**
   * When the file has problems, still return what is valid in it (each setting the schema refused
   * left out), so that one typo is one error: the fleet file's variables and groups stay known to the
   * sites, which would otherwise report every variable as undefined. Default false (no value).
   */
  salvage?: boolean;
}

export function parseYamlFile<S extends z.ZodType>(text: string, file: string, schema: S, what: string, opts: ParseYamlOptions = {}): ParsedYaml<z.infer<S>> {
  const fast = parseFast(text, schema);
  if (fast) return { value: fast.data, problems: [] };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const pos = (offset: number | undefined): Position => {
    if (offset === undefined) return {};
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const syntax = syntaxProblems(doc, file, pos);
  if (syntax.length) return { problems: syntax };
  const data = toMapping(doc, file, what, pos);
  if ('problems' in data) return data;
  const result = schema.safeParse(data.value);
  if (result.success) return { value: result.data, problems: [] };
  const problems = schemaProblems(result.error.issues, doc, schema, file, what, pos);
  const value = opts.salvage ? salvage(schema, data.value, result.error.issues) : undefined;
  return value === undefined ? { problems } : { value, problems };
}

/** The document without the settings the schema refused (at most a few rounds), or undefined. */
function salvage<S extends z.ZodType>(schema: S, data: object, first: readonly z.core.$ZodIssue[]): z.infer<S> | undefined {
  const value: unknown = structuredClone(data);
  let issues = first;
  for (let round = 0; round < 5; round++) {
    for (const issue of issues) {
      const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
      if (issue.code === 'unrecognized_keys') for (const key of issue.keys) deleteIn(value, [...path, key]);
      else if (path.length) deleteIn(value, path);
      else return undefined;
    }
    const again = schema.safeParse(value);
    if (again.success) return again.data;
    issues = again.error.issues;
  }
  return undefined;
}

function deleteIn(value: unknown, path: ReadonlyArray<string | number>): void {
  let at = value;
  for (const seg of path.slice(0, -1)) {
    if (at === null || typeof at !== 'object') return;
    at = (at as Record<string | number, unknown>)[seg];
  }
  if (at === null || typeof at !== 'object') return;
  const last = path[path.length - 1]!;
  if (Array.isArray(at) && typeof last === 'number') at.splice(last, 1);
  else delete (at as Record<string | number, unknown>)[last];
}

/**
 * Fast path for the common case, a valid file: js-yaml with the YAML 1.2 core schema is several
 * times faster than the position-tracking parser. Anything it rejects, anything the schema
 * rejects, and any file with anchors or aliases takes the precise path, which is the one that
 * decides and explains.
 */
function parseFast<S extends z.ZodType>(text: string, schema: S): { data: z.infer<S> } | undefined {
  if (/[&*]/.test(text)) return undefined;
  let fast: unknown;
  try {
    fast = jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA });
  } catch {
    return undefined;
  }
  if (!fast || typeof fast !== 'object' || Array.isArray(fast) || depth(fast) > MAX_DEPTH) return undefined;
  const r = schema.safeParse(fast);
  return r.success ? { data: r.data } : undefined;
}

function syntaxProblems(doc: Document, file: string, pos: (offset: number | undefined) => Position): Problem[] {
  return doc.errors.map((err) => {
    const duplicate = err.code === 'DUPLICATE_KEY';
    return {
      file,
      ...pos(err.pos[0]),
      message: duplicate ? 'a key is defined twice in the same mapping' : `this is not valid YAML: ${firstLine(err.message)}`,
      hint: duplicate ? 'keep one of the two definitions' : 'fix the YAML syntax (indentation, quotes, colons)',
    };
  });
}

/** The document as a plain mapping (an empty file is an empty one), or why it is not one. */
function toMapping(doc: Document, file: string, what: string, pos: (offset: number | undefined) => Position): { value: object } | { problems: Problem[] } {
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    return {
      problems: [{ file, message: `the YAML expands too much (${firstLine((e as Error).message)})`, hint: 'use fewer aliases (*name); write the values out' }],
    };
  }
  if (depth(data) > MAX_DEPTH) {
    return {
      problems: [
        {
          file,
          ...pos(doc.contents?.range?.[0]),
          message: `the YAML is nested more than ${MAX_DEPTH} levels deep`,
          hint: `${what} is a flat mapping of settings`,
        },
      ],
    };
  }
  const value = data ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    return {
      problems: [
        {
          file,
          ...pos(doc.contents?.range?.[0]),
          message: `${what} must be a mapping of settings (key: value), not ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}`,
          hint: 'write it as lines of "key: value"',
        },
      ],
    };
  }
  return { value };
}

/** The schema's complaints, each at the line of the key or value it is about. */
function schemaProblems(
  issues: readonly z.core.$ZodIssue[],
  doc: Document,
  schema: z.ZodType,
  file: string,
  what: string,
  pos: (offset: number | undefined) => Position,
): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const known = knownKeysAt(schema, path);
        const guess = closest(key, known);
        problems.push({
          file,
          ...pos(keyNodeOffset(doc, path, key)),
          message: `unknown setting "${[...path, key].join('.')}"${guess ? `; did you mean "${guess}"?` : ''}`,
          hint: known.length ? `the settings allowed here are: ${known.join(', ')}` : undefined,
        });
      }
      continue;
    }
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    const offset = node?.range?.[0] ?? (path.length ? keyNodeOffset(doc, path.slice(0, -1), path[path.length - 1]!) : undefined);
    const where = path.length ? `"${path.join('.')}"` : what;
    // The value as written decides the words: a key that is there with the wrong type is not "required".
    const present = path.length === 0 || doc.hasIn(path);
    const { message, hint } = describeIssue(issue, present, present ? doc.getIn(path) : undefined);
    problems.push({ file, ...pos(offset), message: `${where}: ${message}`, ...(hint && { hint }) });
  }
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue, present: boolean, value: unknown): { message: string; hint?: string } {
  if (issue.code === 'invalid_key') {
    const inner = issue.issues.map((i) => i.message).join('; ');
    return { message: `is not an allowed name (${inner})` };
  }
  if (issue.code === 'invalid_type') {
    const expected = EXPECTED[issue.expected] ?? issue.expected;
    if (!present) return { message: `is required (expected ${expected})` };
    const hint =
      issue.expected === 'boolean' && typeof value === 'string'
        ? `write true or false (YAML 1.2 reads yes, no, on and off as text)`
        : issue.expected === 'number' && typeof value === 'string'
          ? 'write the number without quotes'
          : undefined;
    return { message: `expected ${expected}, got ${describeValue(value)}`, hint };
  }
  return { message: issue.message };
}

const EXPECTED: Record<string, string> = {
  boolean: 'a boolean, true or false',
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  array: 'a list',
  object: 'a mapping of key: value',
  record: 'a mapping of key: value',
};

/** A YAML value in words: the string "yes", the number 3, a list, nothing. */
function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `the ${typeof v} ${String(v)}`;
  if (Array.isArray(v) || isSeq(v)) return 'a list';
  return 'a mapping';
}

function keyNodeOffset(doc: Document, parentPath: ReadonlyArray<string | number>, key: string | number): number | undefined {
  const parent = parentPath.length ? doc.getIn(parentPath, true) : doc.contents;
  if (!isMap(parent)) return undefined;
  for (const item of parent.items) {
    if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(key)) return item.key.range?.[0];
  }
  return undefined;
}

/** The keys a strict object schema allows at `path` (through records, optionals and objects). */
function knownKeysAt(schema: z.ZodType, path: ReadonlyArray<string | number>): string[] {
  let s: unknown = schema;
  const def = (x: unknown) => (x as { _zod: { def: Record<string, unknown> } })._zod.def;
  const unwrap = (x: unknown): unknown => {
    while (x && ['optional', 'nullable', 'default'].includes(def(x).type as string)) x = def(x).innerType;
    return x;
  };
  s = unwrap(s);
  for (const seg of path) {
    const d = def(s);
    if (d.type === 'object') s = unwrap((d.shape as Record<string, unknown>)[String(seg)]);
    else if (d.type === 'record') s = unwrap(d.valueType);
    else return [];
    if (!s) return [];
  }
  const d = def(s);
  return d.type === 'object' ? Object.keys(d.shape as object) : [];
}

/** The known word nearest to `word` (edit distance at most 1/3 of its length, at least 2), if any. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

function depth(v: unknown, d = 0): number {
  if (d > MAX_DEPTH) return d;
  if (v && typeof v === 'object') {
    let m = d + 1;
    for (const x of Object.values(v)) m = Math.max(m, depth(x, d + 1));
    return m;
  }
  return d;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}
