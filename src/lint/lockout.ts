// Lockout rules: commands that can cut the router off from whoever manages it, or undo it.
// RouterOS applies each line as it runs and keeps it; a reboot undoes nothing. Each rule says why
// the change is risky; a person acknowledges it with `# routeros-gitops: allow <rule>`.
import { Command, showPath, walkCommands, type Menu, type Target } from './commands.js';
import type { Statement } from './scanner.js';

export type LockoutRuleId =
  | 'reset-configuration'
  | 'shutdown'
  | 'device-mode'
  | 'reboot'
  | 'backup-load'
  | 'package-change'
  | 'ip-service'
  | 'ssh-settings'
  | 'user-change'
  | 'input-drop'
  | 'input-accept-removal'
  | 'interface-disable'
  | 'address-removal'
  | 'route-removal'
  | 'vlan-filtering'
  | 'interface-list-member'
  | 'scheduler-removal'
  | 'script-removal'
  | 'remove-find-all';

export interface LockoutHit {
  rule: LockoutRuleId;
  /** Why the command is risky (the caller adds how to acknowledge it). */
  message: string;
  statement: Statement;
  /** The statements whose blocks hold this one, outermost first. */
  enclosing: readonly Statement[];
}

/** Verbs that change a menu's entries. */
const CHANGE = new Set(['add', 'set', 'remove', 'disable', 'enable', 'unset', 'edit', 'reset']);
const READ_ONLY = new Set(['print', 'get', 'export', 'find', 'monitor']);
const DROPS = new Set(['drop', 'reject', 'tarpit']);
const FILTER_MENUS: Record<string, string> = { '/ip/firewall/filter': 'IPv4', '/ipv6/firewall/filter': 'IPv6' };

/** FILTER_MENUS[path], without a keyed lookup by a string made at run time (paths start with /: no inherited keys). */
function filterFamily(path: string): string | undefined {
  return path === '/ip/firewall/filter' ? 'IPv4' : path === '/ipv6/firewall/filter' ? 'IPv6' : undefined;
}

function param(cmd: Command, name: string): string | undefined {
  const p = cmd.param(name);
  return p && !p.dynamic ? p.value : undefined;
}

function isYes(v: string | undefined): boolean {
  return v === 'yes' || v === 'true';
}

/** The command takes entries out of service: remove, disable, or set disabled=yes. */
function takesOut(cmd: Command): 'removes' | 'disables' | undefined {
  if (cmd.verb === 'remove') return 'removes';
  if (cmd.verb === 'disable' || (cmd.verb === 'set' && isYes(param(cmd, 'disabled')))) return 'disables';
  return undefined;
}

/** A filter value from `[find name=value]`, when the target is such a find. */
function filterValue(t: Target, name: string): string | undefined {
  if (t.kind !== 'find') return undefined;
  const p = t.filters.get(name);
  return p && !p.dynamic ? p.value : undefined;
}

/** Plain-text services nothing should be managed through: turning them off is routine hardening. */
const UNMANAGED_SERVICES = new Set(['telnet', 'ftp']);

/** `disable X`, or `set X disabled=yes` with nothing else changed. */
function disablesOnly(cmd: Command): boolean {
  if (cmd.verb === 'disable') return cmd.params.size === 0 || (cmd.params.size === 1 && cmd.params.has('numbers'));
  if (cmd.verb !== 'set' || !isYes(param(cmd, 'disabled'))) return false;
  return [...cmd.params.keys()].every((k) => k === 'disabled' || k === 'numbers');
}

/** The service names a target names, or [''] when it cannot tell. */
function serviceNames(t: Target): string[] {
  if (t.kind === 'name') return t.value.split(',');
  return [filterValue(t, 'name') ?? ''];
}

/** ` (ether1)` when the command names its target, for the message. */
function described(t: Target): string {
  return t.kind === 'name' ? ` (${t.value})` : '';
}

type Check = (cmd: Command) => string | undefined;
/** The menus a rule looks at: exact paths, or a test (checks are only run on commands in them). */
type Menus = readonly string[] | ((path: string) => boolean);
/**
 * The verbs a rule looks at (checks are only run on commands with them). Each is a superset of the
 * verbs its check can flag, so a command with another verb skips the check without being read.
 */
type Verbs = ReadonlySet<string> | ((verb: string) => boolean);

