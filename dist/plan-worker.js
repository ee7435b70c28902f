import { createRequire as __rgoCreateRequire } from 'node:module'; const require = __rgoCreateRequire(import.meta.url);
var __getOwnPropNames = Object.getOwnPropertyNames;
var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
  } catch (e) {
    throw err = [e], e;
  }
};

// src/lint/routeros-version.ts
function parseRouterOsVersion(input) {
  const text = input.trim().replace(/\s*\([^)]*\)$/, "");
  const m = VERSION_PATTERN.exec(text);
  if (!m) return void 0;
  const stage = m[4] === "beta" ? 0 : m[4] === "rc" ? 1 : 2;
  const major = Number(m[1]);
  return { text: text.replace(/^v/, ""), major, key: [major, Number(m[2]), stage, Number(m[5] ?? 0), Number(m[3] ?? 0)] };
}
function compareRouterOsVersions(a, b) {
  for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return a.key[i] - b.key[i];
  return 0;
}
var VERSION_PATTERN;
var init_routeros_version = __esm({
  "src/lint/routeros-version.ts"() {
    "use strict";
    VERSION_PATTERN = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:(beta|rc)(\d+))?$/;
  }
});

// src/core/settings.ts
var FLEET_FILE;
var init_settings = __esm({
  "src/core/settings.ts"() {
    "use strict";
    FLEET_FILE = "routeros-gitops.yaml";
  }
});

// src/workers/plan-worker.ts
import { parentPort, workerData } from "node:worker_threads";

// src/lint/rules.ts
function severityOf(level) {
  return level === "error" ? "error" : "warning";
}
function rule(info) {
  return { ...info, defaultSeverity: severityOf(info.defaultLevel) };
}
function syntax(id, description) {
  return rule({ id, defaultLevel: "error", description, kind: "syntax", configurable: false, acknowledgeable: false });
}
function routeros(id, description) {
  return rule({ id, defaultLevel: "error", description, kind: "routeros", configurable: true, acknowledgeable: true });
}
function lockout(id, description) {
  return rule({ id, defaultLevel: "lockout", description, kind: "lockout", configurable: true, acknowledgeable: true });
}
var RULES = [
  syntax(
    "unbalanced-bracket",
    "A ( [ or { without its closing bracket, a closing bracket without its opener, or a ) ] } that closes the wrong one. RouterOS stops at it; an unmatched } silently ends the script there."
  ),
  syntax("unterminated-string", 'A " that is never closed. Strings may span lines, so the rest of the script would be read as text.'),
  syntax("invalid-escape", 'A \\ in a string not followed by one of " \\ n r t $ ? _ a b f v, two upper-case hex digits, or the end of the line.'),
  syntax("stray-backslash", "A \\ outside a string that is not the last character of its line (only line continuations may use it)."),
  syntax(
    "comment-after-continuation",
    "A # comment after a line continuation \\, on the same line or at the start of the continued line: it is not read as a comment."
  ),
  syntax("line-break-in-brackets", "A line break inside ( ) or [ ] without a \\ continuation; the command ends there and the bracket stays open."),
  rule({
    id: "param-space",
    defaultLevel: "error",
    description: "Whitespace between a parameter name and = (gateway = 1.1.1.1); RouterOS reads separate words and rejects the command. Comparisons inside ( ) and `where` queries are not affected.",
    kind: "syntax",
    configurable: true,
    acknowledgeable: false
  }),
  rule({
    id: "inline-comment",
    defaultLevel: "advice",
    description: "A # after a command on the same line without a ; before it. RouterOS starts comments only where a command starts, so the text is read as part of the command.",
    kind: "notice",
    configurable: true,
    acknowledgeable: false
  }),
  rule({
    id: "continuation-space",
    defaultLevel: "advice",
    description: "Spaces after the \\ that ends a line; RouterOS may not read it as a line continuation.",
    kind: "notice",
    configurable: true,
    acknowledgeable: false
  }),
  rule({
    id: "raw-template-value",
    defaultLevel: "advice",
    description: 'A template value written raw, ${{{ vars.NAME }}}: it is inserted without escaping, so a value holding " or a line break can end a string or add commands. Every use is reported (set it to "error" to refuse raw values).',
    kind: "notice",
    configurable: true,
    acknowledgeable: false,
    alwaysOn: true
  }),
  rule({
    id: "unknown-allow",
    defaultLevel: "advice",
    description: 'A "# routeros-gitops: allow ..." comment naming a rule that does not exist or cannot be acknowledged, so it acknowledges nothing.',
    kind: "notice",
    configurable: true,
    acknowledgeable: false
  }),
  routeros(
    "unknown-menu",
    "A menu path the site's RouterOS version does not have (/ip firewal filter), in either spelling (/ip firewall filter, /ip/firewall/filter), absolute or relative to the menu line before."
  ),
  routeros("unknown-command", "A command the menu does not have in the site's RouterOS version (/ip address ad), or parameters with no command before them."),
  routeros("unknown-parameter", "A parameter the command does not take in the site's RouterOS version (add chain=input acton=drop)."),
  routeros("invalid-value", "A value the parameter's list of values does not hold in the site's RouterOS version."),
  routeros(
    "not-in-version",
    "A menu, command, parameter or value that exists in other RouterOS versions but not in the site's (BGP instance= before 7.20, router-id= from 7.20 on)."
  ),
  routeros(
    "missing-package",
    "A menu, command or parameter of an extra package (container, wireless, iot, ...) that the site's packages setting does not list."
  ),
  routeros("console-paste", "A console prompt ([admin@MikroTik] >) or printed output pasted into the script: RouterOS cannot run it."),
  lockout("reset-configuration", "/system reset-configuration: erases the configuration, management access with it."),
  lockout("shutdown", "/system shutdown: powers the router off; only someone on site can turn it back on."),
  lockout("device-mode", "/system device-mode changes: need a button press or power cycle on the router to complete."),
  lockout("reboot", "/system reboot: drops every connection; a configuration that does not come back up leaves the router out of reach."),
  lockout("backup-load", "/system backup load: replaces the whole configuration and reboots."),
  lockout(
    "package-change",
    "/system package enable, disable, uninstall, downgrade, apply-changes and /system package update install or download: change the software, with a reboot."
  ),
  lockout("ip-service", "Changes to /ip service: can turn off, move or restrict the service the router is managed through."),
  lockout("ssh-settings", "Changes to /ip ssh: can stop existing SSH clients from connecting."),
  lockout(
    "user-change",
    "Changes to /user and /user group entries (set, remove, disable, ...; adding one is not flagged) and removed /user ssh-keys: can lock out the managing account."
  ),
  lockout(
    "input-drop",
    "drop, reject or tarpit rules in the input chain of /ip firewall filter or /ipv6 firewall filter (added, or set on a rule that may be in the input chain); not disabled rules, nor drops of connection-state=invalid."
  ),
  lockout(
    "input-accept-removal",
    "Removing or disabling firewall filter rules (IPv4 or IPv6) that are, or may be, input-chain accept rules, including `remove 3` and finds that do not rule them out."
  ),
  lockout("interface-disable", "Disabling or removing an interface (any /interface type), a bridge port or a WireGuard peer."),
  lockout("address-removal", "Removing, disabling or re-addressing an IPv4 or IPv6 address, or removing or disabling a DHCP client."),
  lockout("route-removal", "Removing, disabling or re-pointing an IPv4 or IPv6 route."),
  lockout("vlan-filtering", "vlan-filtering=yes on a bridge: frames the bridge VLAN table does not allow are dropped at once."),
  lockout("interface-list-member", "Changes to /interface list member, and removed interface lists: the firewall and MAC access rely on them."),
  lockout("scheduler-removal", "Removing or disabling /system scheduler entries, which often hold rollback and watchdog jobs."),
  lockout("script-removal", "Removing /system script entries that schedulers, netwatch or other scripts may run."),
  lockout("remove-find-all", "remove [find] with no condition: removes every entry of the menu, hand-made and default ones included."),
  rule({
    id: "unguarded-add",
    defaultLevel: "advice",
    description: "An add with no guard before it: no remove or find on the same menu earlier in the script, and no :if (or :do ... on-error) around it. Every script is sent again whole on every change, so the add runs again: it makes a second entry, or fails where the menu refuses duplicates. Guard it: remove [find comment=...] then add, or :if ([:len [find ...]] = 0) do={ add ... }.",
    kind: "rerun",
    configurable: true,
    acknowledgeable: true
  }),
  rule({
    id: "abbreviated-name",
    defaultLevel: "advice",
    description: "A menu or command name written as an abbreviation (/ip fire filter): RouterOS completes it while exactly one name starts with it, and a later version that adds another makes the same script fail. Write the full name. Checked against the site's RouterOS version.",
    kind: "routeros",
    configurable: true,
    acknowledgeable: true
  })
];
var BY_ID = new Map(RULES.map((r) => [r.id, r]));
function ruleInfo(id) {
  return BY_ID.get(id);
}
function suggestRule(id, candidates = RULES) {
  let best;
  let bestDistance = Infinity;
  for (const r of candidates) {
    const d = r.id.includes(id) && id.length >= 4 ? 1 : distance(id, r.id);
    if (d < bestDistance) {
      best = r.id;
      bestDistance = d;
    }
  }
  return best !== void 0 && bestDistance <= Math.max(2, Math.floor(id.length / 3)) ? best : void 0;
}
function closestName(name, names) {
  let best;
  let bestDistance = Infinity;
  for (const n of names) {
    const d = distance(name, n);
    if (d < bestDistance) {
      best = n;
      bestDistance = d;
    }
  }
  return best !== void 0 && bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : void 0;
}
function distance(a, b) {
  let prev2 = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length];
}
function levelOfSetting(value) {
  if (value === "warning") return "advice";
  return value === "error" || value === "lockout" || value === "advice" ? value : void 0;
}

// src/lint/routeros-data-summary.ts
var EXTRA_PACKAGES = [
  "calea",
  "container",
  "dude",
  "extra-nic",
  "gps",
  "iot",
  "openflow",
  "rose-storage",
  "switch-marvell",
  "tr069-client",
  "user-manager",
  "wifi-qcom",
  "wifi-qcom-ac",
  "wifi-qcom-be",
  "wifiwave2",
  "wireless",
  "zerotier"
];

// src/core/routeros-target.ts
init_routeros_version();
function targetVersion(t) {
  return t?.routeros ?? t?.reported;
}
var PACKAGES_HINT = `use the names /system package lists: ${EXTRA_PACKAGES.join(", ")}`;

// src/core/check-cache.ts
function cachedChecks(lint, store) {
  const made = /* @__PURE__ */ new WeakMap();
  const settingsOf = (rules, target) => {
    const m = made.get(rules);
    if (m && m.target === target) return m.settings;
    const settings = `${JSON.stringify(Object.entries(rules).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))}|${targetVersion(target) ?? ""}|${target?.packages?.join(",") ?? "*"}`;
    made.set(rules, { target, settings });
    return settings;
  };
  return (text, rules, ctx) => {
    if (!ctx?.key) return lint(text, rules, ctx);
    const settings = settingsOf(rules, ctx.target);
    const hit = store.get(settings, ctx.key);
    if (hit) return hit;
    const findings = lint(text, rules, ctx);
    store.set(settings, ctx.key, findings);
    return findings;
  };
}

// src/core/checks.ts
import { relative, resolve } from "node:path";

