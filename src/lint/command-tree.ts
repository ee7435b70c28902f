// The RouterOS command tree of every version in the data set (data/routeros-commands.json, built by
// scripts/build-routeros-data.mjs from tikoci/restraml), and the view of it for one version.
//
// The file holds one tree, the union of every version's. Each entry records the versions it exists
// in as ranges of indexes into `versions` ([from, to, from, to, ...], inclusive):
//
//   { format: 1, source, versions: ['7.9', ...], packages: [...], enums: [Enum...], tree: Node }
//   Node = { v?: Ranges, x?: Ranges, p?: package, o?: 1, oa?: 1,
//            m?: { menu: Node }, c?: { command: Node }, a?: { parameter: 0 | Arg } }
//   Arg  = { v?: Ranges, x?: Ranges, p?: package, e?: index into enums }
//   Enum = [Ranges where the values are known, 1 when a list (a,b,c), { value: 0 | Ranges }, 1 when numbers are accepted too]
//
// `v` left out: the parent's versions. `x`: the versions in which the entry exists only with an
// extra package installed, `p` (left out: the part of the parent's `x` it exists in, and the
// parent's package). `o`: a menu that exists on hardware, not on the CHR the trees come from:
// whatever is below it is accepted. `oa`: a command whose parameters depend on the hardware: one
// the tree does not know is accepted. An enum value's 0 means "wherever the enum is known".
//
// Decoding is lazy: the JSON is parsed once, and each node's maps are built the first time a
// script reaches it.

import { compareRouterOsVersions, parseRouterOsVersion, type RouterOsVersion } from './routeros-version.js';

export type Ranges = readonly number[];

const ALL: Ranges = [];
const NONE: Ranges = [];

/**
 * Names looked up where they stand in a script's text, without cutting them out of it (every
 * parameter of every command is looked up: a new string per lookup would cost more than the rest of
 * the check). Bucketed by length and first character; lower-case names only.
 */
export class NameIndex<T extends { readonly name: string }> {
  private readonly buckets = new Map<number, T[]>();

  constructor(entries: Iterable<T>) {
    for (const e of entries) {
      const key = e.name.length * 128 + (e.name.charCodeAt(0) & 127);
      const list = this.buckets.get(key);
      if (list) list.push(e);
      else this.buckets.set(key, [e]);
    }
  }

  /** The entry named s[from, to) exactly, if any. */
  at(s: string, from: number, to: number): T | undefined {
    const list = this.buckets.get((to - from) * 128 + (s.charCodeAt(from) & 127));
    if (list === undefined) return undefined;
    next: for (let k = 0; k < list.length; k++) {
      const n = list[k]!.name;
      for (let i = 1; i < n.length; i++) if (s.charCodeAt(from + i) !== n.charCodeAt(i)) continue next;
      return list[k];
    }
    return undefined;
  }
}

/** Is version index `vi` in the ranges? */
export function inRanges(r: Ranges, vi: number): boolean {
  for (let i = 0; i < r.length; i += 2) if (vi >= r[i]! && vi <= r[i + 1]!) return true;
  return false;
}

function intersect(a: Ranges, b: Ranges): Ranges {
  if (b.length === 0 || a.length === 0) return NONE;
  const out: number[] = [];
  for (let i = 0; i < a.length; i += 2)
    for (let j = 0; j < b.length; j += 2) {
      const from = Math.max(a[i]!, b[j]!);
      const to = Math.min(a[i + 1]!, b[j + 1]!);
      if (from <= to) out.push(from, to);
    }
  return out;
}

interface RawNode {
  v?: number[];
  x?: number[];
  p?: string;
  o?: 1;
  oa?: 1;
  m?: Record<string, RawNode>;
  c?: Record<string, RawNode>;
  a?: Record<string, 0 | RawArg>;
}

interface RawArg {
  v?: number[];
  x?: number[];
  p?: string;
  e?: number;
}

type RawEnum = [number[], 0 | 1, Record<string, 0 | number[]>, (0 | 1)?];

export interface CommandData {
  format: number;
  source: string;
  versions: string[];
  packages: string[];
  enums: RawEnum[];
  tree: RawNode;
}

/** Something that exists in some versions, possibly only with an extra package. */
export interface Versioned {
  readonly name: string;
  /** Versions it exists in. */
  readonly v: Ranges;
  /** Versions in which it exists only with the extra package `pkg`. */
  readonly x: Ranges;
  readonly pkg: string | undefined;
}

export interface EnumValue {
  readonly name: string;
  readonly v: Ranges;
}