const ANY_BUT_READ_ONLY = (verb: string): boolean => !READ_ONLY.has(verb);
const only = (...verbs: string[]): ReadonlySet<string> => new Set(verbs);
/** The verbs takesOut() can be true for. */
const TAKES_OUT = only('remove', 'disable', 'set');
const ADD_OR_SET = only('add', 'set');

const isInterfaceMenu = (path: string): boolean => {
  const seg = path.split('/');
  return (
    path === '/interface' ||
    (seg.length === 3 && seg[1] === 'interface' && seg[2] !== 'list') ||
    path === '/interface/bridge/port' ||
    path === '/interface/wireguard/peers'
  );
};
const FILTERS = Object.keys(FILTER_MENUS);

const CHECKS: ReadonlyArray<readonly [LockoutRuleId, Menus, Verbs, Check]> = [
  [
    'reset-configuration',
    ['/system'],
    only('reset-configuration'),
    (c) =>
      c.path === '/system' && c.verb === 'reset-configuration'
        ? '/system reset-configuration erases the whole configuration, including the addresses, users and firewall rules used to reach the router: it will not come back reachable over the network.'
        : undefined,
  ],
  [
    'shutdown',
    ['/system'],
    only('shutdown'),
    (c) =>
      c.path === '/system' && c.verb === 'shutdown'
        ? '/system shutdown powers the router off: nothing brings it back but someone at the power switch.'
        : undefined,
  ],
  [
    'device-mode',
    ['/system/device-mode'],
    ANY_BUT_READ_ONLY,
    (c) =>
      c.path === '/system/device-mode' && !READ_ONLY.has(c.verb)
        ? 'a /system device-mode change waits for someone to press the button on the router or cut its power to confirm it; it cannot be completed remotely, and the router may reboot.'
        : undefined,
  ],
  [
    'reboot',
    ['/system'],
    only('reboot'),
    (c) =>
      c.path === '/system' && c.verb === 'reboot'
        ? '/system reboot drops every connection, including the one the router is managed through; if anything keeps it from coming back up with a working path, it stays out of reach.'
        : undefined,
  ],
  [
    'backup-load',
    ['/system/backup'],
    only('load'),
    (c) =>
      c.path === '/system/backup' && c.verb === 'load'
        ? "loading a backup replaces the whole configuration and reboots the router; if the backup does not hold today's management access (addresses, users, firewall), the router comes back unreachable."
        : undefined,
  ],
  [
    'package-change',
    ['/system/package', '/system/package/update'],
    only('enable', 'disable', 'uninstall', 'downgrade', 'apply-changes', 'unschedule', 'install', 'download'),
    (c) => {
      const pkg = c.path === '/system/package' && ['enable', 'disable', 'uninstall', 'downgrade', 'apply-changes', 'unschedule'].includes(c.verb);
      const update = c.path === '/system/package/update' && (c.verb === 'install' || c.verb === 'download');
      if (!pkg && !update) return undefined;
      return `/system package ${c.path.endsWith('update') ? 'update ' : ''}${c.verb} changes the installed software: the change applies on reboot (install, downgrade and apply-changes reboot at once), and a removed or disabled package takes its features with it, possibly the ones the router is managed through.`;
    },
  ],
  [
    'ip-service',
    ['/ip/service'],
    CHANGE,
    (c) => {
      if (c.path !== '/ip/service' || !CHANGE.has(c.verb)) return undefined;
      const t = c.targets;
      if (disablesOnly(c) && serviceNames(t).every((s) => UNMANAGED_SERVICES.has(s))) return undefined;
      return `changing /ip service${described(t)} can turn off or move the service the router is managed through (ssh, winbox, api, www) or limit the addresses it answers; if that is the way in, the router becomes unreachable.`;
    },
  ],
  [
    'ssh-settings',
    ['/ip/ssh'],
    ANY_BUT_READ_ONLY,
    (c) =>
      c.path === '/ip/ssh' && !READ_ONLY.has(c.verb)
        ? 'changing /ip ssh (ciphers, strong-crypto, the host key, forwarding) can stop existing SSH clients and automation from connecting.'
        : undefined,
  ],
  [
    'user-change',
    ['/user', '/user/group', '/user/ssh-keys'],
    CHANGE,
    (c) => {
      // Adding an account or a group cannot lock anyone out; changing or removing one can.
      const users = (c.path === '/user' || c.path === '/user/group') && CHANGE.has(c.verb) && c.verb !== 'add';
      const keys = c.path === '/user/ssh-keys' && c.verb === 'remove';
      if (!users && !keys) return undefined;
      return `changing ${showPath(c.path)}${described(c.targets)} can remove or weaken the account the router is managed with (its password, group, policies or allowed addresses, or its SSH key), so logins fail.`;
    },
  ],
  [
    'input-drop',
    FILTERS,
    ADD_OR_SET,
    (c) => {
      const family = filterFamily(c.path);
      if (!family) return undefined;
      // The tests that rule most commands out come first: most rules are not in the input chain.
      if (c.verb === 'add' && param(c, 'chain') !== 'input') return undefined;
      const action = param(c, 'action');
      if (!action || !DROPS.has(action) || isYes(param(c, 'disabled'))) return undefined;
      if (c.verb === 'add') {
        // Dropping invalid packets cannot close a working connection (defconf does it).
        if (param(c, 'connection-state') === 'invalid') return undefined;
      } else if (c.verb === 'set') {
        const chain = param(c, 'chain') ?? filterValue(c.targets, 'chain');
        if (chain !== undefined && chain !== 'input') return undefined;
      } else {
        return undefined;
      }
      return `an ${family} input-chain ${action} rule can block the connection the router is managed through (ssh, winbox, api, the management tunnel), and it applies the moment the line runs. Make sure an accept rule for the management path comes before it.`;
    },
  ],
  [
    'input-accept-removal',
    FILTERS,
    TAKES_OUT,
    (c) => {
      const family = filterFamily(c.path);
      const how = family ? takesOut(c) : undefined;
      if (!how) return undefined;
      const t = c.targets;
      if (t.kind === 'none') return undefined;
      const chain = filterValue(t, 'chain');
      const action = filterValue(t, 'action');
      if ((chain !== undefined && chain !== 'input') || (action !== undefined && action !== 'accept')) return undefined;
      if (t.kind === 'find' && chain === 'input' && action === 'accept') {
        return `this ${how === 'removes' ? 'removes' : 'disables'} ${family} input accept rules; the rule that lets the management connection in may be among them, and the drop rule after it would then cut the router off.`;
      }
      const which =
        t.kind === 'ids'
          ? 'rule numbers shift as rules are added and removed, so nothing tells which rules these numbers are'
          : 'nothing in the command says these are not input accept rules';
      return `this ${how} ${family} firewall filter rules and ${which}: if the rule that lets the management connection in is among them, the router is cut off. Select the rules by chain=, action= and comment= instead.`;
    },
  ],
  [
    'interface-disable',
    isInterfaceMenu,
    TAKES_OUT,
    (c) => {
      const how = takesOut(c);
      if (!how) return undefined;
      const what = c.path === '/interface/bridge/port' ? 'a bridge port' : c.path === '/interface/wireguard/peers' ? 'a WireGuard peer' : 'an interface';
      return `this ${how} ${what}${described(c.targets)}: every connection through it drops, and if the router is managed through it (or through a bridge, VLAN or tunnel on top of it), the router becomes unreachable.`;
    },
  ],
  [
    'address-removal',
    ['/ip/address', '/ipv6/address', '/ip/dhcp-client', '/ipv6/dhcp-client'],
    TAKES_OUT,
    (c) => {
      const isAddress = c.path === '/ip/address' || c.path === '/ipv6/address';
      const isClient = c.path === '/ip/dhcp-client' || c.path === '/ipv6/dhcp-client';
      if (!isAddress && !isClient) return undefined;
      const how = takesOut(c) ?? (isAddress && c.verb === 'set' && (c.hasParam('address') || c.hasParam('interface')) ? 'changes' : undefined);
      if (!how) return undefined;
      const what = isClient ? 'a DHCP client (and with it the address it got)' : 'an IP address';
      return `this ${how} ${what}: if the router is managed on that address, the connection drops and does not come back.`;
    },
  ],
  [
    'route-removal',
    ['/ip/route', '/ipv6/route'],
    TAKES_OUT,
    (c) => {
      if (c.path !== '/ip/route' && c.path !== '/ipv6/route') return undefined;
      const how = takesOut(c) ?? (c.verb === 'set' && (c.hasParam('gateway') || c.hasParam('dst-address')) ? 'changes' : undefined);
      if (!how) return undefined;
      return `this ${how} a route; if it is the one (often the default route) that carries traffic back to whoever manages the router, the router becomes unreachable.`;
    },
  ],
  [
    'vlan-filtering',
    ['/interface/bridge'],
    ADD_OR_SET,
    (c) =>
      c.path === '/interface/bridge' && (c.verb === 'add' || c.verb === 'set') && isYes(param(c, 'vlan-filtering'))
        ? 'vlan-filtering=yes makes the bridge drop every frame that its /interface bridge vlan entries do not allow, at once; unless the management VLAN (and the bridge itself, as a tagged member) are set up there first, management access is lost.'
        : undefined,
  ],
  [
    'interface-list-member',
    ['/interface/list', '/interface/list/member'],
    CHANGE,
    (c) =>
      (c.path === '/interface/list/member' && CHANGE.has(c.verb)) || (c.path === '/interface/list' && c.verb === 'remove')
        ? 'interface lists decide what the firewall lets in (the default firewall drops input not coming from LAN) and where MAC access and neighbor discovery work; changing them can put the management interface on the wrong side.'
        : undefined,
  ],
  [
    'scheduler-removal',
    ['/system/scheduler'],
    TAKES_OUT,
    (c) => {
      const how = c.path === '/system/scheduler' ? takesOut(c) : undefined;
      return how
        ? `this ${how} a scheduler entry${described(c.targets)}; schedulers often hold the safety nets (a timed rollback, a watchdog, the job that keeps the router in touch), and the router would run on without them.`
        : undefined;
    },
  ],
  [
    'script-removal',
    ['/system/script'],
    only('remove'),
    (c) =>
      c.path === '/system/script' && c.verb === 'remove'
        ? `this removes a script${described(c.targets)}; schedulers, netwatch and other scripts that run it (rollback and watchdog jobs among them) then fail without a word.`
        : undefined,
  ],
  [
    'remove-find-all',
    () => true,
    only('remove'),
    (c) => {
      if (c.verb !== 'remove') return undefined;
      const t = c.targets;
      return t.kind === 'find' && t.empty
        ? `remove [find] with no condition removes every entry in ${showPath(c.path)}, including the ones made by hand or by the default configuration. Add a condition (for example comment="managed by routeros-gitops") so it removes only what this script manages.`
        : undefined;
    },
  ],
];