// src/lint/command-tree.ts
init_routeros_version();
var ALL = [];
var NONE = [];
var NameIndex = class {
  buckets = /* @__PURE__ */ new Map();
  constructor(entries) {
    for (const e of entries) {
      const key = e.name.length * 128 + (e.name.charCodeAt(0) & 127);
      const list = this.buckets.get(key);
      if (list) list.push(e);
      else this.buckets.set(key, [e]);
    }
  }
  /** The entry named s[from, to) exactly, if any. */
  at(s, from, to) {
    const list = this.buckets.get((to - from) * 128 + (s.charCodeAt(from) & 127));
    if (list === void 0) return void 0;
    next: for (let k = 0; k < list.length; k++) {
      const n = list[k].name;
      for (let i = 1; i < n.length; i++) if (s.charCodeAt(from + i) !== n.charCodeAt(i)) continue next;
      return list[k];
    }
    return void 0;
  }
};
function inRanges(r, vi) {
  for (let i = 0; i < r.length; i += 2) if (vi >= r[i] && vi <= r[i + 1]) return true;
  return false;
}
function intersect(a, b) {
  if (b.length === 0 || a.length === 0) return NONE;
  const out = [];
  for (let i = 0; i < a.length; i += 2)
    for (let j = 0; j < b.length; j += 2) {
      const from = Math.max(a[i], b[j]);
      const to = Math.min(a[i + 1], b[j + 1]);
      if (from <= to) out.push(from, to);
    }
  return out;
}
var TreeNode = class _TreeNode {
  constructor(tree, raw, name, path2, parent) {
    this.tree = tree;
    this.raw = raw;
    this.name = name;
    this.path = path2;
    this.parent = parent;
    this.v = raw.v ?? parent?.v ?? tree.all;
    this.x = raw.x ?? (parent ? intersect(this.v, parent.x) : NONE);
    this.pkg = raw.p ?? parent?.pkg;
    this.open = raw.o === 1 || (parent?.open ?? false);
    this.openArgs = raw.oa === 1;
  }
  tree;
  raw;
  name;
  path;
  parent;
  menuMap;
  cmdMap;
  argMap;
  argIndex;
  childIndex;
  v;
  x;
  pkg;
  /** Exists on hardware only: what is below it is not known, and accepted. */
  open;
  /** Its parameters depend on the hardware: unknown ones are accepted. */
  openArgs;
  /** Menus below, by name. */
  get menus() {
    return this.menuMap ??= this.children(this.raw.m);
  }
  /** Commands of this menu, by name. */
  get commands() {
    return this.cmdMap ??= this.children(this.raw.c);
  }
  /** The parameter, menu or command named s[from, to) (lower case), found in place. */
  argAt(s, from, to) {
    return (this.argIndex ??= new NameIndex(this.args.values())).at(s, from, to);
  }
  /** The menu and the command named s[from, to) (lower case), found in place (one lookup for both). */
  childAt(s, from, to) {
    if (!this.childIndex) {
      const byName = /* @__PURE__ */ new Map();
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
  commandAt(s, from, to) {
    return this.childAt(s, from, to)?.command;
  }
  /** Parameters of this command, by name. */
  get args() {
    if (this.argMap) return this.argMap;
    const map = /* @__PURE__ */ new Map();
    const raw = this.raw.a;
    if (raw)
      for (const name of Object.keys(raw)) {
        const a = raw[name];
        if (a === 0) {
          map.set(name, { name, v: this.v, x: this.x, pkg: this.pkg, enum: void 0 });
          continue;
        }
        const v = a.v ?? this.v;
        map.set(name, { name, v, x: a.x ?? intersect(v, this.x), pkg: a.p ?? this.pkg, enum: a.e === void 0 ? void 0 : this.tree.enumAt(a.e) });
      }
    return this.argMap = map;
  }
  children(raw) {
    const map = /* @__PURE__ */ new Map();
    if (raw) for (const name of Object.keys(raw)) map.set(name, new _TreeNode(this.tree, raw[name], name, `${this.path}/${name}`, this));
    return map;
  }
};
var CommandTree = class {
  versions;
  packages;
  source;
  root;
  /** Every version. */
  all;
  rawEnums;
  enums = /* @__PURE__ */ new Map();
  constructor(data) {
    if (data.format !== 1 || !Array.isArray(data.versions) || !data.tree) throw new Error("the RouterOS command data has an unknown format");
    this.versions = data.versions;
    this.packages = data.packages;
    this.source = data.source;
    this.rawEnums = data.enums;
    this.all = data.versions.length ? [0, data.versions.length - 1] : ALL;
    this.root = new TreeNode(this, data.tree, "", "", null);
  }
  enumAt(i) {
    let e = this.enums.get(i);
    if (!e) {
      const [known, list, raw, numbers] = this.rawEnums[i];
      const values = /* @__PURE__ */ new Map();
      for (const value of Object.keys(raw)) {
        const r = raw[value];
        values.set(value, r === 0 ? known : r);
      }
      e = { known, list: list === 1, numbers: numbers === 1, values, index: new NameIndex([...values].map(([name, v]) => ({ name, v }))) };
      this.enums.set(i, e);
    }
    return e;
  }
  /** The versions in `r`, as people read them: 'from 7.20', 'up to 7.19.6 (removed in 7.20)', '7.12.2 to 7.15'. */
  describe(r) {
    const last = this.versions.length - 1;
    const parts = [];
    for (let i = 0; i < r.length; i += 2) {
      const from = r[i];
      const to = r[i + 1];
      if (from === 0 && to === last) parts.push("in every version");
      else if (to === last) parts.push(`from ${this.versions[from]}`);
      else if (from === 0) parts.push(`up to ${this.versions[to]} (removed in ${this.versions[to + 1]})`);
      else if (from === to) parts.push(`in ${this.versions[from]}`);
      else parts.push(`in ${this.versions[from]} to ${this.versions[to]}`);
    }
    return parts.length ? parts.join(", ") : "in no version";
  }
};
function routerOsTarget(tree, version, packages) {
  const pkgs = packages ? new Set(packages) : void 0;
  const versions = tree.versions;
  const newest = versions.length - 1;
  if (!version) return { target: { tree, index: newest, label: versions[newest], packages: pkgs, assumed: true } };
  if (version.major < 7)
    return { note: `RouterOS ${version.text} is not checked against a command tree: the data set covers ${versions[0]} to ${versions[newest]}` };
  let index = -1;
  for (let i = 0; i < versions.length; i++) {
    const v = parseRouterOsVersion(versions[i]);
    if (compareRouterOsVersions(v, version) <= 0) index = i;
    else break;
  }
  if (index < 0)
    return {
      target: { tree, index: 0, label: version.text, packages: pkgs },
      note: `RouterOS ${version.text} is older than the data set: checked against ${versions[0]}, the oldest version it holds`
    };
  const beyond = index === newest && compareRouterOsVersions(parseRouterOsVersion(versions[newest]), version) < 0;
  const between = !beyond && index < newest && compareRouterOsVersions(parseRouterOsVersion(versions[index]), version) < 0;
  return {
    target: { tree, index, label: version.text, packages: pkgs, ...between ? { also: index + 1 } : {} },
    note: beyond ? `RouterOS ${version.text} is newer than the data set: checked against ${versions[newest]}, the newest version it holds` : void 0
  };
}

// src/lint/acknowledge.ts
var MARK = /routeros-gitops\s*:/i;
var ALLOW = /routeros-gitops\s*:\s*allow\s+([a-z0-9][a-z0-9-]*(?:\s*,\s*[a-z0-9][a-z0-9-]*)*)/i;
var ACKNOWLEDGEABLE = RULES.filter((r) => r.acknowledgeable);
var NONE2 = { file: /* @__PURE__ */ new Set(), covers: () => false, problems: [] };
function readAcknowledgements(comments, statements) {
  if (comments.length === 0) return NONE2;
  const file = /* @__PURE__ */ new Set();
  const byLine = /* @__PURE__ */ new Map();
  const ownLine = /* @__PURE__ */ new Set();
  const problems = [];
  const firstLine = statements[0]?.line ?? Infinity;
  for (const c of comments) {
    if (c.ownLine) ownLine.add(c.line);
    if (!MARK.test(c.text)) continue;
    const m = ALLOW.exec(c.text);
    if (!m) {
      problems.push({
        rule: "unknown-allow",
        line: c.line,
        column: c.column,
        message: 'this routeros-gitops comment is not understood, so it acknowledges nothing. Write "# routeros-gitops: allow <rule>[, <rule>...]".'
      });
      continue;
    }
    const ids = m[1].split(",").map((s) => s.trim().toLowerCase());
    const set = byLine.get(c.line) ?? /* @__PURE__ */ new Set();
    byLine.set(c.line, set);
    for (const id of ids) {
      const info = ruleInfo(id);
      if (info?.acknowledgeable) {
        set.add(id);
        if (c.line < firstLine) file.add(id);
        continue;
      }
      let message;
      if (info) {
        message = `"${id}" cannot be acknowledged: ${info.kind === "syntax" ? "RouterOS cannot run the script as written, so fix the script" : "change its setting in lint.rules instead"}.`;
      } else {
        const guess = suggestRule(id, ACKNOWLEDGEABLE);
        message = `unknown rule "${id}" in this acknowledgement, so it acknowledges nothing${guess ? `; did you mean "${guess}"?` : "."}`;
      }
      problems.push({ rule: "unknown-allow", line: c.line, column: c.column, message });
    }
  }
  const coversOne = (rule2, st, ownLines) => {
    const last = ownLines ? st.endLine : st.line;
    for (let l = st.line; l <= last; l++) if (byLine.get(l)?.has(rule2)) return true;
    for (let l = st.line - 1; ownLine.has(l); l--) if (byLine.get(l)?.has(rule2)) return true;
    return false;
  };
  const covers = (rule2, st, enclosing = []) => file.has(rule2) || coversOne(rule2, st, true) || enclosing.some((e) => coversOne(rule2, e, false));
  return { file, covers, problems };
}

// src/lint/commands.ts
var VERBS = /* @__PURE__ */ new Set([
  "add",
  "set",
  "remove",
  "disable",
  "enable",
  "unset",
  "edit",
  "move",
  "comment",
  "reset",
  "print",
  "export",
  "find",
  "get",
  "reboot",
  "shutdown",
  "reset-configuration",
  "load",
  "save",
  "install",
  "uninstall",
  "upgrade",
  "downgrade",
  "update",
  "download",
  "check-for-updates",
  "apply-changes",
  "cancel",
  "monitor",
  "import",
  "run",
  "flush",
  "send",
  "release",
  "renew",
  "make-static",
  "regenerate-host-key",
  "import-host-key",
  "export-host-key",
  "reset-counters",
  "reset-counters-all",
  "ping",
  "fetch",
  "info",
  "warning",
  "error",
  "debug",
  "quit",
  "redo",
  "undo",
  "generate",
  "sign",
  "format-drive",
  "blink",
  "beep",
  "clear",
  "listen",
  "scan",
  "sniff",
  "torch",
  "traceroute",
  "start",
  "stop",
  "unschedule",
  "schedule"
]);
var LONGEST_VERB = Math.max(...[...VERBS].map((v) => v.length));
var VERBS_BY_START = [];
for (const v of VERBS) (VERBS_BY_START[v.length * 26 + v.charCodeAt(0) - 97] ??= []).push(v);
function verbAt(s, from, to) {
  const length = to - from;
  const letter = s.charCodeAt(from) - 97;
  if (!(letter >= 0 && letter <= 25) || length > LONGEST_VERB) return void 0;
  const bucket = VERBS_BY_START[length * 26 + letter];
  if (bucket === void 0) return void 0;
  next: for (let k = 0; k < bucket.length; k++) {
    const v = bucket[k];
    for (let i = 1; i < length; i++) if (s.charCodeAt(from + i) !== v.charCodeAt(i)) continue next;
    return v;
  }
  return void 0;
}
var MENUS_NAMED_LIKE_VERBS = /* @__PURE__ */ new Set(["/system/package/update", "/system/upgrade"]);
var AMBIGUOUS = /* @__PURE__ */ new Set(["update", "upgrade"]);
var W = { s: "", b: 0, e: 0 };
function view(a) {
  if (a.plain) {
    W.s = a.source;
    W.b = a.start;
    W.e = a.end;
  } else {
    const t = a.text;
    W.s = t;
    W.b = 0;
    W.e = t.length;
  }
}
function viewHas(c, d = c) {
  const s = W.s;
  const e = W.e;
  for (let i = W.b; i < e; i++) {
    const x = s.charCodeAt(i);
    if (x === c || x === d) return true;
  }
  return false;
}
function startsCommand(c) {
  const l = c | 32;
  return c === 47 || c === 46 || c >= 48 && c <= 57 || l >= 97 && l <= 122;
}
var Command = class {
  constructor(path2, verb, args, from, statement) {
    this.path = path2;
    this.verb = verb;
    this.args = args;
    this.from = from;
    this.statement = statement;
  }
  path;
  verb;
  args;
  from;
  statement;
  parsed;
  target;
  /** The words after the verb. */
  get rest() {
    return this.args.slice(this.from);
  }
  /** Named parameters by lower-case name (`!` kept: `chain!` for `chain!=input`). */
  get params() {
    return (this.parsed ??= readParams(this.args, this.from)).params;
  }
  /** Words after the verb that are not name=value. */
  get unnamed() {
    return (this.parsed ??= readParams(this.args, this.from)).unnamed;
  }
  /** What `numbers` (or the first unnamed word) points at. */
  get targets() {
    return this.target ??= targetOf(this);
  }
  /** `params.get(name)`, without reading every parameter. `name` must be a lower-case parameter name. */
  param(name) {
    if (this.parsed) return this.parsed.params.get(name);
    const k = lastParam(this.args, this.from, name);
    return k < 0 ? void 0 : paramAt(this.args, k, name.length);
  }
  /** `params.has(name)`, without reading every parameter. `name` must be a lower-case parameter name. */
  hasParam(name) {
    if (this.parsed) return this.parsed.params.has(name);
    return lastParam(this.args, this.from, name) >= 0;
  }
};
function showPath(path2) {
  return path2 ? `/${path2.slice(1).split("/").join(" ")}` : "the top menu";
}
var Menu = class _Menu {
  constructor(path2, name, parent) {
    this.path = path2;
    this.name = name;
    this.parent = parent;
  }
  path;
  name;
  parent;
  /** The menus below, by name: in a list while there are few (searched in place, see childAt), then in a map. */
  list;
  map;
  /** The menu one level down, by lower-case menu word. */
  child(word) {
    return this.childAt(word, 0, word.length) ?? this.add(word);
  }
  /** The menu one level down named s[from, to) (a lower-case menu word), if it was seen before. */
  childAt(s, from, to) {
    if (this.map) return this.map.get(s.slice(from, to));
    const list = this.list;
    if (list === void 0) return void 0;
    const length = to - from;
    next: for (let k = 0; k < list.length; k++) {
      const name = list[k].name;
      if (name.length !== length) continue;
      for (let i = 0; i < length; i++) if (s.charCodeAt(from + i) !== name.charCodeAt(i)) continue next;
      return list[k];
    }
    return void 0;
  }
  /** A new menu one level down (childAt found none). */
  add(word) {
    const c = new _Menu(`${this.path}/${word}`, word, this);
    if (menus < MENU_LIMIT) {
      menus++;
      if (this.map) this.map.set(word, c);
      else if ((this.list ??= []).push(c) > 16) this.map = new Map(this.list.map((m) => [m.name, m]));
    }
    return c;
  }
  /** The menu one level up (the top stays the top). */
  up() {
    return this.parent ?? this;
  }
};
var menus = 0;
var MENU_LIMIT = 1e4;
var TOP = new Menu("", "", null);
var OTHER = 0;
var NAVIGATE = 1;
var COMMAND = 2;
var resolved = { menu: TOP, verb: "", from: 0 };
function resolveStatement(st, current) {
  const args = st.args;
  const first = args[0];
  if (!first) return OTHER;
  view(first);
  if (first.groups.length === 0) {
    const v = verbAt(W.s, W.b, W.e);
    if (v !== void 0 && !AMBIGUOUS.has(v)) return command(current, v, 1);
  }
  if (W.e === W.b || !startsCommand(W.s.charCodeAt(W.b))) return OTHER;
  const firstIsPath = W.s.charCodeAt(W.b) === 47;
  let menu = current;
  let verb;
  let k = 0;
  let stopped = false;
  outer: for (; k < args.length; k++) {
    const a = args[k];
    if (k > 0) view(a);
    if (a.groups.length || viewHas(
      61,
      34
      /* " */
    )) {
      stopped = true;
      break;
    }
    const t = W.s;
    const len = W.e;
    if (len > W.b && t.charCodeAt(W.b) === 47) menu = TOP;
    for (let from = W.b, s = 0; from <= len; s++) {
      const segFrom = from;
      readSegment(t, segFrom, len);
      const to = SEG.to;
      from = to + 1;
      if (to === segFrom) continue;
      if (to - segFrom === 2 && t.charCodeAt(segFrom) === 46 && t.charCodeAt(segFrom + 1) === 46) {
        menu = menu.up();
        continue;
      }
      const word = SEG.word;
      if (word === 0) {
        if (s > 0) return OTHER;
        stopped = true;
        break outer;
      }
      let lower;
      if (word === 1) {
        lower = verbAt(t, segFrom, to);
      } else {
        lower = t.slice(segFrom, to).toLowerCase();
        if (!VERBS.has(lower)) {
          menu = menu.child(lower);
          continue;
        }
      }
      if (lower !== void 0 && !(AMBIGUOUS.has(lower) && MENUS_NAMED_LIKE_VERBS.has(`${menu.path}/${lower}`))) {
        verb = lower;
        k++;
        break outer;
      }
      menu = lower !== void 0 ? menu.child(lower) : menu.childAt(t, segFrom, to) ?? menu.add(t.slice(segFrom, to));
    }
  }
  if (verb) return command(menu, verb, k);
  if (!stopped) {
    resolved.menu = menu;
    return NAVIGATE;
  }
  if (menu === TOP || k === 0 && !firstIsPath) return OTHER;
  return command(menu.up(), menu.name, k);
}
function command(menu, verb, from) {
  resolved.menu = menu;
  resolved.verb = verb;
  resolved.from = from;
  return COMMAND;
}
var SEG = { to: 0, word: 0 };
function readSegment(t, from, end) {
  let to = from;
  let letter = false;
  let upper = false;
  let valid = true;
  for (; to < end; to++) {
    const c = t.charCodeAt(to);
    if (c === 47) break;
    const l = c | 32;
    if (l >= 97 && l <= 122) {
      letter = true;
      if (c < 97) upper = true;
    } else if (!(l >= 48 && l <= 57 || l === 45 && to > from)) valid = false;
  }
  SEG.to = to;
  SEG.word = valid && letter ? upper ? 2 : 1 : 0;
}
var PARAM_NAME = /^[A-Za-z][\w.-]*!?$/;
function lastParam(args, from, name) {
  const n = name.length;
  for (let k = args.length - 1; k >= from; k--) {
    view(args[k]);
    const s = W.s;
    const b = W.b;
    if (W.e - b <= n || s.charCodeAt(b + n) !== 61) continue;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(b + i);
      const w = name.charCodeAt(i);
      if (c !== w && !(c >= 65 && c <= 90 && c + 32 === w)) break;
    }
    if (i === n) return k;
  }
  return -1;
}
var paramWords = 1;
function paramAt(args, k, eq) {
  const a = args[k];
  view(a);
  let raw = W.e - W.b === eq + 1 ? "" : W.s.slice(W.b + eq + 1, W.e);
  let arg = a;
  paramWords = 1;
  if (raw === "" && k + 1 < args.length) {
    view(args[k + 1]);
    if (!viewHas(
      61
      /* = */
    )) {
      arg = args[k + 1];
      raw = arg.text;
      paramWords = 2;
    }
  }
  let value = raw;
  let dynamic;
  if (raw.length >= 2 && raw.charCodeAt(0) === 34 && raw.charCodeAt(raw.length - 1) === 34) {
    value = raw.slice(1, -1);
    dynamic = value.includes("$") && /(^|[^\\])\$[\w("[{]/.test(value);
    if (value.includes("\\")) value = value.replace(/\\(["\\$?_])/g, (_, c) => c === "_" ? " " : c);
  } else {
    dynamic = false;
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c === 36 || c === 91 || c === 40) {
        dynamic = true;
        break;
      }
    }
  }
  return { value, dynamic, arg };
}
function readParams(rest, from = 0) {
  const params = /* @__PURE__ */ new Map();
  const unnamed = [];
  for (let k = from; k < rest.length; ) {
    const a = rest[k];
    const eq = a.text.indexOf("=");
    const name = eq > 0 ? a.text.slice(0, eq) : "";
    if (!name || !PARAM_NAME.test(name)) {
      unnamed.push(a);
      k++;
      continue;
    }
    params.set(name.toLowerCase(), paramAt(rest, k, eq));
    k += paramWords;
  }
  return { params, unnamed };
}
function findInGroup(group) {
  if (group.open !== "[" || group.statements.length !== 1) return void 0;
  const st = group.statements[0];
  if (resolveStatement(st, TOP) !== COMMAND || resolved.verb !== "find") return void 0;
  const { params, unnamed } = readParams(st.args, resolved.from);
  const conditions = unnamed.filter((a) => a.text !== "where");
  return { filters: new Map(params), empty: params.size === 0 && conditions.length === 0 };
}
function targetOf(cmd) {
  const numbers = cmd.params.get("numbers");
  const arg = numbers?.arg ?? cmd.unnamed[0];
  if (!arg) return { kind: "none" };
  const text = numbers ? numbers.value : arg.text;
  if (arg.groups.length) {
    if (arg.groups.length === 1 && text.startsWith("[") && text.endsWith("]")) {
      const f = findInGroup(arg.groups[0]);
      if (f) return { kind: "find", ...f };
    }
    return { kind: "unknown" };
  }
  if (/^[*\d][*0-9A-F]*(,\*?[0-9A-F]+)*$/i.test(text)) return { kind: "ids" };
  if (/^[$(]/.test(text)) return { kind: "unknown" };
  return { kind: "name", value: text.replace(/^"|"$/g, "") };
}
function walkCommands(statements, visit, base = TOP, enclosing = []) {
  let current = base;
  for (let s = 0; s < statements.length; s++) {
    const st = statements[s];
    let menu = current;
    const kind = resolveStatement(st, current);
    if (kind === NAVIGATE) {
      current = resolved.menu;
      continue;
    }
    if (kind === COMMAND) {
      menu = resolved.menu;
      visit(menu, resolved.verb, resolved.from, st, enclosing);
    }
    let inner;
    const args = st.args;
    for (let k = 0; k < args.length; k++) {
      const groups = args[k].groups;
      for (let g = 0; g < groups.length; g++) {
        const group = groups[g];
        if (!inner) {
          const list = enclosing.slice();
          list.push(st);
          inner = list;
        }
        walkCommands(group.statements, visit, group.open === "{" ? current : menu, inner);
      }
    }
  }
}

// src/lint/lockout.ts
var CHANGE = /* @__PURE__ */ new Set(["add", "set", "remove", "disable", "enable", "unset", "edit", "reset"]);
var READ_ONLY = /* @__PURE__ */ new Set(["print", "get", "export", "find", "monitor"]);
var DROPS = /* @__PURE__ */ new Set(["drop", "reject", "tarpit"]);
var FILTER_MENUS = { "/ip/firewall/filter": "IPv4", "/ipv6/firewall/filter": "IPv6" };
function filterFamily(path2) {
  return path2 === "/ip/firewall/filter" ? "IPv4" : path2 === "/ipv6/firewall/filter" ? "IPv6" : void 0;
}
function param(cmd, name) {
  const p = cmd.param(name);
  return p && !p.dynamic ? p.value : void 0;
}
function isYes(v) {
  return v === "yes" || v === "true";
}
function takesOut(cmd) {
  if (cmd.verb === "remove") return "removes";
  if (cmd.verb === "disable" || cmd.verb === "set" && isYes(param(cmd, "disabled"))) return "disables";
  return void 0;
}
function filterValue(t, name) {
  if (t.kind !== "find") return void 0;
  const p = t.filters.get(name);
  return p && !p.dynamic ? p.value : void 0;
}
var UNMANAGED_SERVICES = /* @__PURE__ */ new Set(["telnet", "ftp"]);
function disablesOnly(cmd) {
  if (cmd.verb === "disable") return cmd.params.size === 0 || cmd.params.size === 1 && cmd.params.has("numbers");
  if (cmd.verb !== "set" || !isYes(param(cmd, "disabled"))) return false;
  return [...cmd.params.keys()].every((k) => k === "disabled" || k === "numbers");
}
function serviceNames(t) {
  if (t.kind === "name") return t.value.split(",");
  return [filterValue(t, "name") ?? ""];
}
function described(t) {
  return t.kind === "name" ? ` (${t.value})` : "";
}
var ANY_BUT_READ_ONLY = (verb) => !READ_ONLY.has(verb);
var only = (...verbs) => new Set(verbs);
var TAKES_OUT = only("remove", "disable", "set");
var ADD_OR_SET = only("add", "set");
var isInterfaceMenu = (path2) => {
  const seg = path2.split("/");
  return path2 === "/interface" || seg.length === 3 && seg[1] === "interface" && seg[2] !== "list" || path2 === "/interface/bridge/port" || path2 === "/interface/wireguard/peers";
};
var FILTERS = Object.keys(FILTER_MENUS);
var CHECKS = [
  [
    "reset-configuration",
    ["/system"],
    only("reset-configuration"),
    (c) => c.path === "/system" && c.verb === "reset-configuration" ? "/system reset-configuration erases the whole configuration, including the addresses, users and firewall rules used to reach the router: it will not come back reachable over the network." : void 0
  ],
  [
    "shutdown",
    ["/system"],
    only("shutdown"),
    (c) => c.path === "/system" && c.verb === "shutdown" ? "/system shutdown powers the router off: nothing brings it back but someone at the power switch." : void 0
  ],
  [
    "device-mode",
    ["/system/device-mode"],
    ANY_BUT_READ_ONLY,
    (c) => c.path === "/system/device-mode" && !READ_ONLY.has(c.verb) ? "a /system device-mode change waits for someone to press the button on the router or cut its power to confirm it; it cannot be completed remotely, and the router may reboot." : void 0
  ],
  [
    "reboot",
    ["/system"],
    only("reboot"),
    (c) => c.path === "/system" && c.verb === "reboot" ? "/system reboot drops every connection, including the one the router is managed through; if anything keeps it from coming back up with a working path, it stays out of reach." : void 0
  ],
  [
    "backup-load",
    ["/system/backup"],
    only("load"),
    (c) => c.path === "/system/backup" && c.verb === "load" ? "loading a backup replaces the whole configuration and reboots the router; if the backup does not hold today's management access (addresses, users, firewall), the router comes back unreachable." : void 0
  ],
  [
    "package-change",
    ["/system/package", "/system/package/update"],
    only("enable", "disable", "uninstall", "downgrade", "apply-changes", "unschedule", "install", "download"),
    (c) => {
      const pkg = c.path === "/system/package" && ["enable", "disable", "uninstall", "downgrade", "apply-changes", "unschedule"].includes(c.verb);
      const update = c.path === "/system/package/update" && (c.verb === "install" || c.verb === "download");
      if (!pkg && !update) return void 0;
      return `/system package ${c.path.endsWith("update") ? "update " : ""}${c.verb} changes the installed software: the change applies on reboot (install, downgrade and apply-changes reboot at once), and a removed or disabled package takes its features with it, possibly the ones the router is managed through.`;
    }
  ],
  [
    "ip-service",
    ["/ip/service"],
    CHANGE,
    (c) => {
      if (c.path !== "/ip/service" || !CHANGE.has(c.verb)) return void 0;
      const t = c.targets;
      if (disablesOnly(c) && serviceNames(t).every((s) => UNMANAGED_SERVICES.has(s))) return void 0;
      return `changing /ip service${described(t)} can turn off or move the service the router is managed through (ssh, winbox, api, www) or limit the addresses it answers; if that is the way in, the router becomes unreachable.`;
    }
  ],
  [
    "ssh-settings",
    ["/ip/ssh"],
    ANY_BUT_READ_ONLY,
    (c) => c.path === "/ip/ssh" && !READ_ONLY.has(c.verb) ? "changing /ip ssh (ciphers, strong-crypto, the host key, forwarding) can stop existing SSH clients and automation from connecting." : void 0
  ],
  [
    "user-change",
    ["/user", "/user/group", "/user/ssh-keys"],
    CHANGE,
    (c) => {
      const users = (c.path === "/user" || c.path === "/user/group") && CHANGE.has(c.verb) && c.verb !== "add";
      const keys = c.path === "/user/ssh-keys" && c.verb === "remove";
      if (!users && !keys) return void 0;
      return `changing ${showPath(c.path)}${described(c.targets)} can remove or weaken the account the router is managed with (its password, group, policies or allowed addresses, or its SSH key), so logins fail.`;
    }
  ],
  [
    "input-drop",
    FILTERS,
    ADD_OR_SET,
    (c) => {
      const family = filterFamily(c.path);
      if (!family) return void 0;
      if (c.verb === "add" && param(c, "chain") !== "input") return void 0;
      const action = param(c, "action");
      if (!action || !DROPS.has(action) || isYes(param(c, "disabled"))) return void 0;
      if (c.verb === "add") {
        if (param(c, "connection-state") === "invalid") return void 0;
      } else if (c.verb === "set") {
        const chain = param(c, "chain") ?? filterValue(c.targets, "chain");
        if (chain !== void 0 && chain !== "input") return void 0;
      } else {
        return void 0;
      }
      return `an ${family} input-chain ${action} rule can block the connection the router is managed through (ssh, winbox, api, the management tunnel), and it applies the moment the line runs. Make sure an accept rule for the management path comes before it.`;
    }
  ],
  [
    "input-accept-removal",
    FILTERS,
    TAKES_OUT,
    (c) => {
      const family = filterFamily(c.path);
      const how = family ? takesOut(c) : void 0;
      if (!how) return void 0;
      const t = c.targets;
      if (t.kind === "none") return void 0;
      const chain = filterValue(t, "chain");
      const action = filterValue(t, "action");
      if (chain !== void 0 && chain !== "input" || action !== void 0 && action !== "accept") return void 0;
      if (t.kind === "find" && chain === "input" && action === "accept") {
        return `this ${how === "removes" ? "removes" : "disables"} ${family} input accept rules; the rule that lets the management connection in may be among them, and the drop rule after it would then cut the router off.`;
      }
      const which = t.kind === "ids" ? "rule numbers shift as rules are added and removed, so nothing tells which rules these numbers are" : "nothing in the command says these are not input accept rules";
      return `this ${how} ${family} firewall filter rules and ${which}: if the rule that lets the management connection in is among them, the router is cut off. Select the rules by chain=, action= and comment= instead.`;
    }
  ],
  [
    "interface-disable",
    isInterfaceMenu,
    TAKES_OUT,
    (c) => {
      const how = takesOut(c);
      if (!how) return void 0;
      const what = c.path === "/interface/bridge/port" ? "a bridge port" : c.path === "/interface/wireguard/peers" ? "a WireGuard peer" : "an interface";
      return `this ${how} ${what}${described(c.targets)}: every connection through it drops, and if the router is managed through it (or through a bridge, VLAN or tunnel on top of it), the router becomes unreachable.`;
    }
  ],
  [
    "address-removal",
    ["/ip/address", "/ipv6/address", "/ip/dhcp-client", "/ipv6/dhcp-client"],
    TAKES_OUT,
    (c) => {
      const isAddress = c.path === "/ip/address" || c.path === "/ipv6/address";
      const isClient = c.path === "/ip/dhcp-client" || c.path === "/ipv6/dhcp-client";
      if (!isAddress && !isClient) return void 0;
      const how = takesOut(c) ?? (isAddress && c.verb === "set" && (c.hasParam("address") || c.hasParam("interface")) ? "changes" : void 0);
      if (!how) return void 0;
      const what = isClient ? "a DHCP client (and with it the address it got)" : "an IP address";
      return `this ${how} ${what}: if the router is managed on that address, the connection drops and does not come back.`;
    }
  ],
  [
    "route-removal",
    ["/ip/route", "/ipv6/route"],
    TAKES_OUT,
    (c) => {
      if (c.path !== "/ip/route" && c.path !== "/ipv6/route") return void 0;
      const how = takesOut(c) ?? (c.verb === "set" && (c.hasParam("gateway") || c.hasParam("dst-address")) ? "changes" : void 0);
      if (!how) return void 0;
      return `this ${how} a route; if it is the one (often the default route) that carries traffic back to whoever manages the router, the router becomes unreachable.`;
    }
  ],
  [
    "vlan-filtering",
    ["/interface/bridge"],
    ADD_OR_SET,
    (c) => c.path === "/interface/bridge" && (c.verb === "add" || c.verb === "set") && isYes(param(c, "vlan-filtering")) ? "vlan-filtering=yes makes the bridge drop every frame that its /interface bridge vlan entries do not allow, at once; unless the management VLAN (and the bridge itself, as a tagged member) are set up there first, management access is lost." : void 0
  ],
  [
    "interface-list-member",
    ["/interface/list", "/interface/list/member"],
    CHANGE,
    (c) => c.path === "/interface/list/member" && CHANGE.has(c.verb) || c.path === "/interface/list" && c.verb === "remove" ? "interface lists decide what the firewall lets in (the default firewall drops input not coming from LAN) and where MAC access and neighbor discovery work; changing them can put the management interface on the wrong side." : void 0
  ],
  [
    "scheduler-removal",
    ["/system/scheduler"],
    TAKES_OUT,
    (c) => {
      const how = c.path === "/system/scheduler" ? takesOut(c) : void 0;
      return how ? `this ${how} a scheduler entry${described(c.targets)}; schedulers often hold the safety nets (a timed rollback, a watchdog, the job that keeps the router in touch), and the router would run on without them.` : void 0;
    }
  ],
  [
    "script-removal",
    ["/system/script"],
    only("remove"),
    (c) => c.path === "/system/script" && c.verb === "remove" ? `this removes a script${described(c.targets)}; schedulers, netwatch and other scripts that run it (rollback and watchdog jobs among them) then fail without a word.` : void 0
  ],
  [
    "remove-find-all",
    () => true,
    only("remove"),
    (c) => {
      if (c.verb !== "remove") return void 0;
      const t = c.targets;
      return t.kind === "find" && t.empty ? `remove [find] with no condition removes every entry in ${showPath(c.path)}, including the ones made by hand or by the default configuration. Add a condition (for example comment="managed by routeros-gitops") so it removes only what this script manages.` : void 0;
    }
  ]
];
var NONE3 = [];
var byMenu = /* @__PURE__ */ new Map();
var BY_MENU_LIMIT = 1e4;
var cached = 0;
function checksFor(menu, verb) {
  let verbs = byMenu.get(menu);
  let list = verbs?.get(verb);
  if (list) return list;
  const path2 = menu.path;
  const found = CHECKS.filter(
    ([, menus2, verbs2]) => (typeof menus2 === "function" ? menus2(path2) : menus2.includes(path2)) && (typeof verbs2 === "function" ? verbs2(verb) : verbs2.has(verb))
  ).map(([id, , , check]) => [id, check]);
  list = found.length ? found : NONE3;
  if (cached < BY_MENU_LIMIT) {
    if (!verbs) byMenu.set(menu, verbs = /* @__PURE__ */ new Map());
    verbs.set(verb, list);
    cached++;
  }
  return list;
}
function findLockouts(statements, off = /* @__PURE__ */ new Set()) {
  const hits = [];
  walkCommands(statements, (menu, verb, from, statement, enclosing) => {
    const checks = checksFor(menu, verb);
    if (checks.length === 0) return;
    const cmd = new Command(menu.path, verb, statement.args, from, statement);
    for (const [rule2, check] of checks) {
      if (off.size && off.has(rule2)) continue;
      const message = check(cmd);
      if (message) hits.push({ rule: rule2, message, statement, enclosing });
    }
  });
  return hits;
}

// src/lint/rerun.ts
function scripting(st, name) {
  const first = st.args[0];
  return first !== void 0 && first.groups.length === 0 && first.text.toLowerCase() === name;
}
function guards(st) {
  if (scripting(st, ":if") || scripting(st, ":onerror")) return true;
  return scripting(st, ":do") && st.args.some((a) => a.text.toLowerCase().startsWith("on-error="));
}
function feedsLogic(enclosing) {
  const inner = enclosing[enclosing.length - 1];
  return inner !== void 0 && inner.args[0]?.text.startsWith(":") === true;
}
function findUnguardedAdds(statements, covered = () => false) {
  const guarded = /* @__PURE__ */ new Set();
  const byMenu2 = /* @__PURE__ */ new Map();
  walkCommands(statements, (menu, verb, _from, statement, enclosing) => {
    const path2 = menu.path;
    if (verb === "remove" || verb === "find" && feedsLogic(enclosing)) {
      guarded.add(path2);
      return;
    }
    if (verb !== "add" || guarded.has(path2) || enclosing.some(guards) || covered(statement, enclosing)) return;
    const seen = byMenu2.get(path2);
    if (seen) seen.lines.push(statement.line);
    else byMenu2.set(path2, { statement, enclosing, lines: [statement.line] });
  });
  return [...byMenu2].map(([path2, { statement, enclosing, lines }]) => ({
    rule: "unguarded-add",
    statement,
    enclosing,
    message: `${lines.length > 1 ? `${lines.length} adds to ${showPath(path2)} (lines ${lines[0]}-${lines[lines.length - 1]}) have` : `this add to ${showPath(path2)} has`} no guard: every change sends the whole script again, and each run adds ${lines.length > 1 ? "them" : "it"} again (a second entry, or an error where the menu refuses duplicates). Remove what this script owns first (${showPath(path2)} remove [find comment="..."]), or add only what is missing (:if ([:len [find ...]] = 0) do={ add ... }); if the menu is meant to grow, acknowledge it with "# routeros-gitops: allow unguarded-add".`
  }));
}

// src/lint/routeros-check.ts
function checkCommands(statements, target, off) {
  const checker = new Checker(target, off);
  checker.walk(statements, target.tree.root, [], ROOT);
  return checker.hits;
}
var ROOT = 0;
var BLOCK = 1;
var EXPRESSION = 2;
var DATA = 3;
var PARENS = 4;
var CODE_PARAMS = /* @__PURE__ */ new Set(["do=", "else=", "on-error=", "command="]);
var OTHER2 = 0;
var NAVIGATE2 = 1;
var COMMAND2 = 2;
var BLOCK_IN = 3;
var PROMPT = /^\[[^\]\s@]+@[^\]\r\n]*\]\s*(\/[^>\r\n]*)?(<SAFE>|>)/;
var OUTPUT_LABEL = /^[A-Za-z][\w-]*:$/;
function startsCommand2(c) {
  const l = c | 32;
  return c === 47 || c === 46 || c >= 48 && c <= 57 || l >= 97 && l <= 122;
}
function isCode(st, a, context) {
  if (context !== ROOT && context !== BLOCK && st.args[0]?.text.charCodeAt(0) !== 58) return false;
  const t = a.text;
  const brace = t.indexOf("{");
  if (brace === 0) return true;
  const prefix = t.slice(0, brace).toLowerCase();
  return CODE_PARAMS.has(prefix) || prefix === "in=" && st.args[0]?.text === ":onerror";
}
function nameShape(t, start2, end) {
  let c = t.charCodeAt(start2);
  const l = c | 32;
  if (!(l >= 97 && l <= 122) || end <= start2) return -1;
  let flags = c < 97 ? 1 : 0;
  for (let i = start2 + 1; i < end; i++) {
    c = t.charCodeAt(i);
    if (c >= 97 && c <= 122) continue;
    if (c >= 48 && c <= 57 || c === 45 || c === 95) continue;
    if (c >= 65 && c <= 90) flags |= 1;
    else if (c === 46) flags |= 2;
    else if (c === 33 && i === end - 1) flags |= 4;
    else return -1;
  }
  return flags;
}
var PARAM = { eq: 0 };
function scanParam(s, b, e) {
  let c = s.charCodeAt(b);
  let shape = 0;
  if (c !== 46 && !((c | 32) >= 97 && (c | 32) <= 122)) return -1;
  if (c >= 65 && c <= 90) shape = 1;
  let eq = b + 1;
  for (; eq < e; eq++) {
    c = s.charCodeAt(eq);
    if (c === 61) break;
    if (c >= 97 && c <= 122 || c >= 48 && c <= 57 || c === 45 || c === 95) continue;
    if (c >= 65 && c <= 90) shape |= 1;
    else if (c === 46) shape |= 2;
    else if (c === 33 && s.charCodeAt(eq + 1) === 61) shape |= 4;
    else return -1;
  }
  PARAM.eq = eq;
  return eq < e ? shape : -1;
}
function startsWithParam(t) {
  return startsWithParamAt(t, 0, t.length);
}
function startsWithParamAt(s, from, to) {
  let eq = from;
  while (eq < to && s.charCodeAt(eq) !== 61) eq++;
  return eq > from && eq < to && nameShape(s, from, eq) >= 0 && s.charCodeAt(eq - 1) !== 33;
}
function hasArgChars(s, from, to) {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 61 || c === 34 || c === 36) return true;
  }
  return false;
}
function isDigits(t) {
  if (t.length === 0) return false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
function segmentShape(t, from, to) {
  let letter = false;
  let flags = 0;
  for (let i = from; i < to; i++) {
    const c = t.charCodeAt(i);
    if (c >= 97 && c <= 122) letter = true;
    else if (c >= 65 && c <= 90) {
      letter = true;
      flags = 1;
    } else if (c >= 48 && c <= 57) continue;
    else if ((c === 45 || c === 95 || c === 46) && i > from) continue;
    else return -1;
  }
  return letter ? flags : -1;
}
function isDynamic(raw) {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 36 || c === 91 || c === 40 || c === 123) return true;
  }
  return false;
}
function ownerOf(cmd, scripting2) {
  return scripting2 ? `:${cmd.name}` : cmd.parent.path ? `${show(cmd.parent.path)} ${cmd.name}` : `/${cmd.name}`;
}
function show(path2) {
  return path2 ? `/${path2.slice(1).split("/").join(" ")}` : "/";
}
var Checker = class {
  constructor(target, off) {
    this.target = target;
    this.off = off;
    this.vi = target.index;
  }
  target;
  off;
  hits = [];
  vi;
  /** Consecutive statements of pasted console text: one finding for them all. */
  pasteRun = false;
  pasteLine = 0;
  /** A version or package finding was made in this statement: not one per word under it. */
  reportedAvailability = false;
  statement;
  enclosing = [];
  /** Whether what `r` holds exists in the site's version (or, for a version between two of the data set, in either). */
  at(r) {
    return inRanges(r, this.vi) || this.target.also !== void 0 && inRanges(r, this.target.also);
  }
  walk(statements, base, enclosing, context) {
    let current = base;
    for (let s = 0; s < statements.length; s++) {
      const st = statements[s];
      this.statement = st;
      this.enclosing = enclosing;
      this.reportedAvailability = false;
      if (context === ROOT && this.pasted(st)) continue;
      this.pasteRun = false;
      let menu = current;
      const r = this.resolve(st, current, context);
      if (r.kind === NAVIGATE2) {
        current = r.node;
        continue;
      }
      let blockMenu = current;
      let blockAfterMenu = false;
      if (r.kind === COMMAND2) {
        menu = r.menu;
        this.checkArgs(r.node, st, r.from, r.scripting);
      } else if (r.kind === BLOCK_IN) {
        blockMenu = r.node;
        blockAfterMenu = true;
      }
      let inner;
      const args = st.args;
      for (let k = 0; k < args.length; k++) {
        const a = args[k];
        const groups = a.groups;
        for (let j = 0; j < groups.length; j++) {
          const g = groups[j];
          inner ??= [...enclosing, st];
          if (g.open === "{") this.walk(g.statements, blockMenu, inner, blockAfterMenu || !g.array && isCode(st, a, context) ? BLOCK : DATA);
          else this.walk(g.statements, menu, inner, g.open === "[" ? EXPRESSION : PARENS);
        }
      }
      this.pasteRun = false;
    }
  }
  // ---- pasted console text -----------------------------------------------------------------------
  /** Is the statement a console prompt or printed output? Reports the first of a run of them. */
  pasted(st) {
    if (this.pasteRun && st.line <= this.pasteLine) return true;
    const first = st.args[0];
    if (!first) return false;
    const src = first.plain ? first.source : first.text;
    const b = first.plain ? first.start : 0;
    const e = first.plain ? first.end : src.length;
    const c0 = src.charCodeAt(b);
    if (c0 !== 91 && !(c0 >= 48 && c0 <= 57) && src.charCodeAt(e - 1) !== 58 && !this.pasteRun) return false;
    const t = first.text;
    let what;
    if (c0 === 91 && PROMPT.test(first.source.slice(first.start, lineEnd(first.source, first.start)))) {
      what = "this is a console prompt (`[user@router] >`) pasted into the script: RouterOS cannot run it. Keep only the commands, without the prompt and the output printed after them.";
    } else if (isDigits(t) || t.charCodeAt(t.length - 1) === 58 && st.args.length > 1 && OUTPUT_LABEL.test(t)) {
      what = `this looks like printed output (\`${t}\` ...) pasted into the script, not a command: RouterOS cannot run it. Remove the output and keep only the commands.`;
    } else if (this.pasteRun && startsWithParam(t)) {
      what = "";
    }
    if (what === void 0) return false;
    if (!this.pasteRun && what) this.report("console-paste", first.line, first.column, what);
    this.pasteRun = true;
    this.pasteLine = st.endLine;
    return true;
  }
  // ---- menus and commands ------------------------------------------------------------------------
  result = { kind: OTHER2, node: null, menu: null, from: 0, scripting: false };
  resolve(st, current, context) {
    const r = this.result;
    r.kind = OTHER2;
    r.node = null;
    r.scripting = false;
    const args = st.args;
    const first = args[0];
    if (!first) return r;
    const src = first.plain ? first.source : first.text;
    const b = first.plain ? first.start : 0;
    const e = first.plain ? first.end : src.length;
    const c0 = src.charCodeAt(b);
    const root = this.target.tree.root;
    if (c0 === 58) {
      if (first.groups.length || e - b < 2) return r;
      const shape = segmentShape(src, b + 1, e);
      if (shape < 0) return r;
      const cmd = shape & 1 ? root.commands.get(src.slice(b + 1, e).toLowerCase()) : root.commandAt(src, b + 1, e);
      const name = cmd ? cmd.name : src.slice(b + 1, e).toLowerCase();
      if (cmd) {
        if (!this.isAvailable(cmd)) this.available(cmd, first.line, first.column, () => `\`:${name}\``);
        r.kind = COMMAND2;
        r.node = cmd;
        r.menu = current;
        r.from = 1;
        r.scripting = true;
        return r;
      }
      const dir = root.menus.get(name);
      if (dir) return this.resolvePath(args, 1, dir);
      const guess = this.closest(name, root.commands);
      this.report(
        "unknown-command",
        first.line,
        first.column,
        `\`:${name}\` is not a RouterOS scripting command (RouterOS ${this.target.label})${guess ? `; did you mean \`:${guess}\`?` : "."}`
      );
      return r;
    }
    if ((context === ROOT || context === BLOCK) && c0 !== 47 && startsWithParamAt(src, b, e)) {
      const t = first.text;
      this.report(
        "unknown-command",
        first.line,
        first.column,
        `this line starts with the parameter \`${t.slice(0, t.indexOf("="))}=\` and has no command: is a \\ missing at the end of the line before, or is it printed output? Put the command (such as add or set) before the parameters.`
      );
      return r;
    }
    if (context === PARENS || context === DATA && c0 !== 47) return r;
    if (!startsCommand2(c0) || first.groups.length) return r;
    const start2 = c0 === 47 ? root : current;
    if (!start2) return r;
    return this.resolvePath(args, 0, start2);
  }
  /** Resolve words from `k0` as a path from `node`; a command, a menu, or (unknown) nothing. */
  resolvePath(args, k0, start2) {
    const r = this.result;
    let node = start2;
    for (let k = k0; k < args.length; k++) {
      const a = args[k];
      const src = a.plain ? a.source : a.text;
      const b = a.plain ? a.start : 0;
      const e = a.plain ? a.end : src.length;
      if (a.groups.length || hasArgChars(src, b, e)) {
        if (k > k0 && src.charCodeAt(b) === 123) {
          r.kind = BLOCK_IN;
          r.node = node;
          return r;
        }
        const t = a.text;
        if (k > k0 && startsWithParam(t) && !node.open) {
          const guess = node.commands.has("set") ? " (such as set)" : node.commands.has("add") ? " (such as add)" : "";
          this.report(
            "unknown-command",
            a.line,
            a.column,
            `${show(node.path)} is a menu, not a command: write a command${guess} before \`${t.slice(0, t.indexOf("=") + 1)}\`.`
          );
        }
        return r;
      }
      let from = b;
      while (from <= e) {
        let to = from;
        while (to < e && src.charCodeAt(to) !== 47) to++;
        const segFrom = from;
        from = to + 1;
        if (to === segFrom) continue;
        if (to - segFrom === 2 && src.charCodeAt(segFrom) === 46 && src.charCodeAt(segFrom + 1) === 46) {
          node = node.parent ?? node;
          continue;
        }
        const shape = segmentShape(src, segFrom, to);
        if (shape < 0) return r;
        const moreHere = to + 1 < e;
        const next = this.childOf(node, src, segFrom, to, shape & 1 ? src.slice(segFrom, to).toLowerCase() : void 0, e, args, k);
        const line = a.line;
        const column = a.plain ? a.column + (segFrom - b) : a.column;
        if (next === null) return this.lost(args, k);
        if (!next) {
          const seg = src.slice(segFrom, to);
          if (!node.open) this.reportUnknown(node, seg.toLowerCase(), seg, line, column, moreHere || this.morePath(args, k + 1));
          return this.lost(args, k);
        }
        const isCommand = next.kind === COMMAND2;
        const found = next.node;
        if (next.abbreviated) this.reportAbbreviation(src.slice(segFrom, to), found, isCommand, line, column);
        if (!this.isAvailable(found)) {
          const parent = node;
          this.available(found, line, column, () => isCommand ? `the command \`${found.name}\` of ${show(parent.path)}` : `the menu ${show(found.path)}`);
        }
        if (isCommand) {
          if (moreHere) return r;
          r.kind = COMMAND2;
          r.node = next.node;
          r.menu = node;
          r.from = k + 1;
          return r;
        }
        node = next.node;
      }
    }
    r.kind = NAVIGATE2;
    r.node = node;
    return r;
  }
  /**
   * The path left the tree at word `k` (a menu only hardware has, or a name reported unknown). A
   * line of path words is a menu line into a menu the checks do not know: the relative commands
   * after it are not checked (rather than checked against the menu before it).
   */
  lost(args, k) {
    const r = this.result;
    for (let j = k + 1; j < args.length; j++) if (args[j].groups.length || hasArgChars(args[j].text, 0, args[j].text.length)) return r;
    r.kind = NAVIGATE2;
    r.node = null;
    return r;
  }
  child = { kind: OTHER2, node: null, abbreviated: false };
  /** Advice: a name the console completes today (the only one starting so), which a later version can make ambiguous. */
  reportAbbreviation(written, found, isCommand, line, column) {
    const what = isCommand ? `the command \`${found.name}\` of ${show(found.parent.path)}` : `the menu ${show(found.path)}`;
    this.report(
      "abbreviated-name",
      line,
      column,
      `\`${written}\` is an abbreviation of ${what}: RouterOS completes it while it is the only name starting so, and a later version that adds another would make this script stop here. Write \`${found.name}\`.`
    );
  }
  /**
   * The menu or command named s[from, to) below `node` (`lower`: that name in lower case, when it
   * has capitals), exact or abbreviated. A name that is both a menu and a command there is the menu
   * when the next path word (after s[to] up to `end`, or word k + 1) is in that menu. Null: an
   * abbreviation that starts several names.
   */
  childOf(node, s, from, to, lower, end, args, k) {
    const c = this.child;
    c.abbreviated = false;
    let menu;
    let cmd;
    if (lower === void 0) {
      const both = node.childAt(s, from, to);
      menu = both?.menu;
      cmd = both?.command;
    } else {
      menu = node.menus.get(lower);
      cmd = node.commands.get(lower);
    }
    if (menu && cmd) {
      const f = (to + 1 < end ? s.slice(to + 1, end).split("/")[0] : args[k + 1]?.text)?.toLowerCase();
      const useMenu = f !== void 0 && (menu.menus.has(f) || menu.commands.has(f) || f === "..");
      c.kind = useMenu ? NAVIGATE2 : COMMAND2;
      c.node = useMenu ? menu : cmd;
      return c;
    }
    if (menu || cmd) {
      c.kind = menu ? NAVIGATE2 : COMMAND2;
      c.node = menu ?? cmd;
      return c;
    }
    const name = lower ?? s.slice(from, to);
    let found;
    let kind = OTHER2;
    for (const [map, kd] of [
      [node.menus, NAVIGATE2],
      [node.commands, COMMAND2]
    ]) {
      for (const [n, child] of map) {
        if (!n.startsWith(name) || !this.at(child.v)) continue;
        if (found) return null;
        found = child;
        kind = kd;
      }
    }
    if (!found) return void 0;
    c.kind = kind;
    c.node = found;
    c.abbreviated = true;
    return c;
  }
  /** Do path words follow (a plain word without = or quotes)? */
  morePath(args, k) {
    const a = args[k];
    return a !== void 0 && a.groups.length === 0 && /^[A-Za-z0-9./][\w./-]*$/.test(a.text) && !/^\d+$/.test(a.text);
  }
  reportUnknown(node, lower, seg, line, column, pathFollows) {
    const guessMenu = this.closest(lower, node.menus);
    const guessCmd = this.closest(lower, node.commands);
    let rule2;
    let guess;
    if (guessCmd && (!guessMenu || distance(lower, guessCmd) < distance(lower, guessMenu))) {
      rule2 = "unknown-command";
      guess = guessCmd;
    } else if (pathFollows) {
      rule2 = "unknown-menu";
      guess = guessMenu;
    } else if (guessCmd && (!guessMenu || distance(lower, guessCmd) <= distance(lower, guessMenu))) {
      rule2 = "unknown-command";
      guess = guessCmd;
    } else if (guessMenu) {
      rule2 = "unknown-menu";
      guess = guessMenu;
    } else rule2 = node.parent === null ? "unknown-menu" : "unknown-command";
    const where = node.parent === null ? "the top menu" : show(node.path);
    const what = rule2 === "unknown-menu" ? "menu" : "command";
    this.report(rule2, line, column, `${where} has no ${what} \`${seg}\` in RouterOS ${this.target.label}${guess ? `; did you mean \`${guess}\`?` : "."}`);
  }
  // ---- parameters --------------------------------------------------------------------------------
  checkArgs(cmd, st, from, scripting2) {
    const args = st.args;
    const isFind = !scripting2 && cmd.name === "find";
    let dotted = "";
    for (let k = from; k < args.length; k++) {
      const a = args[k];
      const src = a.plain ? a.source : a.text;
      const b = a.plain ? a.start : 0;
      const e = a.plain ? a.end : src.length;
      const shape = scanParam(src, b, e);
      const eq = PARAM.eq;
      const relative2 = src.charCodeAt(b) === 46;
      if (shape < 0) {
        if (!scripting2 && e - b === 5 && src.startsWith("where", b)) return;
        continue;
      }
      if (relative2 && !dotted) continue;
      let info;
      let name;
      if (shape === 0 && !relative2) {
        dotted = "";
        if (isFind) continue;
        info = cmd.argAt(src, b, eq);
      } else {
        name = relative2 ? dotted + src.slice(b, eq) : src.slice(b, eq);
        if (shape & 2 || relative2) {
          const dot = name.lastIndexOf(".");
          dotted = dot > 0 ? name.slice(0, dot) : "";
        } else dotted = "";
        if (isFind) continue;
        if (shape & 4) name = name.slice(0, -1);
        info = cmd.args.get(shape & 1 ? name.toLowerCase() : name);
      }
      if (!info) {
        name ??= src.slice(b, eq);
        info = this.abbreviatedArg(cmd, name.toLowerCase());
      }
      const valueInNext = eq === e - 1 && k + 1 < args.length && !args[k + 1].text.includes("=");
      if (valueInNext) k++;
      if (!info) {
        if (cmd.openArgs || cmd.open) continue;
        name ??= src.slice(b, eq);
        const guess = this.closest(name.toLowerCase(), cmd.args);
        const owner = scripting2 ? `\`:${cmd.name}\`` : cmd.parent.path ? `\`${cmd.name}\` in ${show(cmd.parent.path)}` : `\`/${cmd.name}\``;
        this.report(
          "unknown-parameter",
          a.line,
          a.column,
          `${owner} has no parameter \`${name}\` in RouterOS ${this.target.label}${guess ? `; did you mean \`${guess}\`?` : "."}`
        );
        continue;
      }
      if (!this.isAvailable(info)) {
        const found = info;
        this.available(info, a.line, a.column, () => `the parameter \`${found.name}\` of ${ownerOf(cmd, scripting2)}`);
        continue;
      }
      const en = info.enum;
      if (!en) continue;
      const valueArg = valueInNext ? args[k] : a;
      if (valueArg.groups.length) continue;
      if (!valueInNext) {
        const hit = en.index.at(src, eq + 1, e);
        if (hit !== void 0 && this.at(hit.v)) continue;
      }
      const raw = valueInNext ? valueArg.text : src.slice(eq + 1, e);
      const valueColumn = valueInNext || !a.plain ? valueArg.column : a.column + (eq - b) + 1;
      this.checkValue(info, cmd, scripting2, raw, valueArg, valueColumn);
    }
  }
  abbreviatedArg(cmd, name) {
    let found;
    for (const [n, info] of cmd.args) {
      if (!n.startsWith(name) || !this.at(info.v)) continue;
      if (found) return void 0;
      found = info;
    }
    return found;
  }
  checkValue(info, cmd, scripting2, raw, a, column) {
    const owner = () => ownerOf(cmd, scripting2);
    const e = info.enum;
    if (!this.at(e.known) || raw === "" || isDynamic(raw)) return;
    let text = raw;
    let offset = 0;
    if (text.length >= 2 && text.charCodeAt(0) === 34 && text.charCodeAt(text.length - 1) === 34) {
      if (text.includes("\\")) return;
      text = text.slice(1, -1);
      offset = 1;
    }
    if (!e.list || !text.includes(",")) {
      const r = e.values.get(text);
      if (r !== void 0 && this.at(r)) return;
    }
    const items = e.list ? text.split(",") : [text];
    let at = offset;
    for (const item of items) {
      const itemAt = at;
      at += item.length + 1;
      let value = item.trim();
      if (value.startsWith("!")) value = value.slice(1);
      if (value === "" || e.numbers && /^\d+$/.test(value)) continue;
      const ranges = e.values.get(value) ?? e.values.get(value.toLowerCase()) ?? this.caseless(e.values, value);
      const col = a.plain ? column + itemAt : column;
      if (ranges && this.at(ranges)) continue;
      if (ranges) {
        this.reportVersion(`the value \`${value}\` of ${owner()} ${info.name}=`, ranges, a.line, col);
        continue;
      }
      const available = [...e.values].filter(([, r]) => this.at(r)).map(([v]) => v);
      const prefixed = available.filter((v) => v.toLowerCase().startsWith(value.toLowerCase()));
      if (prefixed.length === 1) continue;
      const guess = closestName(value.toLowerCase(), available);
      const shown = available.length > 12 ? `${available.slice(0, 12).join(", ")}, ...` : available.join(", ");
      this.report(
        "invalid-value",
        a.line,
        col,
        `\`${value}\` is not a value of \`${info.name}\` (${owner()}) in RouterOS ${this.target.label}${guess ? `; did you mean \`${guess}\`?` : "."} It takes ${e.list ? "a comma-separated list of " : "one of "}${shown}.`
      );
    }
  }
  caseless(values, value) {
    const lower = value.toLowerCase();
    for (const [v, r] of values) if (v.toLowerCase() === lower) return r;
    return void 0;
  }
  // ---- versions and packages ---------------------------------------------------------------------
  /** Does `e` exist in the site's version, with its packages? */
  isAvailable(e) {
    if (!this.at(e.v)) return false;
    const packages = this.target.packages;
    return !(packages && e.pkg && !packages.has(e.pkg) && this.at(e.x));
  }
  /** Does `e` exist in the site's version, with its packages? Reports once per statement when not (`label` names it then). */
  available(e, line, column, label) {
    if (!this.at(e.v)) {
      this.reportVersion(label(), e.v, line, column);
      return false;
    }
    const packages = this.target.packages;
    if (packages && e.pkg && !packages.has(e.pkg) && this.at(e.x)) {
      if (!this.reportedAvailability) {
        this.reportedAvailability = true;
        const list = packages.size ? [...packages].join(", ") : "none";
        this.report(
          "missing-package",
          line,
          column,
          `${label()} comes with the extra package ${e.pkg}, which is not in this site's packages (${list}). Add ${e.pkg} to \`packages:\` if the router has it installed.`
        );
      }
      return false;
    }
    return true;
  }
  reportVersion(label, ranges, line, column) {
    if (this.reportedAvailability) return;
    this.reportedAvailability = true;
    const tree = this.target.tree;
    this.report(
      "not-in-version",
      line,
      column,
      this.target.assumed ? `${label} exists ${tree.describe(ranges)}; no RouterOS version is known for this site, so it is checked against ${this.target.label}, the newest known. Set \`routeros:\` to the version the site runs.` : `${label} exists ${tree.describe(ranges)}; this site runs ${this.target.label}. Write the command for ${this.target.label}, or set \`routeros:\` to the version the site runs.`
    );
  }
  // ---- helpers -----------------------------------------------------------------------------------
  /** The closest name among those that exist in the site's version, when it is a likely typo. */
  closest(name, map) {
    const names = [];
    for (const [n, e] of map) if (this.at(e.v)) names.push(n);
    return closestName(name, names);
  }
  report(rule2, line, column, message) {
    if (this.off.has(rule2)) return;
    this.hits.push({ rule: rule2, line, column, message, statement: this.statement, enclosing: this.enclosing });
  }
};
function lineEnd(s, from) {
  const n = s.indexOf("\n", from);
  return n < 0 ? s.length : n;
}

