#!/usr/bin/env node
// Builds data/routeros-commands.json, the RouterOS command tree the script checks read, from
// tikoci/restraml (public domain): the `/console/inspect` tree of every RouterOS version it
// publishes, `docs/<version>/inspect.json` (the base system of a CHR) and
// `docs/<version>/extra/inspect.json` (the same CHR with every x86 extra package installed).
//
//   node scripts/build-routeros-data.mjs PATH [--out data/routeros-commands.json]
//
// PATH is a checkout of restraml or a bare mirror of it (read with git). The output holds one tree,
// the union of every version's, in which each menu, command, parameter and enum value records the
// versions it exists in as ranges of indexes into `versions` (see src/lint/command-tree.ts, which
// reads it, for the format). Run it again when restraml publishes a new version and commit both.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FORMAT = 1;

// ---- what the trees cannot say -------------------------------------------------------------------

/**
 * Which extra package an entry belongs to, for the entries present in the extra tree and not in the
 * base one of the same version (restraml installs every package at once, so the trees do not say;
 * these are MikroTik's package names). Entries no rule claims are treated as part of the system.
 * The first matching rule wins.
 */
const PACKAGE_RULES = [
  [/^\/(container|app)(\/|$)|^\/interface\/veth(\/|$)/, 'container'],
  [/^\/(caps-man|interface\/wireless)(\/|$)/, 'wireless'],
  [/^\/interface\/wifiwave2(\/|$)/, 'wifiwave2'],
  [/^\/(iot|lora)(\/|$)/, 'iot'],
  [/^\/dude(\/|$)/, 'dude'],
  [/^\/user-manager(\/|$)/, 'user-manager'],
  [/^\/tr069-client(\/|$)/, 'tr069-client'],
  [/^\/tool\/calea(\/|$)/, 'calea'],
  [/^\/system\/gps(\/|$)/, 'gps'],
  [/openflow/, 'openflow'],
  [/^\/(disk|rsync-daemon|file\/(rsync-daemon|sync))(\/|$)/, 'rose-storage'],
];

/**
 * Extra packages a router may have that restraml's x86 CHR cannot install (ARM-only), so the
 * trees hold nothing of them. `packages:` accepts their names; the menus they add are listed in
 * HARDWARE_MENUS and accepted unchecked.
 */
const OTHER_PACKAGES = ['wifi-qcom', 'wifi-qcom-be', 'wifi-qcom-ac', 'zerotier', 'extra-nic', 'switch-marvell'];

/**
 * Menus that exist on hardware (or on ARM) but not on a CHR, so the trees lack them. They are
 * accepted in every version with whatever they hold: nothing below them is checked. `package` is
 * the extra package that adds them, when one does.
 */
const HARDWARE_MENUS = [
  { path: '/system/routerboard' },
  { path: '/interface/ethernet/switch' },
  { path: '/interface/ethernet/poe' },
  { path: '/interface/w60g' },
  { path: '/system/lcd' },
  { path: '/system/gpio' },
  { path: '/system/health/settings' },
  { path: '/partitions' },
  { path: '/zerotier', package: 'zerotier' },
  { path: '/interface/zerotier', package: 'zerotier' },
];

/**
 * Menus a CHR has whose contents depend on the hardware (on a CHR `/system health` has no list of
 * sensors, so no `find`): what the tree does not know below them is accepted.
 */
const HARDWARE_DEPENDENT_MENUS = ['/system/health'];

/**
 * Commands whose parameters depend on the hardware (PoE, SFP, fans, ...): a CHR lists only some of
 * them, so a parameter the tree does not know is accepted there (the ones it knows are still
 * checked for the version).
 */
const HARDWARE_PARAMETERS = [
  '/interface/ethernet/set',
  '/interface/ethernet/reset',
  '/system/health/set',
  '/system/leds/settings/set',
  '/interface/lte/set',
  '/interface/wifi/set',
  '/interface/wifi/add',
  '/interface/wireless/set',
];

