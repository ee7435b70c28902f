// Generated RouterOS scripts shaped like real configurations: `/export` output in the classic form
// (a menu on its own line, then `add`/`set` lines wrapped at 80 columns with \) and the terse form
// (one command per line, its menu in front), optionally with the hand-written parts that fleets
// keep beside them (:local and :global, :if and :foreach blocks, acknowledgement comments). The shapes
// follow public exports such as FoxDenHome/router (CRLF line ends, /system script sources wrapped
// inside their strings, long firewall rule sets). Used by the splitting tests and the benchmark.

export interface ExportOptions {
  readonly random: () => number;
  /** 'classic' (RouterOS 6 and `/export` in 7) or 'terse' (`/export terse`). */
  readonly format: 'classic' | 'terse';
  /** Default '\r\n', as RouterOS writes exports. */
  readonly eol?: '\n' | '\r\n';
  /** Roughly how many characters to produce (the result is a little longer). */
  readonly size: number;
  /** Mix in hand-written script: variables, blocks, comments. Default false. */
  readonly scripting?: boolean;
  /** Longest a { } block or a :local's reach may get, in characters (keeps a script splittable under a given limit). Default 2000. */
  readonly maxTied?: number;
}

const WIDTH = 80;

type Rng = () => number;
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const ip = (r: Rng) => `10.${int(r, 0, 255)}.${int(r, 0, 255)}.${int(r, 1, 254)}`;
const mac = (r: Rng) => Array.from({ length: 6 }, () => int(r, 0, 255).toString(16).padStart(2, '0').toUpperCase()).join(':');
const word = (r: Rng) => pick(r, ['lan', 'dmz', 'mgmt', 'guest', 'iot', 'voip', 'security', 'lab', 'printers', 'cameras', 'servers', 'wan']);
/** Text with the characters that make splitting interesting: ; { } [ ] # and an escaped quote, and some non-ASCII. */
const note = (r: Rng) =>
  pick(r, [
    'allow established',
    'drop invalid; log it',
    'block {guest} -> [lan]',
    'port #8291 (winbox)',
    'say \\"hi\\"',
    'Zürich office ✓',
    'rule for 😀 devices',
  ]);

/** One command as `/menu` + words; `set` commands carry their own [ find ] target. */
interface Cmd {
  readonly menu: string;
  readonly words: readonly string[];
}

const GENERATORS: ReadonlyArray<(r: Rng, i: number) => Cmd> = [
  (r, i) => ({ menu: '/interface vlan', words: ['add', `interface=bridge`, `name=vlan-${word(r)}-${i}`, `vlan-id=${int(r, 2, 4000)}`] }),
  (r, i) => ({ menu: '/interface list member', words: ['add', `interface=vlan-${word(r)}-${i}`, `list=zone-${word(r)}`] }),
  (r) => ({ menu: '/ip pool', words: ['add', `name=pool-${word(r)}`, `ranges=${ip(r)}-${ip(r)}`] }),
  (r) => ({ menu: '/ip address', words: ['add', `address=${ip(r)}/24`, `interface=vlan-${word(r)}`, `network=${ip(r)}`] }),
  (r) => ({ menu: '/ip firewall address-list', words: ['add', `address=${ip(r)}`, `list=${word(r)}-hosts`, `comment="${note(r)}"`] }),
  (r) => ({
    menu: '/ip firewall filter',
    words: [
      'add',
      `action=${pick(r, ['accept', 'drop', 'reject', 'jump', 'passthrough'])}`,
      `chain=${pick(r, ['forward', 'forward', 'output', 'jump-lan'])}`,
      `comment="${note(r)}"`,
      `connection-state=${pick(r, ['established,related,untracked', 'new', 'invalid'])}`,
      `dst-address-list=${word(r)}-hosts`,
      `in-interface-list=zone-${word(r)}`,
      `out-interface-list=zone-${word(r)}`,
      ...(r() < 0.5 ? [`protocol=tcp`, `dst-port=${int(r, 1, 65535)},${int(r, 1, 65535)}`] : []),
    ],
  }),
  (r) => ({
    menu: '/ip firewall nat',
    words: ['add', 'action=dst-nat', 'chain=dstnat', `dst-port=${int(r, 1, 65535)}`, 'protocol=tcp', `to-addresses=${ip(r)}`, `to-ports=${int(r, 1, 65535)}`],
  }),
  (r) => ({ menu: '/ip dns static', words: ['add', `address=${ip(r)}`, `name=${word(r)}-${int(r, 1, 999)}.example.net`, `ttl=5m`] }),
  (r) => ({
    menu: '/ip dhcp-server lease',
    words: ['add', `address=${ip(r)}`, `mac-address=${mac(r)}`, `server=dhcp-${word(r)}`, `comment="${note(r)}"`],
  }),
  (r) => ({
    menu: '/ipv6 firewall filter',
    words: ['add', 'action=accept', 'chain=forward', `comment="${note(r)}"`, `src-address=2001:db8:${int(r, 0, 65535).toString(16)}::/48`],
  }),
  (r, i) => ({
    menu: '/interface ethernet',
    words: ['set', `[ find default-name=ether${(i % 24) + 1} ]`, `comment="${note(r)}"`, `l2mtu=${pick(r, [1514, 9092])}`],
  }),
  (r, i) => ({ menu: '/system script', words: ['add', `name=job-${i}`, 'owner=admin', 'policy=read,write,test', `source=${scriptSource(r)}`] }),
];