// src/lint/scanner.ts
import { Buffer as Buffer2 } from "node:buffer";
var TAB = 9;
var LF = 10;
var CR = 13;
var SPACE = 32;
var QUOTE = 34;
var HASH = 35;
var DOLLAR = 36;
var LPAREN = 40;
var RPAREN = 41;
var SEMI = 59;
var EQUALS = 61;
var LBRACKET = 91;
var BACKSLASH = 92;
var RBRACKET = 93;
var LBRACE = 123;
var RBRACE = 125;
var BOM_CHAR = "\uFEFF";
var SPECIAL = new Uint8Array(128);
for (const c of [TAB, LF, CR, SPACE, QUOTE, HASH, DOLLAR, LPAREN, RPAREN, SEMI, EQUALS, LBRACKET, BACKSLASH, RBRACKET, LBRACE, RBRACE]) SPECIAL[c] = 1;
var WORD_END = new Uint8Array(128);
for (let c = 0; c < 128; c++) WORD_END[c] = SPECIAL[c] && c !== EQUALS ? 1 : 0;
var STRING_STOP = new Uint8Array(128);
for (const c of [QUOTE, BACKSLASH, DOLLAR, LF, CR]) STRING_STOP[c] = 1;
var SIMPLE_ESCAPES = new Set('"\\nrt$?_abfv'.split("").map((c) => c.charCodeAt(0)));
var CLOSER_OF = { [LPAREN]: RPAREN, [LBRACKET]: RBRACKET, [LBRACE]: RBRACE };
var OPEN_FOR = { [RPAREN]: LPAREN, [RBRACKET]: LBRACKET, [RBRACE]: LBRACE };
var BLOCK_WORDS = /* @__PURE__ */ new Set([":do", "do", "else", ":else", ":retry", ":execute"]);
var BLOCK_COMMANDS = /* @__PURE__ */ new Set([":onerror", ":retry", ":do", ":execute"]);
function isUpperHex(c) {
  return c >= 48 && c <= 57 || c >= 65 && c <= 70;
}
function isLowerHex(c) {
  return c >= 48 && c <= 57 || c >= 97 && c <= 102;
}
var NO_GROUPS = Object.freeze([]);
var ArgNode = class {
  constructor(scanner, source, start2, line, column) {
    this.scanner = scanner;
    this.source = source;
    this.start = start2;
    this.line = line;
    this.column = column;
  }
  scanner;
  source;
  start;
  line;
  column;
  cached = void 0;
  /** Set when the word ends. */
  end = -1;
  plain = true;
  groups = NO_GROUPS;
  get text() {
    return this.cached ??= this.plain ? this.source.slice(this.start, this.end) : this.scanner.clean(this.start, this.end);
  }
};
var Level = class {
  constructor(open, line, column, group, statements, fromString) {
    this.open = open;
    this.line = line;
    this.column = column;
    this.group = group;
    this.statements = statements;
    this.fromString = fromString;
    this.canComment = open === 0 || open === LBRACE;
  }
  open;
  line;
  column;
  group;
  statements;
  fromString;
  stmt = null;
  arg = null;
  /** A # here would start a comment. */
  canComment;
  /** The current statement has a `where` query: `name = value` is a comparison there. */
  inWhere = false;
  /** A line break inside this ( or [ was already reported. */
  reportedBreak = false;
};
function q(c) {
  return String.fromCharCode(c);
}
var PAST_END = 4;
var shared = new Uint16Array(4096);
var sharedBytes = Buffer2.from(shared.buffer);
var SHARED_LIMIT = 1 << 20;
var LITTLE_ENDIAN = new Uint16Array(Uint8Array.of(1, 0).buffer)[0] === 1;
function codeUnits(text) {
  const n = text.length;
  let code = shared;
  let bytes = sharedBytes;
  if (code.length < n + PAST_END) {
    code = new Uint16Array(n + PAST_END);
    bytes = Buffer2.from(code.buffer);
    if (n + PAST_END <= SHARED_LIMIT) {
      shared = code;
      sharedBytes = bytes;
    }
  }
  if (LITTLE_ENDIAN) bytes.write(text, 0, "utf16le");
  else for (let i = 0; i < n; i++) code[i] = text.charCodeAt(i);
  code.fill(0, n, n + PAST_END);
  return code;
}
function runEnd(code, i, n, stops) {
  while (i < n) {
    const c = code[i];
    if (c < 128 && stops[c] !== 0) break;
    i++;
  }
  return i;
}
function scanScript(text) {
  return new Scanner(text).run();
}
var Scanner = class {
  src;
  /** The code units of src, then zeros (see codeUnits). */
  code;
  n;
  i = 0;
  line = 1;
  lineStart = 0;
  /** The current physical line was joined to the previous one by \. */
  continued = false;
  /** Inside a string, which started at strOffset, strLine, strColumn (kept apart: no object per string). */
  inStr = false;
  strOffset = 0;
  strLine = 0;
  strColumn = 0;
  /** The first string that ran over a raw line break: the likeliest place of a missing quote. */
  firstMultiline = null;
  /** Offsets [start, end) of continuation text, in increasing order, cut out of word texts. */
  cuts = [];
  levels = [];
  comments = [];
  problems = [];
  templateTags = [];
  root = [];
  constructor(text) {
    this.src = text;
    this.code = codeUnits(text);
    this.n = text.length;
    this.pushLevel(new Level(0, 1, 1, null, this.root, null));
  }
  run() {
    this.skipBom();
    const code = this.code;
    const n = this.n;
    let i = this.i;
    while (i < n) {
      if (this.inStr) {
        i = runEnd(code, i, n, STRING_STOP);
        if (i >= n) break;
        if (code[i] === QUOTE) {
          this.inStr = false;
          i++;
          continue;
        }
        this.i = i;
        this.stringChar();
        i = this.i;
        continue;
      }
      const c = code[i];
      if (c >= 128 || SPECIAL[c] === 0) {
        const level = this.top;
        if (!level.arg) {
          this.i = i;
          this.ensureArg(level);
        }
        i = runEnd(code, i + 1, n, WORD_END);
        continue;
      }
      if (c === SPACE || c === TAB) {
        const level = this.top;
        if (level.arg) {
          this.i = i;
          this.endArg(level);
        }
        i++;
        while (i < n) {
          const d = code[i];
          if (d !== SPACE && d !== TAB) break;
          i++;
        }
        continue;
      }
      if (c === QUOTE) {
        this.startString(i);
        i++;
        continue;
      }
      if (c === DOLLAR && code[i + 1] !== LBRACE) {
        this.i = i;
        this.ensureArg(this.top);
        i++;
        continue;
      }
      if (c === LF && this.top.open !== LPAREN && this.top.open !== LBRACKET) {
        this.endLine(i);
        i++;
        continue;
      }
      this.i = i;
      this.codeChar();
      i = this.i;
    }
    this.i = i;
    this.finish();
    return { statements: this.root, comments: this.comments, problems: this.problems, templateTags: this.templateTags };
  }
  /** Skip a byte-order mark. */
  skipBom() {
    if (this.src.slice(0, 1) === BOM_CHAR) {
      this.i = 1;
      this.lineStart = 1;
    }
  }
  /** A string starts at the quote at `at`. */
  startString(at) {
    this.i = at;
    this.ensureArg(this.top);
    this.inStr = true;
    this.strOffset = at;
    this.strLine = this.line;
    this.strColumn = at - this.lineStart + 1;
  }
  /** The line break at `at` ends a line, outside ( ) and [ ] (codeLineBreak does the rest). */
  endLine(at) {
    const level = this.top;
    this.i = at;
    this.endStatement(level);
    level.canComment = true;
    this.newLine(at + 1, false);
  }
  /** Where the current string started, as an object (only needed in rare cases). */
  strStart() {
    return { offset: this.strOffset, line: this.strLine, column: this.strColumn };
  }
  enterString(s) {
    this.inStr = true;
    this.strOffset = s.offset;
    this.strLine = s.line;
    this.strColumn = s.column;
  }
  /** The innermost open level (kept in step with `levels`). */
  top;
  pushLevel(level) {
    this.levels.push(level);
    this.top = level;
  }
  popLevel() {
    const level = this.levels.pop();
    this.top = this.levels[this.levels.length - 1];
    return level;
  }
  col(offset = this.i) {
    return offset - this.lineStart + 1;
  }
  report(rule2, line, column, message) {
    this.problems.push({ rule: rule2, line, column, message });
  }
  /** Length of the line break at `at` (1 or 2), or 0 when there is none. */
  eolLength(at) {
    const c = this.code[at];
    if (c === LF) return 1;
    if (c === CR) return this.code[at + 1] === LF ? 2 : 1;
    return 0;
  }
  newLine(nextLineStart, continued) {
    this.line++;
    this.lineStart = nextLineStart;
    this.i = nextLineStart;
    this.continued = continued;
  }
  skipBlanks(at) {
    let j = at;
    for (let c = this.code[j]; c === SPACE || c === TAB; c = this.code[++j]) ;
    return j;
  }
  // ---- words and statements -------------------------------------------------------------------
  ensureArg(level) {
    if (level.arg) return level.arg;
    const column = this.i - this.lineStart + 1;
    const arg = new ArgNode(this, this.src, this.i, this.line, column);
    level.arg = arg;
    level.canComment = false;
    if (!level.stmt) {
      level.stmt = { args: [], line: this.line, column, endLine: this.line };
      level.statements.push(level.stmt);
    }
    return arg;
  }
  endArg(level) {
    const a = level.arg;
    if (!a) return;
    level.arg = null;
    a.end = this.i;
    const cuts = this.cuts;
    a.plain = cuts.length === 0 || cuts[cuts.length - 1] <= a.start;
    if (this.i - a.start === 5 && this.src.startsWith("where", a.start)) level.inWhere = true;
    const stmt = level.stmt;
    stmt.args.push(a);
    stmt.endLine = this.line;
  }
  endStatement(level) {
    this.endArg(level);
    level.stmt = null;
    level.inWhere = false;
  }
  /** The source between two offsets without the continuations recorded in `cuts`. */
  clean(start2, end) {
    const cuts = this.cuts;
    if (cuts.length === 0 || cuts[cuts.length - 1] <= start2) return this.src.slice(start2, end);
    let lo = 0;
    let hi = cuts.length / 2;
    while (lo < hi) {
      const mid = lo + hi >> 1;
      if (cuts[mid * 2 + 1] <= start2) lo = mid + 1;
      else hi = mid;
    }
    let out = "";
    let from = start2;
    for (let k = lo * 2; k < cuts.length && cuts[k] < end; k += 2) {
      const cs = Math.max(cuts[k], start2);
      if (cs > from) out += this.src.slice(from, cs);
      from = Math.max(from, Math.min(cuts[k + 1], end));
    }
    return from < end ? out + this.src.slice(from, end) : out;
  }
  // ---- code -------------------------------------------------------------------------------------
  codeChar() {
    const level = this.top;
    const c = this.code[this.i];
    switch (c) {
      case SPACE:
      case TAB:
        this.endArg(level);
        this.i++;
        return;
      case LF:
      case CR:
        this.codeLineBreak(level);
        return;
      case SEMI:
        this.endStatement(level);
        level.canComment = true;
        this.i++;
        return;
      case QUOTE:
        this.startString(this.i);
        this.i++;
        return;
      case HASH:
        this.codeHash(level);
        return;
      case BACKSLASH:
        this.codeBackslash(level);
        return;
      case LPAREN:
      case LBRACKET:
      case LBRACE:
        this.open(level, c, null);
        return;
      case RPAREN:
      case RBRACKET:
      case RBRACE:
        this.close(c);
        return;
      case EQUALS:
        if (!level.arg) this.checkParamSpace(level);
        this.ensureArg(level);
        this.i++;
        return;
      case DOLLAR:
        this.ensureArg(level);
        if (this.src.startsWith("${{", this.i)) this.skipTemplateTag();
        else this.i++;
        return;
      default:
        this.ensureArg(level);
        this.i = runEnd(this.code, this.i + 1, this.n, WORD_END);
    }
  }
  /** `${{ ... }}` is this tool's own template syntax (core/template.ts): keep it whole, unread. */
  skipTemplateTag() {
    const end = this.src.indexOf("}}", this.i + 3);
    const stop = end < 0 ? this.n : end + 2;
    const nl = this.src.slice(this.i, stop).search(/[\r\n]/);
    if (nl < 0) this.templateTags.push(this.inStr ? { offset: this.i, context: "string", stringStart: this.strOffset } : { offset: this.i, context: "code" });
    this.i = nl < 0 ? stop : this.i + 1;
  }
  codeLineBreak(level) {
    const len = this.eolLength(this.i);
    if (level.open === LPAREN || level.open === LBRACKET) {
      if (!level.reportedBreak) {
        level.reportedBreak = true;
        const o = q(level.open);
        this.report(
          "line-break-in-brackets",
          this.line,
          this.col(),
          `line break inside ${o} ${q(CLOSER_OF[level.open])}: the ${o} opened at line ${level.line} column ${level.column} is still open here. Close it on this line, or end the line with \\ to continue the command on the next one.`
        );
      }
      this.endArg(level);
      this.newLine(this.i + len, false);
      return;
    }
    this.endStatement(level);
    level.canComment = true;
    this.newLine(this.i + len, false);
  }
  codeHash(level) {
    if (level.arg) {
      this.i++;
      return;
    }
    if (level.canComment) {
      this.readComment();
      return;
    }
    const atLineStart = this.src.slice(this.lineStart, this.i).trim() === "";
    if (this.continued && atLineStart) {
      this.report(
        "comment-after-continuation",
        this.line,
        this.col(),
        "a comment cannot sit inside a command continued with \\ on the line before: RouterOS does not read this # as a comment. Move the comment above the command."
      );
    } else {
      this.report(
        "inline-comment",
        this.line,
        this.col(),
        "this # is not a comment: RouterOS starts a comment only where a command starts, so the rest of the line is read as part of the command. Put the comment on its own line, or after a ; (for example `...; # note`)."
      );
    }
    this.skipToLineEnd();
  }
  readComment() {
    const start2 = this.i;
    this.skipToLineEnd();
    const whole2 = this.src.slice(start2, this.i);
    for (let t = whole2.indexOf("${{"); t !== -1; t = whole2.indexOf("${{", t + 3)) this.templateTags.push({ offset: start2 + t, context: "comment" });
    const before = this.src.slice(this.lineStart, start2);
    this.comments.push({
      line: this.line,
      column: this.col(start2),
      text: this.src.slice(start2 + 1, this.i).trim(),
      ownLine: before.trim() === "" && !this.continued
    });
  }
  skipToLineEnd() {
    const code = this.code;
    const n = this.n;
    let j = this.i;
    while (j < n) {
      const c = code[j];
      if (c === LF || c === CR) break;
      j++;
    }
    this.i = j;
  }
  codeBackslash(level) {
    const at = this.i;
    const len = this.eolLength(at + 1);
    if (len) {
      this.endArg(level);
      this.cuts.push(at, at + 1 + len);
      this.newLine(at + 1 + len, true);
      return;
    }
    if (at + 1 >= this.n) {
      this.i++;
      return;
    }
    const j = this.skipBlanks(at + 1);
    const after = this.code[j];
    const eol = this.eolLength(j);
    if (eol || j >= this.n) {
      this.report(
        "continuation-space",
        this.line,
        this.col(at),
        "spaces follow the \\ at the end of this line, so RouterOS may not read it as a line continuation. Remove the trailing spaces."
      );
      this.endArg(level);
      this.cuts.push(at, j + eol);
      if (j >= this.n) this.i = j;
      else this.newLine(j + eol, true);
      return;
    }
    if (after === HASH) {
      this.report(
        "comment-after-continuation",
        this.line,
        this.col(j),
        "a comment cannot follow the line continuation \\: the \\ must be the last character of the line. Move the comment above the command."
      );
      this.endArg(level);
      this.i = j;
      this.skipToLineEnd();
      const l2 = this.eolLength(this.i);
      if (l2) this.newLine(this.i + l2, true);
      return;
    }
    this.report(
      "stray-backslash",
      this.line,
      this.col(at),
      "a \\ outside a string must be the last character of a line (a line continuation). To use a backslash in a value, put the value in double quotes and write \\\\."
    );
    this.ensureArg(level);
    this.i++;
  }
  /** Whitespace before `=`: `gateway = 1.1.1.1` is read as three words, not a parameter. */
  checkParamSpace(level) {
    if (level.open === LPAREN || level.inWhere || level.group?.array) return;
    const prev = level.stmt?.args[level.stmt.args.length - 1];
    if (!prev || !/^[A-Za-z][\w-]*$/.test(prev.text)) return;
    this.report(
      "param-space",
      prev.line,
      prev.column,
      `space between the parameter name "${prev.text}" and "=": RouterOS does not allow it. Write ${prev.text}=<value>, with nothing between the name and =.`
    );
  }
  open(level, c, fromString) {
    const line = this.line;
    const column = this.col();
    let array = false;
    if (c === LBRACE && !fromString) {
      if (level.arg) {
        array = this.code[this.i - 1] !== EQUALS && !BLOCK_WORDS.has(this.src.slice(level.arg.start, this.i));
      } else {
        const args = level.stmt?.args;
        const prev = args?.[args.length - 1];
        array = prev !== void 0 && !BLOCK_WORDS.has(prev.text) && !BLOCK_COMMANDS.has(args[0].text);
      }
    }
    const arg = this.ensureArg(level);
    level.canComment = false;
    const group = { open: q(c), line, column, inString: fromString !== null, array, statements: [] };
    arg.groups = arg.groups === NO_GROUPS ? [group] : [...arg.groups, group];
    this.pushLevel(new Level(c, line, column, group, group.statements, fromString));
    this.i++;
  }
  close(c) {
    const want = OPEN_FOR[c];
    const line = this.line;
    const column = this.col();
    const top = this.top;
    if (top.open === want) {
      this.pop();
      this.i++;
      return;
    }
    let m = -1;
    for (let k = this.levels.length - 1; k >= 1; k--) {
      const lv = this.levels[k];
      if (lv.open === want) {
        m = k;
        break;
      }
      if (lv.fromString) break;
    }
    if (m >= 1) {
      const inner = this.levels[this.levels.length - 1];
      const outer = this.levels[m];
      this.report(
        "unbalanced-bracket",
        line,
        column,
        `this ${q(c)} closes the ${q(want)} opened at line ${outer.line} column ${outer.column}, but the ${q(inner.open)} opened at line ${inner.line} column ${inner.column} is not closed yet. Add the missing ${q(CLOSER_OF[inner.open])} before it.`
      );
      while (this.levels.length > m) this.pop();
      this.i++;
      return;
    }
    if (top.open !== 0) {
      this.report(
        "unbalanced-bracket",
        line,
        column,
        `this ${q(c)} does not match the ${q(top.open)} opened at line ${top.line} column ${top.column}. Close that one with ${q(CLOSER_OF[top.open])}.`
      );
      this.pop();
      this.i++;
      return;
    }
    this.report(
      "unbalanced-bracket",
      line,
      column,
      c === RBRACE ? "this } has no matching {. RouterOS ends the script at an unmatched }, so every command after it would be silently skipped. Remove it or add the missing {." : `this ${q(c)} has no matching ${q(want)}. Remove it or add the missing ${q(want)}.`
    );
    this.ensureArg(top);
    this.i++;
  }
  pop() {
    const level = this.popLevel();
    this.endStatement(level);
    const outer = this.top;
    outer.canComment = false;
    if (level.fromString) this.enterString(level.fromString);
  }
  // ---- strings ----------------------------------------------------------------------------------
  stringChar() {
    const code = this.code;
    const n = this.n;
    let j = this.i;
    let c = 0;
    while (j < n) {
      c = code[j];
      if (c < 128 && STRING_STOP[c] !== 0) break;
      j++;
    }
    this.i = j;
    if (j >= n) return;
    switch (c) {
      case QUOTE:
        this.inStr = false;
        this.i++;
        return;
      case LF:
      case CR: {
        if (!this.firstMultiline) this.firstMultiline = this.strStart();
        this.newLine(j + this.eolLength(j), false);
        return;
      }
      case DOLLAR:
        this.stringDollar();
        return;
      default:
        this.stringEscape();
    }
  }
  stringDollar() {
    const at = this.i;
    let j = at + 1;
    let c = this.code[j];
    if (c === BACKSLASH && this.eolLength(j + 1)) {
      const eol = this.eolLength(j + 1);
      const k = this.skipBlanks(j + 1 + eol);
      const ck = this.code[k];
      if (ck === LPAREN || ck === LBRACKET) {
        this.cuts.push(j, k);
        this.newLine(j + 1 + eol, true);
        this.i = k;
        j = k;
        c = ck;
      }
    }
    if (c === LPAREN || c === LBRACKET) {
      const s = this.strStart();
      this.inStr = false;
      this.i = j;
      this.open(this.top, c, s);
      return;
    }
    if (this.src.startsWith("${{", at)) {
      this.skipTemplateTag();
      return;
    }
    this.i = at + 1;
  }
  stringEscape() {
    const at = this.i;
    const next = this.code[at + 1];
    const eol = this.eolLength(at + 1);
    if (eol) {
      const k = this.skipBlanks(at + 1 + eol);
      this.cuts.push(at, k);
      this.newLine(at + 1 + eol, true);
      this.i = k;
      return;
    }
    if (at + 1 >= this.n) {
      this.i++;
      return;
    }
    if (SIMPLE_ESCAPES.has(next)) {
      this.i += 2;
      return;
    }
    const next2 = this.code[at + 2];
    if (isUpperHex(next) && isUpperHex(next2)) {
      this.i += 3;
      return;
    }
    let message;
    const shown = this.src.slice(at, at + 2);
    if (isLowerHex(next) || isUpperHex(next)) {
      const pair = this.src.slice(at + 1, at + 3);
      message = isLowerHex(next2) || isUpperHex(next2) ? `invalid escape "\\${pair}" in a string: a character code needs two upper-case hex digits (\\${pair.toUpperCase()}). Write \\\\ for a backslash.` : `invalid escape "${shown}" in a string: a character code needs exactly two upper-case hex digits (for example \\0${q(next).toUpperCase()}). Write \\\\ for a backslash.`;
    } else if (next === SPACE || next === TAB) {
      const j = this.skipBlanks(at + 1);
      message = this.eolLength(j) ? 'invalid escape "\\ " in a string: spaces follow the \\ at the end of this line, so it does not continue the line. Remove the trailing spaces.' : 'invalid escape "\\ " in a string: write \\_ for an escaped space, or \\\\ for a backslash.';
    } else {
      message = `invalid escape "${shown}" in a string: RouterOS accepts \\" \\\\ \\n \\r \\t \\$ \\? \\_ \\a \\b \\f \\v and \\ with two upper-case hex digits. Write \\\\ for a backslash.`;
    }
    this.report("invalid-escape", this.line, this.col(at), message);
    this.i += 2;
  }
  // ---- end of text ------------------------------------------------------------------------------
  finish() {
    const interpolation = this.inStr ? this.levels.find((lv) => lv.fromString && !lv.reportedBreak) : void 0;
    if (interpolation) {
      const o = q(interpolation.open);
      this.report(
        "unbalanced-bracket",
        interpolation.line,
        interpolation.column,
        `this $${o} inside a string is never closed, so the string's closing " is read as the start of another string. Add the matching ${q(CLOSER_OF[interpolation.open])}.`
      );
    } else if (this.inStr) {
      const open = this.strStart();
      const first = this.firstMultiline && this.firstMultiline.offset < open.offset ? this.firstMultiline : null;
      const at = first ?? open;
      this.report(
        "unterminated-string",
        at.line,
        at.column,
        first || this.spansLines(open) ? 'the script ends inside a string, and this is the first string that runs over a line break, so its closing " is probably missing. (RouterOS allows line breaks in strings, so a missing " pairs every later quote wrongly.) Add the closing ".' : 'this string is never closed: add the closing ".'
      );
    } else {
      for (let k = this.levels.length - 1; k >= 1; k--) {
        const lv = this.levels[k];
        if (lv.reportedBreak) continue;
        const o = q(lv.open);
        this.report(
          "unbalanced-bracket",
          lv.line,
          lv.column,
          lv.open === LBRACE ? `this { is never closed: RouterOS would stop the script here. Add the matching } where the block ends.` : `this ${o} is never closed: add the matching ${q(CLOSER_OF[lv.open])}.`
        );
      }
    }
    this.inStr = false;
    while (this.levels.length > 1) this.endStatement(this.popLevel());
    this.endStatement(this.levels[0]);
  }
  spansLines(s) {
    return s.line !== this.line;
  }
};