export interface EnumInfo {
  /** Versions whose tree lists the values. */
  readonly known: Ranges;
  /** The values, for lookups in place (see NameIndex). */
  readonly index: NameIndex<EnumValue>;
  /** The value is a comma-separated list of them. */
  readonly list: boolean;
  /** A number is accepted too (protocol=139). */
  readonly numbers: boolean;
  readonly values: ReadonlyMap<string, Ranges>;
}

export interface ArgInfo extends Versioned {
  readonly enum: EnumInfo | undefined;
}

/** A menu or a command (a name can be both, in different versions or places). */
export class TreeNode implements Versioned {
  private menuMap: Map<string, TreeNode> | undefined;
  private cmdMap: Map<string, TreeNode> | undefined;
  private argMap: Map<string, ArgInfo> | undefined;
  private argIndex: NameIndex<ArgInfo> | undefined;
  private childIndex: NameIndex<{ readonly name: string; menu?: TreeNode; command?: TreeNode }> | undefined;
  readonly v: Ranges;
  readonly x: Ranges;
  readonly pkg: string | undefined;
  /** Exists on hardware only: what is below it is not known, and accepted. */
  readonly open: boolean;
  /** Its parameters depend on the hardware: unknown ones are accepted. */
  readonly openArgs: boolean;

  constructor(
    private readonly tree: CommandTree,
    private readonly raw: RawNode,
    readonly name: string,
    /** Canonical path: '/ip/firewall/filter' ('' for the top). */
    readonly path: string,
    readonly parent: TreeNode | null,
  ) {
    this.v = raw.v ?? parent?.v ?? tree.all;
    this.x = raw.x ?? (parent ? intersect(this.v, parent.x) : NONE);
    this.pkg = raw.p ?? parent?.pkg;
    this.open = raw.o === 1 || (parent?.open ?? false);
    this.openArgs = raw.oa === 1;
  }

  /** Menus below, by name. */
  get menus(): ReadonlyMap<string, TreeNode> {
    return (this.menuMap ??= this.children(this.raw.m));
  }

  /** Commands of this menu, by name. */
  get commands(): ReadonlyMap<string, TreeNode> {
    return (this.cmdMap ??= this.children(this.raw.c));
  }

  /** The parameter, menu or command named s[from, to) (lower case), found in place. */
  argAt(s: string, from: number, to: number): ArgInfo | undefined {
    return (this.argIndex ??= new NameIndex(this.args.values())).at(s, from, to);
  }

  /** The menu and the command named s[from, to) (lower case), found in place (one lookup for both). */
  childAt(s: string, from: number, to: number): { readonly name: string; menu?: TreeNode; command?: TreeNode } | undefined {
    if (!this.childIndex) {
      const byName = new Map<string, { name: string; menu?: TreeNode; command?: TreeNode }>();
      for (const m of this.menus.values()) byName.set(m.name, { name: m.name, menu: m });
      for (const c of this.commands.values()) {
        const e = byName.get(c.name);
        if (e) e.command = c;
        else byName.set(c.name, { name: c.name, command: c });
      }
      this.childIndex = new NameIndex(byName.values());
    }
    return this.childIndex.at(s, from, to);
  }

  commandAt(s: string, from: number, to: number): TreeNode | undefined {
    return this.childAt(s, from, to)?.command;
  }

  /** Parameters of this command, by name. */
  get args(): ReadonlyMap<string, ArgInfo> {
    if (this.argMap) return this.argMap;
    const map = new Map<string, ArgInfo>();
    const raw = this.raw.a;
    if (raw)
      for (const name of Object.keys(raw)) {
        const a = raw[name]!;
        if (a === 0) {
          map.set(name, { name, v: this.v, x: this.x, pkg: this.pkg, enum: undefined });
          continue;
        }
        const v = a.v ?? this.v;
        map.set(name, { name, v, x: a.x ?? intersect(v, this.x), pkg: a.p ?? this.pkg, enum: a.e === undefined ? undefined : this.tree.enumAt(a.e) });
      }
    return (this.argMap = map);
  }

  private children(raw: Record<string, RawNode> | undefined): Map<string, TreeNode> {
    const map = new Map<string, TreeNode>();
    if (raw) for (const name of Object.keys(raw)) map.set(name, new TreeNode(this.tree, raw[name]!, name, `${this.path}/${name}`, this));
    return map;
  }
}

export class CommandTree {
  readonly versions: readonly string[];
  readonly packages: readonly string[];
  readonly source: string;
  readonly root: TreeNode;
  /** Every version. */
  readonly all: Ranges;
  private readonly rawEnums: RawEnum[];
  private readonly enums = new Map<number, EnumInfo>();