type Checks = ReadonlyArray<readonly [LockoutRuleId, Check]>;
const NONE: Checks = [];

// Which checks apply to a menu path and verb, worked out once per pair. Bounded: past the limit
// (only a generated or hostile input has that many distinct menus and verbs) it is worked out each
// time instead.
const byMenu = new Map<Menu, Map<string, Checks>>();
const BY_MENU_LIMIT = 10_000;
let cached = 0;

function checksFor(menu: Menu, verb: string): Checks {
  let verbs = byMenu.get(menu);
  let list = verbs?.get(verb);
  if (list) return list;
  const path = menu.path;
  const found = CHECKS.filter(
    ([, menus, verbs]) => (typeof menus === 'function' ? menus(path) : menus.includes(path)) && (typeof verbs === 'function' ? verbs(verb) : verbs.has(verb)),
  ).map(([id, , , check]) => [id, check] as const);
  list = found.length ? found : NONE;
  if (cached < BY_MENU_LIMIT) {
    if (!verbs) byMenu.set(menu, (verbs = new Map()));
    verbs.set(verb, list);
    cached++;
  }
  return list;
}

/** Every lockout hit in a scanned script, in statement order. */
export function findLockouts(statements: readonly Statement[], off: ReadonlySet<string> = new Set()): LockoutHit[] {
  const hits: LockoutHit[] = [];
  walkCommands(statements, (menu, verb, from, statement, enclosing) => {
    const checks = checksFor(menu, verb);
    if (checks.length === 0) return;
    const cmd = new Command(menu.path, verb, statement.args, from, statement);
    for (const [rule, check] of checks) {
      if (off.size && off.has(rule)) continue;
      const message = check(cmd);
      if (message) hits.push({ rule, message, statement, enclosing });
    }
  });
  return hits;
}