// src/lint/index.ts
var STRUCTURE = /* @__PURE__ */ new Set(["unbalanced-bracket", "unterminated-string"]);
function levelOf(rule2, settings) {
  const info = ruleInfo(rule2);
  if (!info) return "error";
  const s = settings && Object.hasOwn(settings, rule2) ? settings[rule2] : void 0;
  if (!info.configurable || s === void 0 || info.alwaysOn && s === "off") return info.defaultLevel;
  if (s === "off") return "off";
  const level = levelOfSetting(s);
  if (!level || level === "lockout" && !info.acknowledgeable) return info.defaultLevel;
  return level;
}
var NO_RULES = /* @__PURE__ */ new Set();
function lintScript(text, options = {}) {
  const settings = options.rules;
  const scan2 = scanScript(text);
  const findings = [];
  const push2 = (rule2, line, column, message) => {
    const level = levelOf(rule2, settings);
    if (level !== "off") findings.push({ line, column, level, severity: severityOf(level), rule: rule2, message });
  };
  for (const p of scan2.problems) push2(p.rule, p.line, p.column, p.message);
  for (const r of options.rawValues ?? []) {
    push2(
      "raw-template-value",
      r.line,
      r.column,
      `\${{{ ${r.kind}.${r.name} }}} inserts its value raw, without escaping: a value holding " or a line break can end a string or add commands. Review it; write \${{ ${r.kind}.${r.name} }} (escaped) unless the value is meant to be RouterOS code.`
    );
  }
  const acks = readAcknowledgements(scan2.comments, scan2.statements);
  for (const p of acks.problems) push2(p.rule, p.line, p.column, p.message);
  const off = settings ? new Set(Object.keys(settings).filter((rule2) => levelOf(rule2, settings) === "off")) : NO_RULES;
  if (options.routeros && !scan2.problems.some((p) => STRUCTURE.has(p.rule))) {
    for (const h of checkCommands(scan2.statements, options.routeros, off)) {
      if (acks.covers(h.rule, h.statement, h.enclosing)) continue;
      push2(h.rule, h.line, h.column, h.message);
    }
  }
  const hits = findLockouts(scan2.statements, off);
  for (const h of hits) {
    if (acks.covers(h.rule, h.statement, h.enclosing)) continue;
    push2(
      h.rule,
      h.statement.line,
      h.statement.column,
      `${h.message} If this is intended, acknowledge it with "# routeros-gitops: allow ${h.rule}" on the line above the command or at the top of the file.`
    );
  }
  if (!off.has("unguarded-add") && !scan2.problems.some((p) => STRUCTURE.has(p.rule))) {
    const covered = (st, enclosing) => acks.covers("unguarded-add", st, enclosing);
    for (const h of findUnguardedAdds(scan2.statements, covered)) push2(h.rule, h.statement.line, h.statement.column, h.message);
  }
  return findings.sort((a, b) => a.line - b.line || a.column - b.column);
}