  constructor(data: CommandData) {
    if (data.format !== 1 || !Array.isArray(data.versions) || !data.tree) throw new Error('the RouterOS command data has an unknown format');
    this.versions = data.versions;
    this.packages = data.packages;
    this.source = data.source;
    this.rawEnums = data.enums;
    this.all = data.versions.length ? [0, data.versions.length - 1] : ALL;
    this.root = new TreeNode(this, data.tree, '', '', null);
  }

  enumAt(i: number): EnumInfo {
    let e = this.enums.get(i);
    if (!e) {
      const [known, list, raw, numbers] = this.rawEnums[i]!;
      const values = new Map<string, Ranges>();
      for (const value of Object.keys(raw)) {
        const r = raw[value]!;
        values.set(value, r === 0 ? known : r);
      }
      e = { known, list: list === 1, numbers: numbers === 1, values, index: new NameIndex([...values].map(([name, v]) => ({ name, v }))) };
      this.enums.set(i, e);
    }
    return e;
  }

  /** The versions in `r`, as people read them: 'from 7.20', 'up to 7.19.6 (removed in 7.20)', '7.12.2 to 7.15'. */
  describe(r: Ranges): string {
    const last = this.versions.length - 1;
    const parts: string[] = [];
    for (let i = 0; i < r.length; i += 2) {
      const from = r[i]!;
      const to = r[i + 1]!;
      if (from === 0 && to === last) parts.push('in every version');
      else if (to === last) parts.push(`from ${this.versions[from]}`);
      else if (from === 0) parts.push(`up to ${this.versions[to]} (removed in ${this.versions[to + 1]})`);
      else if (from === to) parts.push(`in ${this.versions[from]}`);
      else parts.push(`in ${this.versions[from]} to ${this.versions[to]}`);
    }
    return parts.length ? parts.join(', ') : 'in no version';
  }
}

/** What a script is checked against: one version of the tree, and the extra packages the site has. */
export interface RouterOsTarget {
  readonly tree: CommandTree;
  /** Index into tree.versions of the version checked against. */
  readonly index: number;
  /** The site's version, as messages name it ('7.19.4'; the data set may hold only 7.19.3). */
  readonly label: string;
  /**
   * For a version between two of the data set (7.13.2 between 7.12.1 and 7.13.5): the later one's
   * index. What exists in either is accepted: the data set cannot say which the site's version has.
   */
  readonly also?: number;
  /** No version is known for the site: it is checked against the newest (messages say so, not "this site runs"). */
  readonly assumed?: boolean;
  /** The extra packages the site has; undefined: any. */
  readonly packages: ReadonlySet<string> | undefined;
}

/**
 * The target for a site's version (undefined: not known) and packages. A version missing from the
 * data set is checked against the closest one before it (7.16.3 against 7.16.2); one older or newer
 * than the data set, against its oldest or newest, and `note` says so. RouterOS 6 has another
 * command tree: no target, and a note.
 */
export function routerOsTarget(
  tree: CommandTree,
  version: RouterOsVersion | undefined,
  packages: readonly string[] | undefined,
): { target?: RouterOsTarget; note?: string } {
  const pkgs = packages ? new Set(packages) : undefined;
  const versions = tree.versions;
  const newest = versions.length - 1;
  if (!version) return { target: { tree, index: newest, label: versions[newest]!, packages: pkgs, assumed: true } };
  if (version.major < 7)
    return { note: `RouterOS ${version.text} is not checked against a command tree: the data set covers ${versions[0]} to ${versions[newest]}` };
  let index = -1;
  for (let i = 0; i < versions.length; i++) {
    const v = parseRouterOsVersion(versions[i]!)!;
    if (compareRouterOsVersions(v, version) <= 0) index = i;
    else break;
  }
  if (index < 0)
    return {
      target: { tree, index: 0, label: version.text, packages: pkgs },
      note: `RouterOS ${version.text} is older than the data set: checked against ${versions[0]}, the oldest version it holds`,
    };
  const beyond = index === newest && compareRouterOsVersions(parseRouterOsVersion(versions[newest]!)!, version) < 0;
  const between = !beyond && index < newest && compareRouterOsVersions(parseRouterOsVersion(versions[index]!)!, version) < 0;
  return {
    target: { tree, index, label: version.text, packages: pkgs, ...(between ? { also: index + 1 } : {}) },
    note: beyond ? `RouterOS ${version.text} is newer than the data set: checked against ${versions[newest]}, the newest version it holds` : undefined,
  };
}