/**
 * Commands the trees of some versions lack although routers accept them, copied from another path
 * of the same version: from 7.23 on the inspect tree no longer lists `/ping`, which still works as
 * the short form of `/tool ping`.
 */
const ALIASES = [{ path: '/ping', from: '/tool/ping' }];

// ---- versions ------------------------------------------------------------------------------------

const VERSION_RE = /^(\d+)\.(\d+)(?:\.(\d+))?(?:(beta|rc)(\d+))?$/;

/** Sort key of a RouterOS version: 7.23beta2 < 7.23rc1 < 7.23 < 7.23.1. Same as src/lint/routeros-version.ts. */
function versionKey(v) {
  const m = VERSION_RE.exec(v);
  if (!m) return null;
  const stage = m[4] === 'beta' ? 0 : m[4] === 'rc' ? 1 : 2;
  return [Number(m[1]), Number(m[2]), stage, Number(m[5] ?? 0), Number(m[3] ?? 0)];
}

function compareVersions(a, b) {
  const ka = versionKey(a);
  const kb = versionKey(b);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] - kb[i];
  return 0;
}

// ---- reading restraml ----------------------------------------------------------------------------

function openSource(dir) {
  if (existsSync(join(dir, 'docs'))) {
    return {
      commit: existsSync(join(dir, '.git')) ? git(dir, ['rev-parse', 'HEAD']).trim() : 'checkout',
      list: () =>
        readdirSync(join(dir, 'docs'))
          .filter((v) => existsSync(join(dir, 'docs', v, 'inspect.json')))
          .flatMap((v) => [`docs/${v}/inspect.json`, ...(existsSync(join(dir, 'docs', v, 'extra', 'inspect.json')) ? [`docs/${v}/extra/inspect.json`] : [])]),
      read: (path) => readFileSync(join(dir, path), 'utf8'),
    };
  }
  // A bare repository (the mirror the fetch tool makes).
  const gitDir = existsSync(join(dir, 'repo')) ? join(dir, 'repo') : dir;
  return {
    commit: git(gitDir, ['rev-parse', 'HEAD']).trim(),
    list: () =>
      git(gitDir, ['ls-tree', '-r', '--name-only', 'HEAD', 'docs/'])
        .split('\n')
        .filter((p) => /^docs\/[^/]+\/(extra\/)?inspect\.json$/.test(p)),
    read: (path) => git(gitDir, ['cat-file', '-p', `HEAD:${path}`]),
  };
}