// src/core/checks.ts
init_routeros_version();

// node_modules/mustache/mustache.mjs
var objectToString = Object.prototype.toString;
var isArray = Array.isArray || function isArrayPolyfill(object) {
  return objectToString.call(object) === "[object Array]";
};
function isFunction(object) {
  return typeof object === "function";
}
function typeStr(obj) {
  return isArray(obj) ? "array" : typeof obj;
}
function escapeRegExp(string) {
  return string.replace(/[\-\[\]{}()*+?.,\\\^$|#\s]/g, "\\$&");
}
function hasProperty(obj, propName) {
  return obj != null && typeof obj === "object" && propName in obj;
}
function primitiveHasOwnProperty(primitive, propName) {
  return primitive != null && typeof primitive !== "object" && primitive.hasOwnProperty && primitive.hasOwnProperty(propName);
}
var regExpTest = RegExp.prototype.test;
function testRegExp(re, string) {
  return regExpTest.call(re, string);
}
var nonSpaceRe = /\S/;
function isWhitespace(string) {
  return !testRegExp(nonSpaceRe, string);
}
var entityMap = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "/": "&#x2F;",
  "`": "&#x60;",
  "=": "&#x3D;"
};
function escapeHtml(string) {
  return String(string).replace(/[&<>"'`=\/]/g, function fromEntityMap(s) {
    return entityMap[s];
  });
}
var whiteRe = /\s*/;
var spaceRe = /\s+/;
var equalsRe = /\s*=/;
var curlyRe = /\s*\}/;
var tagRe = /#|\^|\/|>|\{|&|=|!/;
function parseTemplate(template, tags) {
  if (!template)
    return [];
  var lineHasNonSpace = false;
  var sections = [];
  var tokens = [];
  var spaces = [];
  var hasTag = false;
  var nonSpace = false;
  var indentation = "";
  var tagIndex = 0;
  function stripSpace() {
    if (hasTag && !nonSpace) {
      while (spaces.length)
        delete tokens[spaces.pop()];
    } else {
      spaces = [];
    }
    hasTag = false;
    nonSpace = false;
  }
  var openingTagRe, closingTagRe, closingCurlyRe;
  function compileTags(tagsToCompile) {
    if (typeof tagsToCompile === "string")
      tagsToCompile = tagsToCompile.split(spaceRe, 2);
    if (!isArray(tagsToCompile) || tagsToCompile.length !== 2)
      throw new Error("Invalid tags: " + tagsToCompile);
    openingTagRe = new RegExp(escapeRegExp(tagsToCompile[0]) + "\\s*");
    closingTagRe = new RegExp("\\s*" + escapeRegExp(tagsToCompile[1]));
    closingCurlyRe = new RegExp("\\s*" + escapeRegExp("}" + tagsToCompile[1]));
  }
  compileTags(tags || mustache.tags);
  var scanner = new Scanner2(template);
  var start2, type, value, chr, token, openSection;
  while (!scanner.eos()) {
    start2 = scanner.pos;
    value = scanner.scanUntil(openingTagRe);
    if (value) {
      for (var i = 0, valueLength = value.length; i < valueLength; ++i) {
        chr = value.charAt(i);
        if (isWhitespace(chr)) {
          spaces.push(tokens.length);
          indentation += chr;
        } else {
          nonSpace = true;
          lineHasNonSpace = true;
          indentation += " ";
        }
        tokens.push(["text", chr, start2, start2 + 1]);
        start2 += 1;
        if (chr === "\n") {
          stripSpace();
          indentation = "";
          tagIndex = 0;
          lineHasNonSpace = false;
        }
      }
    }
    if (!scanner.scan(openingTagRe))
      break;
    hasTag = true;
    type = scanner.scan(tagRe) || "name";
    scanner.scan(whiteRe);
    if (type === "=") {
      value = scanner.scanUntil(equalsRe);
      scanner.scan(equalsRe);
      scanner.scanUntil(closingTagRe);
    } else if (type === "{") {
      value = scanner.scanUntil(closingCurlyRe);
      scanner.scan(curlyRe);
      scanner.scanUntil(closingTagRe);
      type = "&";
    } else {
      value = scanner.scanUntil(closingTagRe);
    }
    if (!scanner.scan(closingTagRe))
      throw new Error("Unclosed tag at " + scanner.pos);
    if (type == ">") {
      token = [type, value, start2, scanner.pos, indentation, tagIndex, lineHasNonSpace];
    } else {
      token = [type, value, start2, scanner.pos];
    }
    tagIndex++;
    tokens.push(token);
    if (type === "#" || type === "^") {
      sections.push(token);
    } else if (type === "/") {
      openSection = sections.pop();
      if (!openSection)
        throw new Error('Unopened section "' + value + '" at ' + start2);
      if (openSection[1] !== value)
        throw new Error('Unclosed section "' + openSection[1] + '" at ' + start2);
    } else if (type === "name" || type === "{" || type === "&") {
      nonSpace = true;
    } else if (type === "=") {
      compileTags(value);
    }
  }
  stripSpace();
  openSection = sections.pop();
  if (openSection)
    throw new Error('Unclosed section "' + openSection[1] + '" at ' + scanner.pos);
  return nestTokens(squashTokens(tokens));
}
function squashTokens(tokens) {
  var squashedTokens = [];
  var token, lastToken;
  for (var i = 0, numTokens = tokens.length; i < numTokens; ++i) {
    token = tokens[i];
    if (token) {
      if (token[0] === "text" && lastToken && lastToken[0] === "text") {
        lastToken[1] += token[1];
        lastToken[3] = token[3];
      } else {
        squashedTokens.push(token);
        lastToken = token;
      }
    }
  }
  return squashedTokens;
}
function nestTokens(tokens) {
  var nestedTokens = [];
  var collector = nestedTokens;
  var sections = [];
  var token, section;
  for (var i = 0, numTokens = tokens.length; i < numTokens; ++i) {
    token = tokens[i];
    switch (token[0]) {
      case "#":
      case "^":
        collector.push(token);
        sections.push(token);
        collector = token[4] = [];
        break;
      case "/":
        section = sections.pop();
        section[5] = token[2];
        collector = sections.length > 0 ? sections[sections.length - 1][4] : nestedTokens;
        break;
      default:
        collector.push(token);
    }
  }
  return nestedTokens;
}
function Scanner2(string) {
  this.string = string;
  this.tail = string;
  this.pos = 0;
}
Scanner2.prototype.eos = function eos() {
  return this.tail === "";
};
Scanner2.prototype.scan = function scan(re) {
  var match = this.tail.match(re);
  if (!match || match.index !== 0)
    return "";
  var string = match[0];
  this.tail = this.tail.substring(string.length);
  this.pos += string.length;
  return string;
};
Scanner2.prototype.scanUntil = function scanUntil(re) {
  var index = this.tail.search(re), match;
  switch (index) {
    case -1:
      match = this.tail;
      this.tail = "";
      break;
    case 0:
      match = "";
      break;
    default:
      match = this.tail.substring(0, index);
      this.tail = this.tail.substring(index);
  }
  this.pos += match.length;
  return match;
};
function Context(view2, parentContext) {
  this.view = view2;
  this.cache = { ".": this.view };
  this.parent = parentContext;
}
Context.prototype.push = function push(view2) {
  return new Context(view2, this);
};
Context.prototype.lookup = function lookup(name) {
  var cache = this.cache;
  var value;
  if (cache.hasOwnProperty(name)) {
    value = cache[name];
  } else {
    var context = this, intermediateValue, names, index, lookupHit = false;
    while (context) {
      if (name.indexOf(".") > 0) {
        intermediateValue = context.view;
        names = name.split(".");
        index = 0;
        while (intermediateValue != null && index < names.length) {
          if (index === names.length - 1)
            lookupHit = hasProperty(intermediateValue, names[index]) || primitiveHasOwnProperty(intermediateValue, names[index]);
          intermediateValue = intermediateValue[names[index++]];
        }
      } else {
        intermediateValue = context.view[name];
        lookupHit = hasProperty(context.view, name);
      }
      if (lookupHit) {
        value = intermediateValue;
        break;
      }
      context = context.parent;
    }
    cache[name] = value;
  }
  if (isFunction(value))
    value = value.call(this.view);
  return value;
};
function Writer() {
  this.templateCache = {
    _cache: {},
    set: function set(key, value) {
      this._cache[key] = value;
    },
    get: function get(key) {
      return this._cache[key];
    },
    clear: function clear() {
      this._cache = {};
    }
  };
}
Writer.prototype.clearCache = function clearCache() {
  if (typeof this.templateCache !== "undefined") {
    this.templateCache.clear();
  }
};
Writer.prototype.parse = function parse(template, tags) {
  var cache = this.templateCache;
  var cacheKey = template + ":" + (tags || mustache.tags).join(":");
  var isCacheEnabled = typeof cache !== "undefined";
  var tokens = isCacheEnabled ? cache.get(cacheKey) : void 0;
  if (tokens == void 0) {
    tokens = parseTemplate(template, tags);
    isCacheEnabled && cache.set(cacheKey, tokens);
  }
  return tokens;
};
Writer.prototype.render = function render(template, view2, partials, config) {
  var tags = this.getConfigTags(config);
  var tokens = this.parse(template, tags);
  var context = view2 instanceof Context ? view2 : new Context(view2, void 0);
  return this.renderTokens(tokens, context, partials, template, config);
};
Writer.prototype.renderTokens = function renderTokens(tokens, context, partials, originalTemplate, config) {
  var buffer = "";
  var token, symbol, value;
  for (var i = 0, numTokens = tokens.length; i < numTokens; ++i) {
    value = void 0;
    token = tokens[i];
    symbol = token[0];
    if (symbol === "#") value = this.renderSection(token, context, partials, originalTemplate, config);
    else if (symbol === "^") value = this.renderInverted(token, context, partials, originalTemplate, config);
    else if (symbol === ">") value = this.renderPartial(token, context, partials, config);
    else if (symbol === "&") value = this.unescapedValue(token, context);
    else if (symbol === "name") value = this.escapedValue(token, context, config);
    else if (symbol === "text") value = this.rawValue(token);
    if (value !== void 0)
      buffer += value;
  }
  return buffer;
};
Writer.prototype.renderSection = function renderSection(token, context, partials, originalTemplate, config) {
  var self = this;
  var buffer = "";
  var value = context.lookup(token[1]);
  function subRender(template) {
    return self.render(template, context, partials, config);
  }
  if (!value) return;
  if (isArray(value)) {
    for (var j = 0, valueLength = value.length; j < valueLength; ++j) {
      buffer += this.renderTokens(token[4], context.push(value[j]), partials, originalTemplate, config);
    }
  } else if (typeof value === "object" || typeof value === "string" || typeof value === "number") {
    buffer += this.renderTokens(token[4], context.push(value), partials, originalTemplate, config);
  } else if (isFunction(value)) {
    if (typeof originalTemplate !== "string")
      throw new Error("Cannot use higher-order sections without the original template");
    value = value.call(context.view, originalTemplate.slice(token[3], token[5]), subRender);
    if (value != null)
      buffer += value;
  } else {
    buffer += this.renderTokens(token[4], context, partials, originalTemplate, config);
  }
  return buffer;
};
Writer.prototype.renderInverted = function renderInverted(token, context, partials, originalTemplate, config) {
  var value = context.lookup(token[1]);
  if (!value || isArray(value) && value.length === 0)
    return this.renderTokens(token[4], context, partials, originalTemplate, config);
};
Writer.prototype.indentPartial = function indentPartial(partial, indentation, lineHasNonSpace) {
  var filteredIndentation = indentation.replace(/[^ \t]/g, "");
  var partialByNl = partial.split("\n");
  for (var i = 0; i < partialByNl.length; i++) {
    if (partialByNl[i].length && (i > 0 || !lineHasNonSpace)) {
      partialByNl[i] = filteredIndentation + partialByNl[i];
    }
  }
  return partialByNl.join("\n");
};
Writer.prototype.renderPartial = function renderPartial(token, context, partials, config) {
  if (!partials) return;
  var tags = this.getConfigTags(config);
  var value = isFunction(partials) ? partials(token[1]) : partials[token[1]];
  if (value != null) {
    var lineHasNonSpace = token[6];
    var tagIndex = token[5];
    var indentation = token[4];
    var indentedValue = value;
    if (tagIndex == 0 && indentation) {
      indentedValue = this.indentPartial(value, indentation, lineHasNonSpace);
    }
    var tokens = this.parse(indentedValue, tags);
    return this.renderTokens(tokens, context, partials, indentedValue, config);
  }
};
Writer.prototype.unescapedValue = function unescapedValue(token, context) {
  var value = context.lookup(token[1]);
  if (value != null)
    return value;
};
Writer.prototype.escapedValue = function escapedValue(token, context, config) {
  var escape = this.getConfigEscape(config) || mustache.escape;
  var value = context.lookup(token[1]);
  if (value != null)
    return typeof value === "number" && escape === mustache.escape ? String(value) : escape(value);
};
Writer.prototype.rawValue = function rawValue(token) {
  return token[1];
};
Writer.prototype.getConfigTags = function getConfigTags(config) {
  if (isArray(config)) {
    return config;
  } else if (config && typeof config === "object") {
    return config.tags;
  } else {
    return void 0;
  }
};
Writer.prototype.getConfigEscape = function getConfigEscape(config) {
  if (config && typeof config === "object" && !isArray(config)) {
    return config.escape;
  } else {
    return void 0;
  }
};
var mustache = {
  name: "mustache.js",
  version: "4.2.0",
  tags: ["{{", "}}"],
  clearCache: void 0,
  escape: void 0,
  parse: void 0,
  render: void 0,
  Scanner: void 0,
  Context: void 0,
  Writer: void 0,
  /**
   * Allows a user to override the default caching strategy, by providing an
   * object with set, get and clear methods. This can also be used to disable
   * the cache by setting it to the literal `undefined`.
   */
  set templateCache(cache) {
    defaultWriter.templateCache = cache;
  },
  /**
   * Gets the default or overridden caching object from the default writer.
   */
  get templateCache() {
    return defaultWriter.templateCache;
  }
};
var defaultWriter = new Writer();
mustache.clearCache = function clearCache2() {
  return defaultWriter.clearCache();
};
mustache.parse = function parse2(template, tags) {
  return defaultWriter.parse(template, tags);
};
mustache.render = function render2(template, view2, partials, config) {
  if (typeof template !== "string") {
    throw new TypeError('Invalid template! Template should be a "string" but "' + typeStr(template) + '" was given as the first argument for mustache#render(template, view, partials)');
  }
  return defaultWriter.render(template, view2, partials, config);
};
mustache.escape = escapeHtml;
mustache.Scanner = Scanner2;
mustache.Context = Context;
mustache.Writer = Writer;
var mustache_default = mustache;