/** A /system script source as /export writes it: one string, \r\n escapes, $ and quotes escaped. */
function scriptSource(r: Rng): string {
  const lines = [':local host [/system identity get name]'];
  for (let k = int(r, 2, 12); k > 0; k--) {
    lines.push(
      pick(r, [
        ':log info "checking \\$host"',
        ':if ([:len [/ip route find dst-address=0.0.0.0/0]] = 0) do={ :log warning "no default route" }',
        ':foreach i in=[/interface find] do={ :put [/interface get \\$i name] }',
        `/ip firewall address-list add list=${word(r)} address=${ip(r)} timeout=1d`,
      ]),
    );
  }
  // Inside the value: " and \ and $ escaped once more.
  const body = lines.map((l) => l.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$')).join('\\r\\n');
  return `"${body}\\r\\n"`;
}

/** A command line wrapped as /export wraps it: at spaces, and inside long strings after a whole escape. */
function wrap(words: readonly string[], eol: string): string {
  const out: string[] = [];
  let line = '';
  const flush = () => {
    out.push(`${line} \\`);
    line = '    ';
  };
  for (const w of words) {
    if (line.trim() !== '' && line.length + 1 + w.length > WIDTH - 2) flush();
    const sep = line.trim() === '' ? '' : ' ';
    if (line.length + sep.length + w.length <= WIDTH - 2) {
      line += sep + w;
      continue;
    }
    // A long word (a string): break it after a whole character or escape, never after a lone \ or $.
    line += sep;
    for (let i = 0; i < w.length; ) {
      const step = w[i] === '\\' ? (/^[0-9A-F]{2}/.test(w.slice(i + 1, i + 3)) ? 3 : 2) : w[i] === '$' ? 2 : 1;
      // Not before a space: the continued line's indentation is dropped, and a space there with it.
      if (line.length + step > WIDTH - 2 && w[i] !== ' ') {
        out.push(`${line}\\`);
        line = '    ';
      }
      line += w.slice(i, i + step);
      i += step;
    }
  }
  out.push(line);
  return out.join(eol);
}

/** Hand-written pieces: each is lines, and says how much it ties together. */
function scripted(r: Rng, i: number, maxTied: number): string[] {
  const kind = int(r, 0, 5);
  if (kind === 0) {
    // A :local used some lines below, within maxTied.
    const name = `v${i}`;
    const lines = [`:local ${name} "${word(r)}"`];
    let used = lines[0]!.length;
    for (let k = int(r, 1, 6); k > 0; k--) {
      const l = `/ip firewall address-list add list=$${name} address=${ip(r)} comment="${note(r)}"`;
      if (used + l.length + 2 > maxTied) break;
      used += l.length + 2;
      lines.push(l);
    }
    return lines;
  }
  if (kind === 1) return [`:global g${i} ${int(r, 0, 99)}`];
  if (kind === 2) {
    const lines = [`:if ([:len [/ip firewall filter find comment="gitops-${i}"]] = 0) do={`];
    for (let k = int(r, 1, Math.max(1, Math.floor(maxTied / 200))); k > 0; k--) {
      lines.push(`    /ip firewall filter add chain=forward action=accept comment="gitops-${i}" src-address=${ip(r)}`);
    }
    lines.push('} else={', `    :log info "rule ${i} is there"`, '}');
    return lines;
  }
  if (kind === 3) return ['# routeros-gitops: allow input-drop', `/ip firewall filter add chain=input action=drop src-address=${ip(r)} comment="gitops"`];
  if (kind === 4) return [`# ${note(r)}`, `:put "rule {${i}}; [done]"; :log info "step ${i}"`];
  return [`:foreach i in=[/interface find where name~"vlan-${word(r)}"] do={`, '    :put [/interface get $i name]', '}'];
}

/** Uses of the globals declared so far, far from their declaration. */
function useGlobal(r: Rng, declared: readonly number[]): string | undefined {
  if (declared.length === 0) return undefined;
  const g = pick(r, declared);
  return pick(r, [`:set g${g} ($g${g} + 1)`, `:log info "counter $g${g}"`]);
}

/** A generated script of about `size` characters. */
export function generateExport(o: ExportOptions): string {
  const r = o.random;
  const eol = o.eol ?? '\r\n';
  const maxTied = o.maxTied ?? 2000;
  const lines = ['# 2025-01-17 16:52:58 by RouterOS 7.16.2', '# software id = H573-DR9T', '#', '# model = RB5009UG+S+', '# serial number = HF00ABCDEF1'];
  let length = lines.join(eol).length;
  const globals: number[] = [];
  let menu = '';
  for (let i = 0; length < o.size; i++) {
    let chunk: string[];
    if (o.scripting && r() < 0.15) {
      chunk = scripted(r, i, maxTied);
      if (chunk[0]!.startsWith(':global')) globals.push(i);
      // Blocks and scripted lines run in the menu around them; go back to the top first.
      if (menu && r() < 0.5) chunk.unshift('/');
      if (chunk[0] === '/') menu = '';
    } else if (o.scripting && r() < 0.05) {
      chunk = [useGlobal(r, globals) ?? ':put "nothing yet"'];
    } else {
      const cmd = pick(r, GENERATORS)(r, i);
      if (o.format === 'terse') {
        chunk = [wrap([cmd.menu, ...cmd.words], eol)];
      } else {
        chunk = [];
        if (cmd.menu !== menu) chunk.push(cmd.menu);
        menu = cmd.menu;
        chunk.push(wrap(cmd.words, eol));
      }
    }
    // Nothing longer than maxTied is tied together (a part boundary can fall before and after each chunk).
    if (chunk.reduce((n, l) => n + l.length + eol.length, 0) > maxTied) continue;
    for (const l of chunk) {
      lines.push(l);
      length += l.length + eol.length;
    }
  }
  return lines.join(eol) + eol;
}