function git(dir, args) {
  return execFileSync('git', ['--git-dir', existsSync(join(dir, '.git')) ? join(dir, '.git') : dir, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

// ---- the union tree ------------------------------------------------------------------------------

/** A node of the union tree while it is built: the versions (indexes) it was seen in, per tree. */
function newNode() {
  return { base: [], extra: [], dir: false, cmd: false, menus: new Map(), cmds: new Map(), args: new Map(), open: false, openArgs: false, pkg: undefined };
}

function newArg() {
  return { base: [], extra: [], enums: new Map() /* version -> { list, values } */ };
}

function mark(list, vi) {
  if (list[list.length - 1] !== vi) list.push(vi);
}

const ENUM_RE = /^([^\s|[\]]+(?:\|[^\s|[\]]+)*)(\[,(\w+)\*\])?$/;

/** The set of values a `desc` names (`a|b|c[,Type*]`), or undefined (a type, a range, free text). */
function parseEnum(desc) {
  if (typeof desc !== 'string') return undefined;
  const m = ENUM_RE.exec(desc);
  if (!m || (!m[2] && !m[1].includes('|'))) return undefined;
  return { list: !!m[2], type: m[3], values: m[1].split('|') };
}

/**
 * Values a `desc` leaves out, by value type. A `desc` lists the values of one type, and some
 * parameters take more: `:deserialize options=` lists json.* only and takes dsv.plain too. The
 * deep-inspect trees restraml makes for a few versions hold what the console completes for each
 * parameter; every value completed there that the desc does not list is added to that type's
 * values, in every version (where nothing tells, a value is taken to exist rather than be refused).
 * Only the types seen there are kept as enums: a type no completion confirms may leave values out
 * as JsonOptions did, and a value refused wrongly is worse than one not checked.
 */
const extraValues = new Map(); // type -> Set of values
const confirmedTypes = new Set();

/**
 * Parameters whose values no desc lists but the console completes from a fixed set, taken from the
 * same deep-inspect completions (the union over the versions that have them) and applied to every
 * version the parameter exists in. Kept to a few well-known ones, each checked by hand to be a
 * closed set (not names of objects on the CHR the trees come from): the most common typos
 * (action=dorp) are there. `numbers`: a number is accepted too (protocol=139).
 */
const COMPLETION_ENUMS = [
  { path: /^\/(ip|ipv6)\/firewall\/(filter|nat|mangle|raw)\/(add|set)\/action$/ },
  { path: /^\/interface\/bridge\/(filter|nat)\/(add|set)\/action$/ },
  { path: /^\/(ip|ipv6)\/firewall\/(filter|nat|mangle|raw)\/(add|set)\/connection-(nat-)?state$/, list: true },
  { path: /^\/(ip|ipv6)\/firewall\/(filter|nat|mangle|raw)\/(add|set)\/protocol$/, numbers: true },
];
const completed = new Map(); // path with /add/ for /set/ -> Set of values

function completionKey(path) {
  return path.replace(/\/set\/([^/]+)$/, '/add/$1');
}

function readCompletions(tree, path = '') {
  for (const [name, child] of Object.entries(tree)) {
    if (name.startsWith('_') || name === 'desc' || typeof child !== 'object' || child === null) continue;
    if (child._type !== 'arg') {
      readCompletions(child, `${path}/${name}`);
      continue;
    }
    const argPath = `${path}/${name}`;
    if (child._completion && COMPLETION_ENUMS.some((c) => c.path.test(argPath))) {
      const key = completionKey(argPath);
      const set = completed.get(key) ?? completed.set(key, new Set()).get(key);
      for (const [value, c] of Object.entries(child._completion)) if (c.style === 'none') set.add(value);
    }
    const e = parseEnum(child.desc);
    if (!e?.type || !child._completion) continue;
    confirmedTypes.add(e.type);
    for (const [value, c] of Object.entries(child._completion)) {
      if (c.style === 'syntax-meta' || e.values.includes(value)) continue;
      (extraValues.get(e.type) ?? extraValues.set(e.type, new Set()).get(e.type)).add(value);
    }
  }
}

/** Add one version's tree (`which`: 'base' or 'extra') to the union. */
function addTree(node, tree, vi, which) {
  for (const [name, child] of Object.entries(tree)) {
    if (name === '_type' || name === 'desc' || typeof child !== 'object' || child === null) continue;
    const type = child._type;
    if (type === 'dir' || type === 'path') {
      let n = node.menus.get(name);
      if (!n) node.menus.set(name, (n = newNode()));
      n.dir = true;
      mark(n[which], vi);
      addTree(n, child, vi, which);
    } else if (type === 'cmd') {
      let n = node.cmds.get(name);
      if (!n) node.cmds.set(name, (n = newNode()));
      n.cmd = true;
      mark(n[which], vi);
      for (const [argName, arg] of Object.entries(child)) {
        if (argName === '_type' || argName === 'desc' || typeof arg !== 'object' || arg === null) continue;
        let a = n.args.get(argName);
        if (!a) n.args.set(argName, (a = newArg()));
        mark(a[which], vi);
        const e = parseEnum(arg.desc);
        if (e && confirmedTypes.has(e.type)) {
          const values = [...e.values, ...(extraValues.get(e.type) ?? [])];
          const prev = a.enums.get(vi);
          // The extra tree may add values (a package's); keep the union.
          if (prev) for (const v of values) !prev.values.includes(v) && prev.values.push(v);
          else a.enums.set(vi, { list: e.list, values });
        }
      }
    }
  }
}

/** Find a node by path ('/tool/ping'), as a command or a menu. */
function lookup(root, path, kind) {
  const parts = path.split('/').filter(Boolean);
  let n = root;
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    n = last && kind === 'cmd' ? n.cmds.get(parts[i]) : n.menus.get(parts[i]);
    if (!n) return undefined;
  }
  return n;
}

// ---- ranges --------------------------------------------------------------------------------------

/** Sorted unique version indexes -> [from, to, from, to, ...] (inclusive). */
function toRanges(list) {
  const sorted = [...new Set(list)].sort((a, b) => a - b);
  const out = [];
  for (const v of sorted) {
    if (out.length && out[out.length - 1] === v - 1) out[out.length - 1] = v;
    else out.push(v, v);
  }
  return out;
}

function fromRanges(r) {
  const out = [];
  for (let i = 0; i < r.length; i += 2) for (let v = r[i]; v <= r[i + 1]; v++) out.push(v);
  return out;
}

function sameRanges(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function intersect(a, b) {
  const set = new Set(fromRanges(b));
  return toRanges(fromRanges(a).filter((v) => set.has(v)));
}

// ---- output --------------------------------------------------------------------------------------

const packages = new Set();
const unattributed = new Map(); // top path -> count
const enumTable = [];
const enumIndex = new Map();

function packageOf(path) {
  for (const [re, pkg] of PACKAGE_RULES) if (re.test(path)) return pkg;
  return undefined;
}

/** Encode a node; `parent` holds the ranges and package it inherits. */
function encodeNode(node, path, parent) {
  const v = toRanges([...node.base, ...node.extra]);
  const baseSet = new Set(node.base);
  let x = toRanges(node.extra.filter((vi) => !baseSet.has(vi)));
  let pkg = node.pkg ?? parent.pkg;
  if (x.length && !sameRanges(x, intersect(v, parent.x))) {
    const claimed = node.pkg ?? packageOf(path);
    if (claimed) pkg = claimed;
    else {
      // No package known: the entry counts as part of the system.
      const top = path.split('/').slice(0, 3).join('/');
      unattributed.set(top, (unattributed.get(top) ?? 0) + 1);
      x = intersect(v, parent.x);
    }
  }
  const out = {};
  if (!sameRanges(v, parent.v)) out.v = v;
  if (!sameRanges(x, intersect(v, parent.x))) out.x = x;
  if (pkg !== parent.pkg && x.length) {
    packages.add(pkg);
    out.p = pkg;
  } else pkg = parent.pkg;
  if (node.open) out.o = 1;
  if (node.openArgs) out.oa = 1;
  const here = { v, x, pkg };
  if (node.menus.size) out.m = encodeChildren(node.menus, path, here);
  if (node.cmds.size) out.c = encodeChildren(node.cmds, path, here);
  if (node.args.size) {
    out.a = {};
    for (const name of [...node.args.keys()].sort()) out.a[name] = encodeArg(node.args.get(name), `${path}/${name}`, here);
  }
  return out;
}

function encodeChildren(map, path, here) {
  const out = {};
  for (const name of [...map.keys()].sort()) out[name] = encodeNode(map.get(name), `${path}/${name}`, here);
  return out;
}

function encodeArg(arg, path, cmd) {
  const v = toRanges([...arg.base, ...arg.extra]);
  const baseSet = new Set(arg.base);
  let x = toRanges(arg.extra.filter((vi) => !baseSet.has(vi)));
  let pkg = cmd.pkg;
  const inherited = intersect(v, cmd.x);
  if (x.length && !sameRanges(x, inherited)) {
    const claimed = packageOf(path);
    if (claimed) pkg = claimed;
    else x = inherited;
  }
  const out = {};
  if (!sameRanges(v, cmd.v)) out.v = v;
  if (!sameRanges(x, inherited)) out.x = x;
  if (pkg !== cmd.pkg && x.length) {
    packages.add(pkg);
    out.p = pkg;
  }
  if (arg.enums.size) out.e = internEnum(arg.enums);
  else {
    const rule = COMPLETION_ENUMS.find((c) => c.path.test(path));
    const values = rule && completed.get(completionKey(path));
    if (values?.size) out.e = internCompletionEnum(v, rule, values);
  }
  return Object.keys(out).length ? out : 0;
}

function internCompletionEnum(v, rule, values) {
  const entry = [v, rule.list ? 1 : 0, Object.fromEntries([...values].sort().map((value) => [value, 0]))];
  if (rule.numbers) entry.push(1);
  const key = JSON.stringify(entry);
  let i = enumIndex.get(key);
  if (i === undefined) {
    i = enumTable.length;
    enumTable.push(entry);
    enumIndex.set(key, i);
  }
  return i;
}

/** Enums are shared by many parameters (add, set, reset and edit of one menu): kept once. */
function internEnum(enums) {
  const ev = toRanges([...enums.keys()]);
  const list = [...enums.values()].some((e) => e.list) ? 1 : 0;
  const byValue = new Map();
  for (const [vi, e] of enums) for (const value of e.values) (byValue.get(value) ?? byValue.set(value, []).get(value)).push(vi);
  const values = {};
  for (const value of [...byValue.keys()].sort()) {
    const r = toRanges(byValue.get(value));
    values[value] = sameRanges(r, ev) ? 0 : r;
  }
  const entry = [ev, list, values];
  const key = JSON.stringify(entry);
  let i = enumIndex.get(key);
  if (i === undefined) {
    i = enumTable.length;
    enumTable.push(entry);
    enumIndex.set(key, i);
  }
  return i;
}

// ---- main ----------------------------------------------------------------------------------------

function main() {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const out = outIdx >= 0 ? args[outIdx + 1] : 'data/routeros-commands.json';
  const dir = args.find((a, i) => !a.startsWith('--') && (outIdx < 0 || i !== outIdx + 1));
  if (!dir) {
    console.error('usage: node scripts/build-routeros-data.mjs PATH-TO-RESTRAML [--out data/routeros-commands.json]');
    process.exit(2);
  }
  const source = openSource(dir);
  const files = source.list();
  const versions = [...new Set(files.map((p) => p.split('/')[1]))].filter((v) => versionKey(v)).sort(compareVersions);
  // Completions first: they add to the values of every version.
  for (const version of versions) {
    const path = `docs/${version}/deep-inspect.json`;
    let text;
    try {
      text = source.read(path);
    } catch {
      continue; // not published for this version, or too large for the mirror
    }
    const deep = JSON.parse(text);
    if (deep._meta?.completionStats?.argsWithCompletion > 0) readCompletions(deep);
  }
  const root = newNode();
  root.dir = true;
  versions.forEach((version, vi) => {
    mark(root.base, vi);
    for (const which of ['base', 'extra']) {
      const path = which === 'base' ? `docs/${version}/inspect.json` : `docs/${version}/extra/inspect.json`;
      if (!files.includes(path)) continue;
      addTree(root, JSON.parse(source.read(path)), vi, which);
    }
    applyAliases(root, vi);
  });
  for (const h of HARDWARE_MENUS) addHardwareMenu(root, h, versions.length);
  for (const p of HARDWARE_DEPENDENT_MENUS) {
    const n = lookup(root, p, 'menu');
    if (!n) throw new Error(`HARDWARE_DEPENDENT_MENUS: ${p} is not in any tree`);
    n.open = true;
  }
  for (const p of HARDWARE_PARAMETERS) {
    const n = lookup(root, p, 'cmd');
    if (!n) throw new Error(`HARDWARE_PARAMETERS: ${p} is not in any tree`);
    n.openArgs = true;
  }

  const all = [0, versions.length - 1];
  const tree = encodeNode(root, '', { v: all, x: [], pkg: undefined });
  delete tree.v;
  for (const p of OTHER_PACKAGES) packages.add(p);
  const data = {
    format: FORMAT,
    source: `tikoci/restraml@${source.commit}`,
    versions,
    packages: [...packages].filter(Boolean).sort(),
    enums: enumTable,
    tree,
  };
  const json = JSON.stringify(data);
  writeFileSync(out, `${json}\n`);
  writeFileSync(SUMMARY, summary(data));
  console.log(`${out}: ${versions.length} versions (${versions[0]} .. ${versions[versions.length - 1]}), ${(json.length / 1024).toFixed(0)} KiB`);
  console.log(`packages: ${data.packages.join(', ')}; enums: ${enumTable.length}`);
  console.log(`enum types confirmed by completions: ${confirmedTypes.size}; parameters with completed values: ${completed.size}`);
  console.log(`values the descs leave out, from completions: ${[...extraValues].map(([t, v]) => `${t}: ${[...v].join(' ')}`).join('; ')}`);
  if (unattributed.size)
    console.log(`extra-only entries no package rule claims (treated as system): ${[...unattributed].map(([p, n]) => `${p} (${n})`).join(', ')}`);
}

/** What settings validation needs to know without reading the data: kept beside the code that reads it. */
const SUMMARY = 'src/lint/routeros-data-summary.ts';

function summary(data) {
  const list = data.packages.map((p) => `'${p}'`).join(', ');
  return `// Generated by scripts/build-routeros-data.mjs with data/routeros-commands.json: do not edit.
// What settings validation needs to know of the data set without reading it.

/** The oldest and newest RouterOS versions in the data set. */
export const DATA_OLDEST = '${data.versions[0]}';
export const DATA_NEWEST = '${data.versions[data.versions.length - 1]}';

/** Extra packages the \`packages:\` setting may name. */
export const EXTRA_PACKAGES: readonly string[] = [${list}];
`;
}

function applyAliases(root, vi) {
  for (const { path, from } of ALIASES) {
    const src = lookup(root, from, 'cmd');
    const parentPath = path.split('/').slice(0, -1).join('/');
    const parent = parentPath ? lookup(root, parentPath, 'menu') : root;
    const name = path.split('/').pop();
    const present = parent?.cmds.get(name);
    if (!src || !parent || (present && (present.base.includes(vi) || present.extra.includes(vi)))) continue;
    if (!src.base.includes(vi)) continue;
    let n = present;
    if (!n) parent.cmds.set(name, (n = newNode()));
    n.cmd = true;
    mark(n.base, vi);
    for (const [argName, a] of src.args) {
      if (!a.base.includes(vi)) continue;
      let t = n.args.get(argName);
      if (!t) n.args.set(argName, (t = newArg()));
      mark(t.base, vi);
      const e = a.enums.get(vi);
      if (e) t.enums.set(vi, e);
    }
  }
}

function addHardwareMenu(root, { path, package: pkg }, count) {
  const parts = path.split('/').filter(Boolean);
  let n = root;
  for (const part of parts) {
    let c = n.menus.get(part);
    if (!c) {
      n.menus.set(part, (c = newNode()));
      c.dir = true;
    }
    n = c;
  }
  if (n.base.length || n.extra.length) throw new Error(`HARDWARE_MENUS: ${path} is in the trees; remove it from the list`);
  const all = Array.from({ length: count }, (_, i) => i);
  if (pkg) n.extra = all;
  else n.base = all;
  n.pkg = pkg;
  n.open = true;
}

main();