// src/core/routeros-string.ts
function escapeRouterOsString(value) {
  if (!/[\\"$\x00-\x1f\x7f]/.test(value)) return value;
  let out = "";
  for (const ch of value) {
    const c = ch.charCodeAt(0);
    if (ch === "\\" || ch === '"' || ch === "$") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "	") out += "\\t";
    else if (c < 32 || c === 127) out += `\\${c.toString(16).toUpperCase().padStart(2, "0")}`;
    else out += ch;
  }
  return out;
}

// src/core/template.ts
var TAGS = ["${{", "}}"];
var OPEN = TAGS[0];
var ESCAPED_OPEN = "\\${{";
var ESCAPE_SENTINEL = "\0\0\0\0";
mustache_default.templateCache = void 0;
function secretPlaceholder(name) {
  return `<secret:${name}>`;
}
function compileTemplate(source) {
  if (!source.includes(OPEN)) return { templated: false, refs: [], problems: [] };
  const prepared = source.split(ESCAPED_OPEN).join(ESCAPE_SENTINEL);
  if (!prepared.includes(OPEN)) return { templated: true, refs: [], problems: [], prepared };
  const lines = lineStarts(source);
  const at = (offset) => position(lines, offset);
  let tokens;
  try {
    tokens = mustache_default.parse(prepared, TAGS);
  } catch (e) {
    const msg = e.message;
    const m = /at (\d+)$/.exec(msg);
    let offset = m ? Number(m[1]) : 0;
    if (/Unclosed tag/.test(msg)) offset = Math.max(0, prepared.lastIndexOf(OPEN, offset));
    const section = /Unclosed section "([^"]*)"/.exec(msg);
    if (section) {
      const name = section[1].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const opens = [...prepared.slice(0, offset + 1).matchAll(new RegExp(`\\$\\{\\{\\s*[#^]\\s*${name}\\s*\\}\\}`, "g"))];
      if (opens.length) offset = opens[opens.length - 1].index;
    }
    const p = at(offset);
    const unclosedSection = /Unclosed section "([^"]*)"/.exec(msg);
    const unopened = /Unopened section "([^"]*)"/.exec(msg);
    return {
      templated: true,
      refs: [],
      problems: [
        {
          ...p,
          message: unclosedSection ? `the section \${{#${unclosedSection[1]}}} is never closed` : unopened ? `\${{/${unopened[1]}}} closes a section that was not opened` : /Unclosed tag/.test(msg) ? 'a template tag "${{" is not closed with "}}"' : `the template is malformed: ${msg}`,
          hint: unclosedSection ? `end it with \${{/${unclosedSection[1]}}}` : 'write ${{ vars.NAME }}; to send a literal "${{" to the router, write "\\${{"'
        }
      ]
    };
  }
  const refs = [];
  const problems = [];
  const walk = (list) => {
    for (const t of list) {
      const [type, value, start2] = t;
      if (type === "text" || type === "!") continue;
      const p = at(start2);
      if (type === ">" || type === "=") {
        problems.push({
          ...p,
          message: `"\${{${type}" (${type === ">" ? "partials" : "changing delimiters"}) is not supported`,
          hint: "use ${{ vars.NAME }} or ${{ secrets.NAME }}"
        });
        continue;
      }
      const ref = parseRef(value);
      if (ref && type === "&") ref.raw = true;
      if (!ref) {
        problems.push({
          ...p,
          message: `"\${{ ${value} }}" is not a variable reference`,
          hint: "write ${{ vars.NAME }}, ${{ secrets.NAME }}, ${{ site.name }} or ${{ site.id }}"
        });
      } else refs.push({ ...ref, ...p });
      if (t[4]) walk(t[4]);
    }
  };
  walk(tokens);
  return { templated: true, refs, problems, prepared, tokens };
}
function parseRef(value) {
  const m = /^(vars|secrets|site)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(value.trim());
  if (!m) return void 0;
  const kind = m[1];
  if (kind === "site" && m[2] !== "name" && m[2] !== "id") return void 0;
  return { kind, name: m[2] };
}
function sourcePosition(source, rendered, line, column) {
  const pieces = rendered.pieces;
  if (!pieces?.length) return { line, column };
  const offset = (lineStarts(rendered.text)[line - 1] ?? 0) + Math.max(0, column - 1);
  let lo = 0;
  let hi = pieces.length - 1;
  while (lo < hi) {
    const mid = lo + hi + 1 >> 1;
    if (pieces[mid][0] <= offset) lo = mid;
    else hi = mid - 1;
  }
  const [at, from, value] = pieces[lo];
  return position(lineStarts(source), value ? from : from + (offset - at));
}
function piecesOf(parts) {
  const pieces = [];
  let length = 0;
  for (const p of parts) {
    pieces.push([length, p.at, !("text" in p)]);
    length += "text" in p ? p.text.length : p.value.length;
  }
  return pieces;
}
var SLOT_TAG = "${{}}";
function renderTemplate(source, compiled, ctx) {
  if (!compiled.templated || !compiled.prepared) return { text: source, problems: [] };
  if (!compiled.tokens) return { text: restoreEscapes(compiled.prepared), problems: [] };
  const parts = [];
  collect(compiled.tokens, ctx, parts);
  let skeleton = "";
  const slotAt = [];
  for (const p of parts) {
    if ("text" in p) skeleton += p.text;
    else if (p.raw) skeleton += p.value;
    else {
      slotAt.push(skeleton.length);
      skeleton += SLOT_TAG;
    }
  }
  if (!slotAt.length) return { text: restoreEscapes(skeleton), problems: [], pieces: piecesOf(parts) };
  const contexts = contextsOf(compiled, skeleton);
  const lines = lineStarts(source);
  const problems = [];
  let out = "";
  let k = 0;
  const pieces = [];
  for (const p of parts) {
    pieces.push([out.length, p.at, !("text" in p)]);
    if ("text" in p) out += p.text;
    else if (p.raw) out += p.value;
    else {
      const context = contexts.get(slotAt[k++]) ?? "code";
      const placed = placeValue(p.value, context);
      if (placed === null) problems.push({ kind: p.kind, name: p.name, ...position(lines, p.at), context, value: p.value });
      out += placed ?? p.value;
    }
  }
  return { text: restoreEscapes(out), problems, pieces };
}
function placeValue(value, context) {
  if (context === "string") return escapeRouterOsString(value);
  if (context === "code-string") return PLAIN_WORD.test(value) ? value : null;
  if (context === "comment") return /[\x00-\x1f\x7f\\]/.test(value) ? null : value;
  return PLAIN_WORD.test(value) ? value : null;
}
var PLAIN_WORD = /^[A-Za-z0-9._\-/:,]*$/;
var CODE_ARG = /^(?:source|script|on-[a-z-]+|[a-z-]+-script|[a-z-]+-event)=/;
var CODE_COMMANDS = /* @__PURE__ */ new Set([":execute", ":parse"]);
var SETTERS = /* @__PURE__ */ new Set([":local", ":global", ":set"]);
function codeRanges(skeleton, statements) {
  const ranges = [];
  const assigned = [];
  const walk = (list) => {
    for (const st of list) {
      const [first, second, third] = st.args;
      const last = st.args[st.args.length - 1];
      if (first && second && CODE_COMMANDS.has(first.text)) ranges.push([second.start, last.end]);
      if (first && second && third && SETTERS.has(first.text)) assigned.push({ name: second.text, range: [third.start, last.end] });
      for (const arg of st.args) {
        if (CODE_ARG.test(arg.text)) ranges.push([arg.start, arg.end]);
        for (const g of arg.groups) walk(g.statements);
      }
    }
  };
  walk(statements);
  const code = ranges.map(([s, e]) => skeleton.slice(s, e));
  for (const { name, range } of assigned) if (code.some((t) => t.includes(`$${name}`) || t.includes(`$"${name}"`))) ranges.push(range);
  return ranges;
}
function contextsOf(compiled, skeleton) {
  if (compiled.lastScan?.skeleton === skeleton) return compiled.lastScan.contexts;
  const contexts = /* @__PURE__ */ new Map();
  const scan2 = scanScript(skeleton);
  const code = codeRanges(skeleton, scan2.statements);
  const inCode = (at) => code.some(([s, e]) => at >= s && at < e);
  for (const t of scan2.templateTags) contexts.set(t.offset, t.context === "string" && inCode(t.offset) ? "code-string" : t.context);
  compiled.lastScan = { skeleton, contexts };
  return contexts;
}
function collect(tokens, ctx, out) {
  for (const t of tokens) {
    const [type, value, start2] = t;
    if (type === "text") out.push({ text: value, at: start2 });
    else if (type === "name" || type === "&") {
      const ref = parseRef(value);
      if (!ref) continue;
      const v = lookup2(ctx, ref);
      out.push({ kind: ref.kind, name: ref.name, value: v === void 0 || v === null ? "" : String(v), raw: type === "&", at: start2 });
    } else if (type === "#" || type === "^") {
      const ref = parseRef(value);
      const v = ref ? lookup2(ctx, ref) : void 0;
      if (!!v === (type === "#") && t[4]) collect(t[4], ctx, out);
    }
  }
}
function lookup2(ctx, ref) {
  if (ref.kind === "vars") return ctx.vars[ref.name];
  if (ref.kind === "secrets") return ctx.secrets[ref.name];
  return ref.name === "name" ? ctx.site.name : ref.name === "id" ? ctx.site.id : void 0;
}
function restoreEscapes(text) {
  return text.includes(ESCAPE_SENTINEL) ? text.split(ESCAPE_SENTINEL).join(ESCAPED_OPEN) : text;
}
function lineStarts(text) {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}
function position(starts, offset) {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = lo + hi + 1 >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}

// src/core/checks.ts
function createChecks(loadTree) {
  const targets = /* @__PURE__ */ new Map();
  const commandTarget = (target) => {
    const version = targetVersion(target);
    const key = `${version ?? ""}\0${target?.packages?.join(",") ?? "*"}`;
    if (targets.has(key)) return targets.get(key);
    const parsed = version === void 0 ? void 0 : parseRouterOsVersion(version);
    const resolved2 = version !== void 0 && !parsed ? void 0 : routerOsTarget(loadTree(), parsed, target?.packages).target;
    targets.set(key, resolved2);
    return resolved2;
  };
  return {
    lintHook: (text, rules, ctx) => lintScript(text, { rules, rawValues: ctx?.raw, routeros: commandTarget(ctx?.target) }),
    commandTarget,
    lintFiles: (files, cwd, read, target) => lintFiles(files, cwd, read, commandTarget(target))
  };
}
async function lintFiles(files, cwd, read, routeros2) {
  const out = [];
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for (const f of files) {
    const abs = resolve(cwd, f);
    const path2 = relative(cwd, abs) || f;
    let buf;
    try {
      buf = await read(abs);
    } catch (e) {
      out.push(fileError(path2, `cannot read the file (${e.code ?? "error"})`));
      continue;
    }
    if (buf.includes(0)) {
      out.push(fileError(path2, "contains a NUL byte: it is a binary file, not a RouterOS script"));
      continue;
    }
    let text;
    try {
      text = decoder.decode(buf);
    } catch {
      out.push({ path: path2, line: 0, column: 0, level: "error", severity: "error", rule: "input", message: "is not valid UTF-8" });
      continue;
    }
    const source = text.replace(/^\uFEFF/, "");
    const raw = source.includes("${{") ? compileTemplate(source).refs.filter((r) => r.raw) : [];
    for (const f2 of lintScript(source, { rawValues: raw, routeros: routeros2 })) out.push({ path: path2, ...f2 });
  }
  return out;
}
function fileError(path2, message) {
  return { path: path2, line: 0, column: 0, level: "error", severity: "error", rule: "input", message };
}

// src/assets/command-data.ts
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
var DATA_FILE = "routeros-commands.json";
var cached2;
function commandDataPath() {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 3; up++) {
    const candidate = join(dir, "..", "data", DATA_FILE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return void 0;
}
function loadCommandTree() {
  if (cached2) return cached2;
  const path2 = commandDataPath();
  if (!path2) throw new Error(`the RouterOS command data (data/${DATA_FILE}) is missing from this installation of routeros-gitops; reinstall it`);
  cached2 = new CommandTree(JSON.parse(readFileSync(path2, "utf8")));
  return cached2;
}

// src/core/keys.ts
import { createHash, createHmac, hash, scryptSync } from "node:crypto";
var KEY_NAMESPACE = "5f0d6a3e-8f0e-4c1b-9b7a-2d3c4e5f6a7b";
function sha256(data) {
  return hash("sha256", data, "hex");
}
function fingerprint(body, secretDigests = {}) {
  const names = Object.keys(secretDigests).sort();
  if (!names.length) return `sha256:${sha256(body)}`;
  const h = createHash("sha256").update(body);
  for (const n of names) h.update(`\0${n}=${secretDigests[n] ?? "?"}`);
  return `sha256:${h.digest("hex")}`;
}
var namespaceBytes = (ns) => Buffer.from(ns.replace(/-/g, ""), "hex");
var NS = namespaceBytes(KEY_NAMESPACE);
var derivedKey;
function stretched(secretsKey) {
  if (!derivedKey || derivedKey.source !== secretsKey) {
    derivedKey = { source: secretsKey, key: scryptSync(secretsKey, "routeros-gitops:secrets", 32) };
  }
  return derivedKey.key;
}
function secretDigest(name, value, secretsKey) {
  return createHmac("sha256", stretched(secretsKey)).update(`${name}\0${value}`).digest("hex").slice(0, 32);
}

// src/core/model.ts
init_settings();
import { posix } from "node:path";
var noSecrets = { get: () => void 0, values: () => [], digestKey: void 0, identity: () => "" };
function join2(...parts) {
  return posix.join(...parts.filter((p) => p !== "")).replace(/^\.\/?/, "");
}

// src/core/render-script.ts
function secretStandIn(name) {
  return `secret_${name}`;
}
function renderScript(input) {
  const { text, tpl, site } = input;
  if (!tpl.templated) return { display: text, checked: text, body: text, problems: [], raw: [] };
  const siteRef = { name: site.name, id: site.id };
  const render3 = (value) => renderTemplate(text, tpl, { vars: site.vars, site: siteRef, secrets: Object.fromEntries(input.secrets.map((n) => [n, value(n)])) });
  const display = render3(secretPlaceholder);
  const problems = display.problems.filter((p) => p.kind !== "secrets").map((p) => valueProblem(p, input));
  let checkedRendering = display;
  let body = display.text;
  if (input.secrets.length) {
    checkedRendering = render3(secretStandIn);
    body = void 0;
    if (!input.missing) {
      const real = render3((n) => input.secretValue(n));
      problems.push(...real.problems.filter((p) => p.kind === "secrets").map((p) => valueProblem(p, input)));
      body = real.text;
    }
  }
  const checked = checkedRendering.text;
  const toSource = (line, column) => sourcePosition(text, checkedRendering, line, column);
  return { display: display.text, checked, body, problems, raw: tpl.refs.filter((r) => r.raw), toSource };
}
function valueProblem(p, input) {
  const tag = `${p.kind}.${p.name}`;
  const shown = p.kind === "secrets" ? "" : ` (${JSON.stringify(p.value.length > 40 ? `${p.value.slice(0, 40)}...` : p.value)})`;
  const base = { file: input.path, line: p.line, column: p.column, site: input.site.name };
  if (p.context === "comment") {
    return {
      ...base,
      message: `the value of ${tag}${shown} stands in a # comment and holds a line break, a control character or a backslash, which could end the comment and run the rest as commands`,
      hint: `remove those characters from ${tag}, or move the tag into a "string", where the value is escaped`
    };
  }
  if (p.context === "code-string") {
    return {
      ...base,
      message: `the value of ${tag}${shown} stands in a string that RouterOS runs as a script (a scheduler's on-event, a script's source, an :execute or :parse argument) and is not a plain word (letters, digits and . - _ / : ,): once that string runs, the value would be read as commands`,
      hint: `keep ${tag} to a plain word there, or pass it through a :global set outside the script and read the global inside it`
    };
  }
  return {
    ...base,
    message: `the value of ${tag}${shown} stands outside quotes and is not a plain word (letters, digits and . - _ / : ,): RouterOS would read what follows as commands`,
    hint: `put the tag inside double quotes (name="\${{ ${tag} }}"), where the value is escaped and stays text; if the value is meant to be RouterOS code, write \${{{ ${tag} }}} (raw, flagged by the script checks)`
  };
}

// src/core/render-fleet.ts
init_settings();

// src/core/code-points.ts
var SURROGATE = /[\uD800-\uDFFF]/;
var SURROGATE_PAIRS = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;
function codePointLength(s) {
  return SURROGATE.test(s) ? s.length - (s.match(SURROGATE_PAIRS)?.length ?? 0) : s.length;
}
function hasSurrogates(s) {
  return SURROGATE.test(s);
}

// src/lint/split.ts
var LINE_BREAK = /\r\n?|\n/g;
var STRUCTURAL = /* @__PURE__ */ new Set(["unbalanced-bracket", "unterminated-string", "line-break-in-brackets"]);
function splitScript(text, maxSize, scanned) {
  const size = codePointLength(text);
  if (size <= maxSize) return whole(text, size);
  const scan2 = scanned ?? scanScript(text);
  const broken = scan2.problems.find((p) => STRUCTURAL.has(p.rule));
  if (broken) {
    return { ok: false, line: broken.line, endLine: broken.line, reason: `cannot be split into parts while it has a syntax error here: ${broken.message}` };
  }
  return cut(readLayout(text, scan2.statements, scan2.comments), maxSize);
}
function whole(text, size) {
  const breaks = text.match(LINE_BREAK)?.length ?? 0;
  const lastLine = breaks + (text === "" || /[\r\n]$/.test(text) ? 0 : 1);
  return { ok: true, parts: [{ text, size, firstLine: 1, lastLine: Math.max(1, lastLine), restated: [] }] };
}
function readLayout(text, statements, comments) {
  const { start: start2, cpBefore, n, eol, continued } = lineTable(text);
  const causes = [];
  for (const st of statements) if (st.endLine > st.line) causes.push({ kind: "command", line: st.line, end: st.endLine });
  for (const k of continued) causes.push({ kind: "continuation", line: k, end: k + 1 });
  const { decls, globalsOn } = readVariables(text, statements, start2, causes);
  const afterComment = new Uint8Array(n + 2);
  const acks = readComments(text, comments, start2, statements[0]?.line ?? n + 1, afterComment, causes);
  const stmtFrom = new Int32Array(n + 2);
  for (let L = 1, i = 0; L <= n + 1; L++) {
    while (i < statements.length && statements[i].line < L) i++;
    stmtFrom[L] = i;
  }
  const menuBefore = [];
  const ownMenu = new Uint8Array(statements.length);
  let current = TOP;
  statements.forEach((st, i) => {
    menuBefore.push(current);
    if (resolveStatement(st, current) !== NAVIGATE) return;
    current = resolved.menu;
    const first = st.args[0];
    ownMenu[i] = first.source.charCodeAt(first.start) === 47 ? 1 : 0;
  });
  menuBefore.push(current);
  const contentFrom = new Int32Array(n + 2);
  const nonBlank = /\S/g;
  for (let L = 1, at = -1, line = 0; L <= n + 1; L++) {
    if (at < start2[L]) {
      nonBlank.lastIndex = start2[L];
      at = nonBlank.exec(text)?.index ?? text.length;
      line = at >= text.length ? n + 1 : lineOf(start2, n, at);
    }
    contentFrom[L] = line;
  }
  return {
    text,
    eol,
    n,
    start: start2,
    cpBefore,
    cause: assignCauses(causes, n),
    causes,
    afterComment,
    stmtFrom,
    contentFrom,
    menuBefore,
    ownMenu,
    acks,
    decls,
    globalsOn
  };
}
function lineTable(text) {
  const len = text.length;
  const starts = [0, 0];
  const continued = [];
  const crOnly = /\r(?!\n)/.test(text);
  const breaks = crOnly ? text.matchAll(LINE_BREAK) : void 0;
  for (let at = crOnly ? -1 : text.indexOf("\n"); ; ) {
    let from;
    let next;
    if (breaks) {
      const m = breaks.next();
      if (m.done) break;
      from = m.value.index;
      next = from + m.value[0].length;
    } else {
      if (at < 0) break;
      from = at > 0 && text.charCodeAt(at - 1) === 13 ? at - 1 : at;
      next = at + 1;
      at = text.indexOf("\n", next);
    }
    if (from > 0 && text.charCodeAt(from - 1) === 92 && next < len) continued.push(starts.length - 1);
    if (next < len) starts.push(next);
  }
  starts.push(len);
  const start2 = Int32Array.from(starts);
  const cpBefore = Int32Array.from(starts);
  if (hasSurrogates(text)) {
    let pairs = 0;
    let k = 1;
    for (const m of text.matchAll(SURROGATE_PAIRS)) {
      while (k < start2.length && start2[k] <= m.index) cpBefore[k] = start2[k++] - pairs;
      pairs++;
    }
    while (k < start2.length) cpBefore[k] = start2[k++] - pairs;
  }
  const eol = /\r\n?|\n/.exec(text)?.[0] ?? "\n";
  return { start: start2, cpBefore, n: starts.length - 2, eol, continued };
}
function contentEnd(text, start2, k) {
  let e = start2[k + 1];
  if (e > start2[k] && text.charCodeAt(e - 1) === 10) e--;
  if (e > start2[k] && text.charCodeAt(e - 1) === 13) e--;
  return e;
}
function lineOf(start2, n, o) {
  let lo = 1;
  let hi = n;
  while (lo < hi) {
    const mid = lo + hi + 1 >> 1;
    if (start2[mid] <= o) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
function assignCauses(causes, n) {
  const cause = new Int32Array(n + 2);
  const order = causes.map((_, i) => i).sort((x, y) => causes[x].line - causes[y].line);
  let filled = 1;
  for (const i of order) {
    const c = causes[i];
    for (let L = Math.max(c.line + 1, filled + 1); L <= Math.min(c.end, n); L++) cause[L] = i + 1;
    filled = Math.max(filled, c.end);
  }
  return cause;
}
var DECLARE = /* @__PURE__ */ new Set([":local", "local", ":global", "global"]);
var USE = /\$(?:(?="((?:[^"\\\r\n]|\\.)*)")|([A-Za-z0-9_][A-Za-z0-9_.-]*))|(?<![A-Za-z0-9_:/-]):?set[ \t]+(?:(?="((?:[^"\\\r\n]|\\.)*)")|([A-Za-z0-9_][A-Za-z0-9_.-]*)(?![=A-Za-z0-9_.-]))/g;
function readVariables(text, statements, start2, causes) {
  const decls = [];
  const byName = /* @__PURE__ */ new Map();
  for (const st of statements) {
    const [verb, nameArg] = st.args;
    if (!nameArg || !DECLARE.has(verb.text)) continue;
    const spelt = nameArg.text.split("=")[0];
    const name = spelt.startsWith('"') ? spelt.replace(/^"|"$/g, "") : spelt;
    if (!name) continue;
    const last = st.args[st.args.length - 1];
    const d = {
      global: verb.text.endsWith("global"),
      name,
      restate: `:global ${spelt}`,
      line: st.line,
      endLine: st.endLine,
      from: verb.start,
      to: last.end,
      lastUse: -1
    };
    byName.set(name, [...byName.get(name) ?? [], decls.push(d) - 1]);
  }
  const globalsOn = /* @__PURE__ */ new Map();
  if (decls.length === 0) return { decls, globalsOn };
  const n = start2.length - 2;
  for (const m of text.matchAll(USE)) {
    const o = m.index;
    const used = m[1] ?? m[2] ?? m[3] ?? m[4] ?? "";
    for (let cut2 = 0; cut2 <= used.length; cut2++) {
      if (cut2 < used.length && used[cut2] !== "-" && used[cut2] !== ".") continue;
      const list = byName.get(used.slice(0, cut2));
      if (!list) continue;
      let k = list.length - 1;
      while (k >= 0 && decls[list[k]].from > o) k--;
      if (k < 0) continue;
      const d = decls[list[k]];
      if (o < d.to) continue;
      if (!d.global) d.lastUse = Math.max(d.lastUse, o);
      else {
        const line = lineOf(start2, n, o);
        const on = globalsOn.get(line) ?? [];
        if (!on.includes(list[k])) on.push(list[k]);
        globalsOn.set(line, on);
      }
    }
  }
  for (const d of decls) {
    if (d.global || d.lastUse < 0) continue;
    const u = lineOf(start2, n, d.lastUse);
    if (u > d.endLine) causes.push({ kind: "local", line: d.line, end: u, name: d.name });
  }
  return { decls, globalsOn };
}
function readComments(text, comments, start2, firstStatementLine, afterComment, causes) {
  const acks = [];
  let runLast = -1;
  let firstAck = 0;
  const closeRun = () => {
    if (firstAck) causes.push({ kind: "acknowledgement", line: firstAck, end: runLast + 1 });
  };
  for (const c of comments) {
    if (!c.ownLine) continue;
    afterComment[c.line + 1] = 1;
    if (c.line !== runLast + 1) {
      closeRun();
      firstAck = 0;
    }
    runLast = c.line;
    if (!MARK.test(c.text)) continue;
    if (c.line < firstStatementLine) acks.push({ line: c.line, text: text.slice(start2[c.line], contentEnd(text, start2, c.line)) });
    else firstAck ||= c.line;
  }
  closeRun();
  return acks;
}
function fixedPrologue(l, a) {
  if (a === 1) return { acks: [], menu: void 0, size: 0 };
  const i = l.stmtFrom[a];
  const m = l.menuBefore[i];
  const menu = m !== TOP && !(i < l.ownMenu.length && l.ownMenu[i]) ? showPath(m.path) : void 0;
  const acks = l.acks.filter((c) => c.line < a).map((c) => c.text);
  let size = 0;
  for (const s of acks) size += codePointLength(s) + l.eol.length;
  if (menu) size += menu.length + l.eol.length;
  return { acks, menu, size };
}
function addGlobals(l, line, a, into) {
  const on = l.globalsOn.get(line);
  if (!on) return 0;
  let added = 0;
  for (const g of on) {
    const d = l.decls[g];
    if (d.line >= a || into.has(d.name)) continue;
    into.set(d.name, d.restate);
    added += codePointLength(d.restate) + l.eol.length;
  }
  return added;
}
function canEndAt(l, a, L) {
  if (L > l.n) return true;
  return l.cause[L] === 0 && l.contentFrom[a] < L && l.contentFrom[L] <= l.n;
}
function cut(l, max) {
  const parts = [];
  for (let a = 1; a <= l.n; ) {
    const fixed = fixedPrologue(l, a);
    const globals = /* @__PURE__ */ new Map();
    let size = fixed.size;
    let best = 0;
    let clean = 0;
    for (let L = a + 1; L <= l.n + 1; L++) {
      size += addGlobals(l, L - 1, a, globals) + l.cpBefore[L] - l.cpBefore[L - 1];
      if (size > max) break;
      if (!canEndAt(l, a, L)) continue;
      best = L;
      if (L > l.n || !l.afterComment[L]) clean = L;
    }
    const end = clean || best;
    if (end === 0) return refuse(l, a, max);
    const used = /* @__PURE__ */ new Map();
    let globalsSize = 0;
    for (let k = a; k < end; k++) globalsSize += addGlobals(l, k, a, used);
    const restated = [...fixed.acks, ...used.values(), ...fixed.menu ? [fixed.menu] : []];
    const body = l.text.slice(l.start[a], l.start[end]);
    parts.push({
      text: restated.length ? restated.map((s) => s + l.eol).join("") + body : body,
      size: fixed.size + globalsSize + l.cpBefore[end] - l.cpBefore[a],
      firstLine: a,
      lastLine: end - 1,
      restated
    });
    a = end;
  }
  return { ok: true, parts };
}
function refuse(l, a, max) {
  let free = a + 1;
  while (!canEndAt(l, a, free)) free++;
  const e = free - 1;
  const fixed = fixedPrologue(l, a);
  let restated = fixed.size;
  const globals = /* @__PURE__ */ new Map();
  for (let k = a; k < free; k++) restated += addGlobals(l, k, a, globals);
  const size = restated + l.cpBefore[free] - l.cpBefore[a];
  const seen = /* @__PURE__ */ new Set();
  for (let L = a + 1; L < free; L++) if (l.cause[L]) seen.add(l.cause[L] - 1);
  const tied = [...seen].map((i) => l.causes[i]);
  const span = (c2) => c2.end - c2.line;
  const widest = (kind) => tied.filter((c2) => c2.kind === kind).sort((x, y) => span(y) - span(x))[0];
  const c = widest("local") ?? widest("command") ?? widest("acknowledgement") ?? widest("continuation");
  const what = a === e ? `line ${a}` : `lines ${a}-${e}`;
  const counted = restated ? ` (${restated} of them restated from earlier parts)` : "";
  const head = `${what} must go in one job and come to ${size} characters${counted}, over the limit of ${max}`;
  if (!c) {
    const why2 = a === e ? "a part breaks only between lines, and this one line is over the limit. If it holds several commands (joined with ;), put them on lines of their own; if it is one command (a long /system script source=...), shorten it or raise max_script_size in routeros-gitops.yaml if your SDX accepts longer scripts" : "a part is never made of blank lines alone (the API refuses an empty script). Remove some of the blank lines";
    return { ok: false, line: a, endLine: e, reason: `${head}: ${why2}.` };
  }
  let why;
  switch (c.kind) {
    case "local":
      why = `the local variable $${c.name} declared on line ${c.line} is still used on line ${c.end}, and a :local lives only as long as its job. Declare it with :global instead (each part declares again the globals it uses), or use it nearer to where it is declared`;
      break;
    case "command":
      why = `the command on lines ${c.line}-${c.end} cannot be split: a part never breaks inside a command, a { } block or a string. Break it into smaller commands`;
      break;
    case "acknowledgement":
      why = `the acknowledgement comment on line ${c.line} stays with the command below it, on line ${c.end}`;
      break;
    default:
      why = `line ${c.line} ends with \\ and continues on line ${c.end}`;
  }
  return { ok: false, line: c.line, endLine: e, reason: `${head}: ${why}.` };
}

// src/core/render-fleet.ts
var MAX_SCRIPT_BYTES = 4 * 1024 * 1024;
var BlobTexts = class _BlobTexts {
  constructor(blobs2) {
    this.blobs = blobs2;
  }
  blobs;
  compiled = /* @__PURE__ */ new Map();
  uses = /* @__PURE__ */ new Map();
  decoder = new TextDecoder("utf-8", { fatal: true });
  static async read(reader, toRead) {
    const blobs2 = await reader.readBlobs([...new Set(toRead.filter((s) => !tooLarge(s)).map((s) => s.blob))]);
    const t = new _BlobTexts(blobs2);
    for (const s of toRead) t.uses.set(s.blob, (t.uses.get(s.blob) ?? 0) + 1);
    return t;
  }
  /** The script's text and template, or why it cannot be one; its blob is let go after its last use. */
  take(src) {
    let result = this.compiled.get(src.blob);
    if (!result) {
      result = this.decode(src);
      this.compiled.set(src.blob, result);
    }
    const left = (this.uses.get(src.blob) ?? 1) - 1;
    this.uses.set(src.blob, left);
    if (left <= 0) this.compiled.delete(src.blob);
    return "file" in result ? { ...result, file: src.path } : result;
  }
  decode(src) {
    const buf = this.blobs.get(src.blob);
    if (tooLarge(src) || !buf) {
      return {
        file: src.path,
        message: `is ${src.size} bytes, over the largest script read (${MAX_SCRIPT_BYTES} bytes)`,
        hint: "split it into several scripts"
      };
    }
    if (buf.includes(0))
      return {
        file: src.path,
        ...firstNul(buf),
        message: "contains a NUL byte: it is a binary file, not a RouterOS script",
        hint: "commit the script as text"
      };
    let text;
    try {
      text = this.decoder.decode(buf);
    } catch {
      return { file: src.path, ...firstBadUtf8(buf), message: "is not valid UTF-8", hint: "save the file as UTF-8" };
    }
    this.blobs.delete(src.blob);
    if (text.charCodeAt(0) === 65279) text = text.slice(1);
    if (!/\S/.test(text)) return { file: src.path, message: "is empty", hint: "add commands, or delete the file" };
    return { text, tpl: compileTemplate(text) };
  }
};
var tooLarge = (src) => src.size > MAX_SCRIPT_BYTES;
var NO_PROBLEMS = Object.freeze([]);
var NO_REFS = Object.freeze([]);
var DEFERRED = "deferred";
async function renderChunk(reader, env, chunk, deps) {
  const texts = await BlobTexts.read(
    reader,
    chunk.sites.flatMap((s) => s.site.scripts)
  );
  const out = /* @__PURE__ */ new Map();
  for (const { site, state } of chunk.sites) {
    const r = new SiteRenderer(env, state, site, deps, texts);
    out.set(
      site.id,
      site.scripts.map((src) => r.renderOutcome(src))
    );
  }
  return out;
}
var SiteRenderer = class {
  constructor(env, state, site, deps, texts) {
    this.env = env;
    this.site = site;
    this.deps = deps;
    this.texts = texts;
    this.state = state && ("records" in state ? state : { site: state.site, records: state.scripts });
  }
  env;
  site;
  deps;
  texts;
  // Most scripts of a site use the same (often no) variables: digest each combination once.
  inputs = /* @__PURE__ */ new Map();
  /** Where the script being rendered records its problems and the variables it names. */
  problems = [];
  varRefs = [];
  state;
  /** One script's outcome; DEFERRED when it uses secrets and this thread has none. */
  renderOutcome(src) {
    this.problems = NO_PROBLEMS;
    this.varRefs = NO_REFS;
    const script = this.render(src);
    if (script === DEFERRED) return DEFERRED;
    return { script, problems: this.problems, varRefs: this.varRefs };
  }
  problem(...p) {
    if (this.problems === NO_PROBLEMS) this.problems = [];
    this.problems.push(...p);
  }
  /** One script, or null when it has a problem (recorded in this.problems). */
  render(src) {
    const { site } = this;
    const content = this.texts.take(src);
    if ("file" in content) {
      this.problem({ ...content, site: site.name });
      return null;
    }
    const uses = this.usesOf(src, content.tpl);
    if (!uses) return null;
    const secrets = this.deps.secrets;
    if (secrets === DEFERRED) {
      if (uses.secrets.length) return DEFERRED;
    }
    const sources = secrets === DEFERRED ? noSecrets : secrets;
    const record = this.state?.records[src.file];
    if (this.secretLeftBehind(src, uses, sources)) return null;
    const digests = uses.secrets.length ? digestsFor(site, uses.secrets, sources, record) : NO_DIGESTS;
    const rendered = renderScript({
      text: content.text,
      tpl: content.tpl,
      path: src.path,
      site,
      secrets: uses.secrets,
      secretValue: (n) => sources.get(site.name, n),
      missing: digests.missing.length > 0
    });
    if (rendered.problems.length) {
      this.problem(...rendered.problems);
      return null;
    }
    const { display, body } = rendered;
    const fp = fingerprint(display, digests.digests);
    const resumeMax = record?.part?.max !== void 0 && record.phase !== "succeeded" && record.phase !== "removed" && record.fingerprint === fp ? record.part.max : void 0;
    const maxChars = resumeMax ?? this.env.maxScriptSize;
    const parts = this.partsOf(src, body ?? display, maxChars);
    if (parts === null) return null;
    const inputs = this.inputsOf(uses, digests.digests);
    const checkKey = content.tpl.templated ? `${src.blob}:${inputs}` : src.blob;
    const lint = this.deps.lint;
    const checked = lint ? lint(rendered.checked, site.lintRules, { raw: rendered.raw, target: site.lintTarget, key: checkKey }) : [];
    const toSource = rendered.toSource;
    const findings = toSource && checked.length ? checked.map((f) => ({ ...f, ...toSource(f.line, f.column) })) : checked;
    const unchanged = record !== void 0 && record.fingerprint === fp && record.phase === "succeeded";
    const keep = this.env.keep;
    const keepBody = keep?.body !== false && !unchanged;
    return {
      path: src.path,
      file: src.file,
      blob: src.blob,
      size: src.size,
      group: src.group,
      fingerprint: fp,
      inputs,
      uses,
      secretDigests: digests.digests,
      secretsMissing: digests.missing,
      read: true,
      display: keep?.display === false ? void 0 : display,
      body: keepBody ? body : void 0,
      parts: parts && {
        sizes: parts.map((p) => p.size),
        lines: parts.map((p) => [p.firstLine, p.lastLine]),
        texts: keepBody && body !== void 0 ? parts.map((p) => p.text) : void 0,
        max: maxChars
      },
      findings
    };
  }
  /** The variables and secrets a template uses; null (problems recorded) when it is malformed or a variable is undefined. */
  usesOf(src, tpl) {
    const { site, env } = this;
    let bad = false;
    for (const p of tpl.problems) {
      this.problem({ file: src.path, line: p.line, column: p.column, site: site.name, message: p.message, hint: p.hint });
      bad = true;
    }
    const uses = { vars: [], secrets: [] };
    for (const ref of tpl.refs) {
      if (ref.kind === "vars") {
        if (this.varRefs === NO_REFS) this.varRefs = [];
        this.varRefs.push(ref.name);
        if (!(ref.name in site.vars)) {
          bad = true;
          if (env.varsUnknown) continue;
          this.problem({
            file: src.path,
            line: ref.line,
            column: ref.column,
            site: site.name,
            message: `the variable "${ref.name}" is not defined for site ${site.name}`,
            hint: `define vars.${ref.name} in ${site.settingsFile}, in a group of the site or in ${env.fleetFile ?? join2(env.sitesDir, FLEET_FILE)}`
          });
          bad = true;
        } else if (!uses.vars.includes(ref.name)) uses.vars.push(ref.name);
      } else if (ref.kind === "secrets" && !uses.secrets.includes(ref.name)) uses.secrets.push(ref.name);
    }
    if (bad) return null;
    uses.vars.sort();
    uses.secrets.sort();
    return uses;
  }
  /**
   * The parts the script is sent in: undefined when it fits in one job, null (a problem recorded)
   * when it cannot be split. The limit applies to what is sent, so the body (secrets included) is
   * split when it is known, else the display (secrets as placeholders).
   */
  partsOf(src, sent, maxChars) {
    if (sent.length <= maxChars || codePointLength(sent) <= maxChars) return void 0;
    const split = splitParts(sent, maxChars);
    if (split === void 0) return void 0;
    if ("reason" in split) {
      this.problem({
        file: src.path,
        line: split.line,
        column: 1,
        site: this.site.name,
        message: `renders to ${codePointLength(sent)} characters, over max_script_size (${maxChars}), and cannot be split into jobs: ${split.reason}`,
        hint: `restructure those lines, or raise max_script_size in ${FLEET_FILE} if your SDX accepts longer scripts`
      });
      return null;
    }
    return split;
  }
  /**
   * A renamed site folder whose own secret is still set under its old name: the fleet's value would
   * silently go to its router instead. A problem (recorded), so that nothing is sent.
   */
  secretLeftBehind(src, uses, secrets) {
    const old = this.state?.site;
    const { site } = this;
    if (!old || old === site.name || !secrets.forSite) return false;
    const left = uses.secrets.filter((n) => secrets.forSite(old, n) && !secrets.forSite(site.name, n));
    for (const n of left) {
      this.problem({
        file: src.path,
        site: site.name,
        message: `the site was renamed from ${old} to ${site.name}, and its own value of secret "${n}" is still set for ${old}; the fleet's value would be sent to its router instead`,
        hint: `set the secret for ${site.name} (RGO_SECRET_<SITE>__${n.toUpperCase()} or sites.${site.name} in the secrets file), then remove the one for ${old}`
      });
    }
    return left.length > 0;
  }
  inputsOf(uses, digests) {
    const key = `${uses.vars.join(",")}|${uses.secrets.length ? JSON.stringify(uses.secrets.map((n) => [n, digests[n]])) : ""}`;
    let v = this.inputs.get(key);
    if (v === void 0) this.inputs.set(key, v = inputsDigest(this.site, uses, digests));
    return v;
  }
};
function splitParts(text, maxChars) {
  const r = splitScript(text, maxChars);
  if (!r.ok) return { line: r.line, reason: r.reason };
  return r.parts.length > 1 ? r.parts : void 0;
}
var NO_DIGESTS = Object.freeze({ digests: Object.freeze({}), missing: [] });
function digestsFor(site, names, secrets, record) {
  const digests = {};
  const missing = [];
  for (const n of names) {
    const value = secrets.get(site.name, n);
    if (value === void 0) missing.push(n);
    if (value === void 0 || secrets.digestKey === void 0) digests[n] = record?.secret_digests?.[n] ?? "unknown";
    else digests[n] = secretDigest(n, value, secrets.digestKey);
  }
  return { digests, missing };
}
function inputsDigest(site, uses, digests) {
  const parts = [`site=${site.name}/${site.id}`];
  for (const v of uses.vars) parts.push(`v:${v}=${JSON.stringify(site.vars[v] ?? null)}`);
  for (const s of uses.secrets) parts.push(`s:${s}=${digests[s]}`);
  return sha256(parts.join("\n")).slice(0, 32);
}
function firstNul(buf) {
  const i = buf.indexOf(0);
  const before = buf.subarray(0, i);
  const line = before.toString("latin1").split("\n").length;
  return { line, column: i - before.lastIndexOf(10) };
}
function firstBadUtf8(buf) {
  const lines = buf.toString("latin1").split("\n");
  const decode = new TextDecoder("utf-8", { fatal: true });
  for (let i = 0; i < lines.length; i++) {
    try {
      decode.decode(Buffer.from(lines[i], "latin1"));
    } catch {
      return { line: i + 1 };
    }
  }
  return { line: 1 };
}

// src/git/repo.ts
import { stat } from "node:fs/promises";
import { existsSync as existsSync2 } from "node:fs";
import path from "node:path";

// src/core/errors.ts
function formatProblem(p) {
  const where = p.file + (p.line ? `:${p.line}${p.column ? `:${p.column}` : ""}` : "");
  const site = p.site ? ` (site ${p.site})` : "";
  return `${where}${site}: ${p.message}${p.hint ? `
  hint: ${p.hint}` : ""}`;
}
var InputError = class extends Error {
  problems;
  /** What the problems amount to, in one line, when there is more to say than "the input is invalid" (a refused apply). */
  headline;
  constructor(problems, headline) {
    const list = typeof problems === "string" ? [{ file: "(command line)", message: problems }] : Array.isArray(problems) ? problems : [problems];
    super(list.map(formatProblem).join("\n"));
    this.name = "InputError";
    this.problems = list;
    if (headline) this.headline = headline;
  }
};
var GitError = class extends Error {
  constructor(message, command2, exitCode, options) {
    super(message, options);
    this.command = command2;
    this.exitCode = exitCode;
    this.name = "GitError";
  }
  command;
  exitCode;
};

// src/core/logger.ts
var silentLogger = {
  debug() {
  },
  info() {
  },
  warn() {
  },
  error() {
  }
};

// src/git/run.ts
import { spawn } from "node:child_process";

// src/core/redact.ts
var REDACTED = "***";
var URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*(?:@[^\s/?#@]*)*@/gi;
var AUTH_HEADER = /\b(authorization:\s*(?:basic|bearer|token)\s+)[^\s'"]+/gi;
function redactCredentials(text) {
  let out = text;
  if (out.includes("://") && out.includes("@")) out = out.replace(URL_USERINFO, `$1${REDACTED}@`);
  if (/authorization/i.test(out)) out = out.replace(AUTH_HEADER, `$1${REDACTED}`);
  return out;
}

// src/git/run.ts
var KEPT_VARS = new Set(
  [
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TMPDIR",
    "TMP",
    "TEMP",
    "TZ",
    "XDG_CONFIG_HOME",
    "SSH_AUTH_SOCK",
    "SSH_AGENT_PID",
    "SSH_ASKPASS",
    "DISPLAY",
    "GNUPGHOME",
    "GPG_AGENT_INFO",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CURL_CA_BUNDLE",
    "LD_LIBRARY_PATH",
    // Windows
    "SYSTEMROOT",
    "SYSTEMDRIVE",
    "WINDIR",
    "COMSPEC",
    "PATHEXT",
    "USERPROFILE",
    "HOMEDRIVE",
    "HOMEPATH",
    "APPDATA",
    "LOCALAPPDATA",
    "PROGRAMDATA",
    "PROGRAMFILES"
  ].map((k) => k.toUpperCase())
);
var KEPT_GIT_VARS = /^GIT_(SSH|SSH_COMMAND|SSH_VARIANT|ASKPASS|PROXY_COMMAND|HTTP_PROXY_AUTHMETHOD|SSL_NO_VERIFY|SSL_CAINFO|SSL_CAPATH|SSL_CERT|SSL_KEY|SSL_CERT_PASSWORD_PROTECTED|CONFIG_GLOBAL|CONFIG_NOSYSTEM|CONFIG_COUNT|CONFIG_KEY_\d+|CONFIG_VALUE_\d+|EXEC_PATH|TRACE\w*)$/;
function keptForGit(name) {
  const upper = name.toUpperCase();
  if (upper.startsWith("GIT_")) return KEPT_GIT_VARS.test(upper);
  return KEPT_VARS.has(upper) || upper === "LANG" || upper.startsWith("LC_");
}
function gitEnv(extra = {}, from = process.env) {
  const env = {};
  for (const [k, v] of Object.entries(from)) {
    if (v !== void 0 && keptForGit(k)) env[k] = v;
  }
  return {
    ...env,
    LC_ALL: "C",
    LANG: "C",
    LANGUAGE: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_PAGER: "cat",
    PAGER: "cat",
    GIT_LITERAL_PATHSPECS: "1",
    // Reads must not take the index lock that a concurrent `git status` would otherwise refresh.
    GIT_OPTIONAL_LOCKS: "0",
    ...extra
  };
}
function formatCommand(args) {
  return redactCredentials(["git", ...args].map((a) => /^[\w@%+=:,./^{}-]+$/.test(a) ? a : JSON.stringify(a)).join(" "));
}
function gitError(args, exitCode, stderr, cause) {
  const command2 = formatCommand(args);
  const detail = redactCredentials(stderr).split("\n").map((l) => l.trimEnd()).filter((l) => l !== "").slice(0, 8).join("\n");
  const how = exitCode === null ? "was killed" : `failed (exit ${exitCode})`;
  return new GitError(`${command2} ${how}${detail ? `: ${detail}` : ""}`, command2, exitCode, cause === void 0 ? void 0 : { cause });
}
function spawnGit(args, opts) {
  return spawn("git", ["--no-pager", ...args], { cwd: opts.cwd, env: gitEnv(opts.env), stdio: ["pipe", "pipe", "pipe"], windowsHide: true });
}
function spawnError(args, err, cwd) {
  if (err.code === "ENOENT") {
    return new GitError(`git was not found on PATH (or the directory ${cwd} does not exist); install git 2.30 or later`, formatCommand(args), null, {
      cause: err
    });
  }
  return new GitError(`${formatCommand(args)} could not start: ${err.message}`, formatCommand(args), null, { cause: err });
}
function runGit(args, opts) {
  const started = performance.now();
  return new Promise((resolve2, reject) => {
    const child = spawnGit(args, opts);
    const out = [];
    const err = [];
    let spawnFailure;
    child.stdout.on("data", (b) => out.push(b));
    child.stderr.on("data", (b) => err.push(b));
    child.on("error", (e) => spawnFailure = e);
    child.stdin.on("error", () => {
    });
    child.on("close", (code) => {
      const stderr = Buffer.concat(err).toString("utf8");
      opts.logger?.debug({ command: formatCommand(args), exitCode: code, ms: Math.round(performance.now() - started) }, "git");
      if (spawnFailure) return reject(spawnError(args, spawnFailure, opts.cwd));
      if (code === 0 || code !== null && opts.okCodes?.includes(code)) {
        return resolve2({ stdout: Buffer.concat(out), stderr, exitCode: code ?? 0 });
      }
      reject(gitError(args, code, stderr));
    });
    child.stdin.end(opts.input ?? "");
  });
}
async function gitText(args, opts) {
  const { stdout } = await runGit(args, opts);
  return stdout.toString("utf8").replace(/\n$/, "");
}

// src/git/cat-file.ts
function catFileBatch(names, opts) {
  const wanted = [...new Set(names)];
  if (wanted.length === 0) return Promise.resolve(/* @__PURE__ */ new Map());
  for (const n of wanted) {
    if (n === "" || n.includes("\n")) throw new TypeError(`cannot ask git cat-file for the object name ${JSON.stringify(n)}`);
  }
  const args = ["cat-file", "--batch", "--buffer"];
  const started = performance.now();
  return new Promise((resolve2, reject) => {
    const child = spawnGit(args, opts);
    const parser = new CatFileParser(wanted);
    const err = [];
    let failure;
    let spawnFailure;
    child.stdout.on("data", (chunk) => {
      if (failure) return;
      try {
        parser.push(chunk);
      } catch (e) {
        failure = e;
        child.kill();
      }
    });
    child.stderr.on("data", (b) => err.push(b));
    child.on("error", (e) => spawnFailure = e);
    child.stdin.on("error", () => {
    });
    child.on("close", (code) => {
      const stderr = Buffer.concat(err).toString("utf8");
      opts.logger?.debug({ command: formatCommand(args), objects: wanted.length, exitCode: code, ms: Math.round(performance.now() - started) }, "git");
      if (spawnFailure) return reject(spawnError(args, spawnFailure, opts.cwd));
      if (failure) return reject(gitError(args, code, `${failure.message}
${stderr}`, failure));
      if (code !== 0) return reject(gitError(args, code, stderr));
      if (!parser.complete()) return reject(gitError(args, code, `git cat-file answered ${parser.answered} of ${wanted.length} objects
${stderr}`));
      resolve2(parser.result);
    });
    child.stdin.end(`${wanted.join("\n")}
`);
  });
}
var CatFileParser = class {
  /** @param wanted the names in the order they were asked */
  constructor(wanted) {
    this.wanted = wanted;
  }
  wanted;
  /** Every name asked for, answered so far: the object, or null for a missing one. */
  result = /* @__PURE__ */ new Map();
  /** How many names have been answered. */
  answered = 0;
  state = "header";
  headerParts = [];
  current;
  filled = 0;
  /** Every name answered, and nothing half read. */
  complete() {
    return this.answered === this.wanted.length && this.state === "header";
  }
  push(chunk) {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.state === "header") {
        const nl = chunk.indexOf(10, pos);
        if (nl < 0) {
          this.headerParts.push(chunk.subarray(pos));
          return;
        }
        this.headerParts.push(chunk.subarray(pos, nl));
        pos = nl + 1;
        this.header();
      } else if (this.state === "body") {
        const obj = this.current;
        const n = Math.min(obj.content.length - this.filled, chunk.length - pos);
        chunk.copy(obj.content, this.filled, pos, pos + n);
        this.filled += n;
        pos += n;
        if (this.filled === obj.content.length) this.state = "lf";
      } else {
        if (chunk[pos] !== 10) throw new Error("git cat-file output is out of step (no newline after an object)");
        pos += 1;
        this.answer(this.current);
        this.current = void 0;
        this.state = "header";
      }
    }
  }
  /** A complete header line: an object follows, or the name is missing. */
  header() {
    const header = Buffer.concat(this.headerParts).toString("utf8");
    this.headerParts = [];
    const m = /^([0-9a-f]{40,64}) (\S+) (\d+)$/.exec(header);
    if (!m) {
      this.answer(null);
      return;
    }
    const size = Number(m[3]);
    this.current = { oid: m[1], type: m[2], content: Buffer.allocUnsafe(size) };
    this.filled = 0;
    this.state = size === 0 ? "lf" : "body";
  }
  answer(value) {
    const name = this.wanted[this.answered++];
    if (name === void 0) throw new Error("git cat-file answered more objects than were asked for");
    this.result.set(name, value);
  }
};
function openCatFileSession(opts) {
  const args = ["cat-file", "--batch"];
  let child;
  let broken;
  let current;
  let queue = Promise.resolve();
  const fail = (e) => {
    broken ??= e;
    current?.reject(broken);
    current = void 0;
  };
  const start2 = () => {
    const c = spawnGit(args, opts);
    const err = [];
    c.stdout.on("data", (chunk) => {
      if (!current) return fail(gitError(args, null, "git cat-file answered what was not asked"));
      try {
        current.parser.push(chunk);
      } catch (e) {
        return fail(gitError(args, null, e.message, e));
      }
      if (current.parser.complete()) {
        const done = current;
        current = void 0;
        idle(c, true);
        done.resolve(done.parser.result);
      }
    });
    c.stderr.on("data", (b) => err.push(b));
    c.stdin.on("error", () => {
    });
    c.on("error", (e) => fail(spawnError(args, e, opts.cwd)));
    c.on("close", (code) => {
      child = void 0;
      fail(gitError(args, code, Buffer.concat(err).toString("utf8") || "git cat-file ended"));
    });
    return c;
  };
  const idle = (c, yes) => {
    if (yes) c.unref();
    else c.ref();
    for (const s of [c.stdin, c.stdout, c.stderr]) {
      if (yes) s.unref?.();
      else s.ref?.();
    }
  };
  return {
    read(names) {
      const wanted = [...new Set(names)];
      if (wanted.length === 0) return Promise.resolve(/* @__PURE__ */ new Map());
      for (const n of wanted) {
        if (n === "" || n.includes("\n")) throw new TypeError(`cannot ask git cat-file for the object name ${JSON.stringify(n)}`);
      }
      const batch = queue.then(
        () => new Promise((resolve2, reject) => {
          if (broken) return reject(broken);
          child ??= start2();
          idle(child, false);
          current = { parser: new CatFileParser(wanted), resolve: resolve2, reject };
          child.stdin.write(`${wanted.join("\n")}
`);
        })
      );
      queue = batch.catch(() => {
      });
      return batch;
    },
    close() {
      broken ??= new Error("the git cat-file session is closed");
      child?.stdin.end();
      child = void 0;
    }
  };
}

// src/git/repo.ts
async function openRepo(cwd, options = {}) {
  const logger = options.logger ?? silentLogger;
  const dir = path.resolve(cwd);
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new InputError(`the directory ${dir} does not exist; pass --cwd with the folder of a clone of your configuration repository`);
  const { bare, gitDir, root, objectFormat, shallowPath } = await probeRepo(dir, logger);
  const run = (args, opts = {}) => runGit(args, { ...opts, cwd: root, logger });
  const text = async (args, opts = {}) => (await run(args, opts)).stdout.toString("utf8").replace(/\n$/, "");
  const readObjects = (names) => catFileBatch(names, { cwd: root, logger });
  const readRef = async (ref) => {
    const r = await run(["rev-parse", "--verify", "--quiet", "--end-of-options", ref], { okCodes: [1, 128] });
    return r.exitCode === 0 ? r.stdout.toString("utf8").trim() : null;
  };
  const zeroOid = "0".repeat(objectFormat === "sha256" ? 64 : 40);
  const ctx = { root, zeroOid, shallowFile: path.resolve(dir, shallowPath), run, text, readObjects, readRef };
  return {
    root,
    gitDir,
    bare,
    zeroOid,
    run,
    readObjects,
    resolveCommit: (ref) => resolveCommit(ctx, ref),
    listTree: (commit, d, only2) => listTree(ctx, commit, d, only2),
    diffDir: (from, to, d) => diffDir(ctx, from, to, d),
    listDir: (commit, d) => listDir(ctx, commit, d),
    readBlobs: (oids) => readBlobs(ctx, oids),
    // Issue 18: batches of blobs from one long-lived git process (a plan reading chunks of scripts).
    openBlobReader: () => {
      const session = openCatFileSession({ cwd: root, logger });
      return { readBlobs: (oids) => readBlobs({ root, readObjects: (names) => session.read(names) }, oids), close: () => session.close() };
    },
    relation: (a, b) => relation(ctx, a, b),
    readRef,
    updateRef: (ref, newOid, oldOid, reason) => updateRef(ctx, ref, newOid, oldOid, reason),
    workingTreeChanges: async (d) => bare ? [] : parseStatusZ((await run(["--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", d || "."])).stdout)
  };
}
function parseStatusZ(out) {
  const parts = out.toString("utf8").split("\0");
  const paths = [];
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i];
    if (entry.length < 4) continue;
    paths.push(entry.slice(3));
    if (entry[0] === "R" || entry[0] === "C") i++;
  }
  return paths;
}
async function probeRepo(dir, logger) {
  let info;
  const ask = ["rev-parse", "--is-bare-repository", "--absolute-git-dir", "--show-object-format", "--git-path", "shallow"];
  try {
    const withRoot = await runGit([...ask, "--show-toplevel"], { cwd: dir, logger, okCodes: [128] });
    info = withRoot.exitCode === 0 && withRoot.stdout.toString("utf8").split("\n").length >= 5 ? withRoot.stdout.toString("utf8").replace(/\n$/, "").split("\n") : (await gitText(ask, { cwd: dir, logger })).split("\n");
  } catch (e) {
    if (e instanceof GitError && /not a git repository/i.test(e.message)) {
      throw new InputError(`${dir} is not in a git repository; run routeros-gitops inside a clone of your configuration repository (or pass --cwd)`);
    }
    if (e instanceof GitError && /dubious ownership/i.test(e.message)) {
      throw new InputError(`git refuses to use ${dir} because it belongs to another user; run: git config --global --add safe.directory ${dir}`);
    }
    throw e;
  }
  const [bareText, gitDir, objectFormat, shallowPath] = info;
  const bare = bareText === "true";
  const root = bare ? gitDir : info[4] ?? await gitText(["rev-parse", "--show-toplevel"], { cwd: dir, logger });
  return { bare, gitDir, root, objectFormat, shallowPath };
}
async function resolveCommit(ctx, ref) {
  const { run, text } = ctx;
  if (ref === "" || ref.startsWith("-") || /[\n\0]/.test(ref)) {
    throw new InputError(`${JSON.stringify(ref)} is not a commit name; pass --ref with a branch, tag or commit`);
  }
  const l = await run(["log", "-1", "--no-show-signature", "--format=%H%x00%s%x00%cI", "--end-of-options", `${ref}^{commit}`, "--"], { okCodes: [128] });
  if (l.exitCode === 0) {
    const [sha2 = "", subject2 = "", time2 = ""] = l.stdout.toString("utf8").replace(/\n$/, "").split("\0");
    if (/^[0-9a-f]{40,64}$/.test(sha2)) return { sha: sha2, subject: subject2, time: time2 };
  }
  const r = await run(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], { okCodes: [1, 128] });
  if (r.exitCode !== 0) {
    const empty = ref === "HEAD" && (await run(["rev-parse", "--verify", "--quiet", "HEAD"], { okCodes: [1, 128] })).exitCode !== 0;
    throw new InputError(`no commit named '${ref}'${empty ? " (the repository has no commits yet)" : ""}; pass --ref with a branch, tag or commit`);
  }
  const sha = r.stdout.toString("utf8").trim();
  const [, subject = "", time = ""] = (await text(["log", "-1", "--no-show-signature", "--format=%H%x00%s%x00%cI", sha, "--"])).split("\0");
  return { sha, subject, time };
}
async function listTree(ctx, commit, dir, only2) {
  if (commit.startsWith("-")) throw new GitError(`${JSON.stringify(commit)} is not a commit id`, "git ls-tree", null);
  const prefix = cleanDir(dir);
  const args = ["ls-tree", "-r", "-z", "--long", "--full-tree", commit];
  if (only2) {
    const paths = only2.map(cleanDir).filter((p) => p !== "");
    if (!paths.length) return [];
    args.push("--", ...paths);
  } else if (prefix !== "") args.push("--", prefix);
  const out = (await ctx.run(args)).stdout.toString("utf8");
  return parseLsTree(out).filter((e) => prefix === "" || e.path === prefix || e.path.startsWith(`${prefix}/`));
}
async function diffDir(ctx, from, to, dir) {
  if (from.startsWith("-") || to.startsWith("-"))
    throw new GitError(`${JSON.stringify(from.startsWith("-") ? from : to)} is not a commit id`, "git diff-tree", null);
  if (from === to) return [];
  const prefix = cleanDir(dir);
  const tree = (c) => prefix === "" ? `${c}^{tree}` : `${c}:${prefix}`;
  const r = await ctx.run(["diff-tree", "-z", "--no-renames", tree(from), tree(to)], { okCodes: [128] });
  if (r.exitCode !== 0) return null;
  return parseDiffTree(r.stdout.toString("utf8"));
}
async function listDir(ctx, commit, dir) {
  if (commit.startsWith("-")) throw new GitError(`${JSON.stringify(commit)} is not a commit id`, "git ls-tree", null);
  const prefix = cleanDir(dir);
  const args = ["ls-tree", "-z", "--long", "--full-tree", prefix === "" ? commit : `${commit}:${prefix}`];
  const r = await ctx.run(args, { okCodes: [128] });
  if (r.exitCode !== 0) return [];
  return parseLsTree(r.stdout.toString("utf8")).map((e) => ({ ...e, path: prefix === "" ? e.path : `${prefix}/${e.path}` }));
}
async function readBlobs(ctx, oids) {
  const objects = await ctx.readObjects(oids);
  const blobs2 = /* @__PURE__ */ new Map();
  const missing = [];
  for (const [oid, obj] of objects) {
    if (!obj) missing.push(oid);
    else if (obj.type !== "blob") throw new GitError(`object ${oid} is a ${obj.type}, not a blob`, "git cat-file --batch", 0);
    else blobs2.set(oid, obj.content);
  }
  if (missing.length > 0) {
    const list = missing.slice(0, 5).join(", ") + (missing.length > 5 ? ` and ${missing.length - 5} more` : "");
    throw new GitError(
      `${missing.length} object(s) are missing from the repository at ${ctx.root}: ${list}; if this is a partial or shallow clone, fetch the full history (git fetch --unshallow, or check out with fetch-depth: 0)`,
      "git cat-file --batch",
      0
    );
  }
  return blobs2;
}
async function relation(ctx, a, b) {
  if (a === b) return "same";
  if (a.startsWith("-") || b.startsWith("-")) throw new GitError(`${JSON.stringify(a.startsWith("-") ? a : b)} is not a commit id`, "git merge-base", null);
  const r = await ctx.run(["merge-base", a, b], { okCodes: [1, 128] });
  if (r.exitCode === 128) return "unknown";
  const base = r.exitCode === 0 ? r.stdout.toString("utf8").trim() : "";
  const full = async (c) => /^[0-9a-f]{40,64}$/.test(c) ? c : await ctx.text(["rev-parse", "--verify", "--quiet", `${c}^{commit}`], { okCodes: [1, 128] }) || c;
  if (base !== "") {
    const [fa, fb] = await Promise.all([full(a), full(b)]);
    if (base === fa && base === fb) return "same";
    if (base === fa) return "ancestor";
    if (base === fb) return "descendant";
  }
  return existsSync2(ctx.shallowFile) ? "unknown" : "diverged";
}
async function updateRef(ctx, ref, newOid, oldOid, reason) {
  const args = ["update-ref", "-m", reason, ref, newOid, oldOid ?? ctx.zeroOid];
  const r = await ctx.run(args, { okCodes: [1, 128] });
  if (r.exitCode === 0) return true;
  if (/is at [0-9a-f]+ but expected|reference already exists|\.lock'?: File exists/i.test(r.stderr)) return false;
  if (await ctx.readRef(ref) !== oldOid) return false;
  throw gitError(args, r.exitCode, r.stderr);
}
function cleanDir(dir) {
  return dir.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "").replace(/^\.$/, "");
}
function parseDiffTree(out) {
  const parts = out.split("\0");
  const changes = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const m = /^:(\d{6}) (\d{6}) ([0-9a-f]{40,64}) ([0-9a-f]{40,64}) ([AMDT])$/.exec(parts[i]);
    if (!m) throw new GitError(`unexpected git diff-tree output: ${JSON.stringify(parts[i].slice(0, 200))}`, "git diff-tree", 0);
    const deleted = m[5] === "D";
    changes.push({
      name: parts[i + 1],
      status: m[5] === "A" ? "added" : deleted ? "deleted" : "modified",
      mode: deleted ? m[1] : m[2],
      oid: deleted ? m[3] : m[4]
    });
  }
  return changes;
}
function parseLsTree(out) {
  const entries = [];
  let start2 = 0;
  while (start2 < out.length) {
    let end = out.indexOf("\0", start2);
    if (end < 0) end = out.length;
    if (end > start2) entries.push(parseLsTreeRecord(out, start2, end));
    start2 = end + 1;
  }
  return entries;
}
function parseLsTreeRecord(out, start2, end) {
  const tab = out.indexOf("	", start2);
  const bad = () => new GitError(`unexpected git ls-tree output: ${JSON.stringify(out.slice(start2, Math.min(end, start2 + 200)))}`, "git ls-tree", 0);
  if (tab < 0 || tab > end) throw bad();
  const sp1 = start2 + 6;
  const sp2 = out.indexOf(" ", sp1 + 1);
  if (out.charCodeAt(sp1) !== 32 || sp2 < 0 || sp2 > tab) throw bad();
  const mode = out.slice(start2, sp1);
  const type = out.slice(sp1 + 1, sp2);
  const sp3 = out.indexOf(" ", sp2 + 1);
  if (sp3 < 0 || sp3 > tab) throw bad();
  const oid = out.slice(sp2 + 1, sp3);
  const sizeText = out.slice(sp3, tab).trim();
  if (!/^\d{6}$/.test(mode) || type !== "blob" && type !== "tree" && type !== "commit" || !/^[0-9a-f]{40,64}$/.test(oid) || !/^(\d+|-)$/.test(sizeText))
    throw bad();
  return { mode, type, oid, size: sizeText === "-" ? 0 : Number(sizeText), path: out.slice(tab + 1, end) };
}

// src/workers/protocol.ts
var PROTOCOL = 1;

// src/workers/plan-worker.ts
var start = workerData;
var { lintHook } = createChecks(loadCommandTree);
var port = parentPort;
var send = (m) => port.postMessage(m);
var blobs;
port.on("message", (m) => {
  if (m.type !== "chunk") return;
  void handle(m).catch((e) => send({ type: "failed", id: m.id, message: e?.message ?? String(e) }));
});
send({ type: "ready", protocol: PROTOCOL });
async function handle(m) {
  blobs ??= openRepo(start.root).then((repo) => repo.openBlobReader());
  const known = /* @__PURE__ */ new Map();
  for (const [settings, text, f] of m.checks ?? []) known.set(`${settings}\0${text}`, f);
  const found = [];
  const lint = start.lint ? cachedChecks(lintHook, {
    get: (settings, text) => known.get(`${settings}\0${text}`),
    set: (settings, text, f) => {
      known.set(`${settings}\0${text}`, f);
      found.push([settings, text, f]);
    }
  }) : void 0;
  const outcomes = await renderChunk(await blobs, start.env, m.chunk, { secrets: DEFERRED, lint });
  send({ type: "done", id: m.id, outcomes: [...outcomes], checks: found });
}
