// Lockout rules (each with a case it flags and a close case it does not), menu tracking,
// acknowledgements, settings and the rule table.
import { describe, expect, it } from 'vitest';
import { deprecatedRuleSettings, RULES, lintScript, validateRuleSettings, type Finding, type RuleSetting } from '../src/lint/index.js';

const of = (text: string, rule: string, rules?: Record<string, RuleSetting>) => lintScript(text, { rules }).filter((f) => f.rule === rule);
const at = (fs: Finding[]) => fs.map((f) => `${f.line}:${f.column}`);

interface Case {
  flags: string;
  /** line:column of each finding `flags` must produce. */
  at?: string[];
  /** A close case the rule must not flag. */
  passes: string;
}

const CASES: Record<string, Case[]> = {
  'reset-configuration': [
    { flags: '/system reset-configuration no-defaults=yes skip-backup=yes\n', passes: ':put "/system reset-configuration"\n' },
    { flags: '/system/reset-configuration\n', passes: '# /system reset-configuration\n:put 1\n' },
  ],
  shutdown: [
    // A scheduled shutdown sits in a string: it does not run now, and scripts in strings are not read.
    { flags: '/system shutdown\n', passes: '/system scheduler add name=off on-event="/system shutdown" start-time=23:00:00\n' },
  ],
  'device-mode': [{ flags: '/system device-mode update container=yes\n', passes: '/system device-mode print\n' }],
  reboot: [
    { flags: '/system reboot\n', passes: '/system backup save name=before-reboot\n' },
    { flags: '/system\nreboot\n', at: ['2:1'], passes: '/system\nclock print\n' },
  ],
  'backup-load': [{ flags: '/system backup load name=base.backup password=secret\n', passes: '/system backup save name=base\n' }],
  'package-change': [
    { flags: '/system package update install\n', passes: '/system package update check-for-updates\n' },
    { flags: '/system package disable wireless\n', passes: '/system package print\n' },
    { flags: '/system/package/update/download\n', passes: '/system/package/update/set channel=stable\n' },
  ],
  'ip-service': [
    { flags: '/ip service set ssh port=2222\n', passes: '/ip service print\n' },
    // Turning off plain-text telnet and ftp is routine hardening; turning off ssh is not.
    { flags: '/ip service disable ssh\n', passes: '/ip service set telnet disabled=yes\n/ip service disable telnet,ftp\n' },
    { flags: '/ip/service/set [find name=winbox] address=10.0.0.0/8\n', passes: '/ip/service/set [find name=ftp] disabled=yes\n' },
  ],
  'ssh-settings': [{ flags: '/ip ssh set strong-crypto=yes\n', passes: '/ip ssh print\n' }],
  'user-change': [
    { flags: '/user set admin password=changed\n', passes: '/user active print\n' },
    { flags: '/user remove [find name=admin]\n', passes: '/user add name=monitor group=read password=x\n' },
    { flags: '/user group set full policy=read,write\n', passes: '/user settings set minimum-password-length=12\n' },
    { flags: '/user ssh-keys remove [find user=admin]\n', passes: '/user ssh-keys print\n' },
  ],
  'input-drop': [
    {
      flags: '/ip firewall filter add chain=input action=drop in-interface-list=!LAN\n',
      passes: '/ip firewall filter add chain=forward action=drop in-interface-list=!LAN\n',
    },
    { flags: '/ipv6 firewall filter\nadd action=reject chain=input\n', at: ['2:1'], passes: '/ipv6 firewall filter\nadd action=accept chain=input\n' },
    {
      flags: '/ip firewall filter add chain=input action=drop\n',
      passes: '/ip firewall filter add chain=input action=drop disabled=yes\n/ip firewall filter add chain=input action=drop connection-state=invalid\n',
    },
    {
      flags: '/ip firewall filter set 4 action=drop\n',
      passes: '/ip firewall filter set [find chain=forward comment=guests] action=drop\n',
    },
    // Not a firewall filter: raw and nat are other menus.
    { flags: '/ip/firewall/filter/add chain=input action=tarpit\n', passes: '/ip firewall nat add chain=dstnat action=drop\n' },
  ],
  'input-accept-removal': [
    {
      flags: '/ip firewall filter remove [find chain=input action=accept]\n',
      passes: '/ip firewall filter remove [find chain=forward action=accept]\n',
    },
    { flags: '/ip firewall filter remove 3\n', passes: '/ip firewall filter remove [find chain=input action=drop]\n' },
    { flags: '/ip firewall filter remove numbers=2,3\n', passes: '/ip firewall filter enable [find comment=mgmt]\n' },
    { flags: '/ipv6 firewall filter disable [find comment="mgmt"]\n', passes: '/ipv6 firewall filter disable [find chain=forward]\n' },
    { flags: '/ip firewall filter set [find chain=input] disabled=yes\n', passes: '/ip firewall filter set [find chain=input] disabled=no\n' },
  ],
  'interface-disable': [
    { flags: '/interface disable ether1\n', passes: '/interface enable ether1\n' },
    {
      flags: '/interface ethernet set [find default-name=ether1] disabled=yes\n',
      passes: '/interface ethernet set [find default-name=ether1] comment=uplink disabled=no\n',
    },
    { flags: '/interface/vlan/remove [find name=vlan20]\n', passes: '/interface/vlan/add name=vlan30 vlan-id=30 interface=bridge\n' },
    { flags: '/interface bridge port remove [find interface=ether2]\n', passes: '/interface bridge port add bridge=bridge interface=ether5\n' },
  ],
  'address-removal': [
    { flags: '/ip address remove [find interface=ether1]\n', passes: '/ip address add address=10.0.0.1/24 interface=ether1\n' },
    { flags: '/ipv6 address set [find] address=2001:db8::1/64\n', passes: '/ip address set [find interface=ether1] comment=uplink\n' },
    { flags: '/ip dhcp-client disable ether1\n', passes: '/ip dhcp-client add interface=ether1\n' },
  ],
  'route-removal': [
    {
      flags: '/ip route remove [find dst-address=0.0.0.0/0]\n',
      passes: '/ip route add dst-address=0.0.0.0/0 gateway=192.0.2.1\n',
    },
    { flags: '/ipv6 route set [find dst-address=::/0] gateway=fe80::1%ether1\n', passes: '/ip route set [find comment=backup] distance=5\n' },
  ],
  'vlan-filtering': [
    { flags: '/interface bridge set bridge vlan-filtering=yes\n', passes: '/interface bridge set bridge vlan-filtering=no\n' },
    { flags: '/interface/bridge/add name=br1 vlan-filtering=yes\n', passes: '/interface bridge vlan add bridge=bridge vlan-ids=20 tagged=bridge\n' },
  ],
  'interface-list-member': [
    { flags: '/interface list member add interface=ether2 list=LAN\n', passes: '/interface list add name=MGMT\n' },
    { flags: '/interface list remove [find name=LAN]\n', passes: '/interface list member print\n' },
  ],
  'scheduler-removal': [
    { flags: '/system scheduler remove [find name=rollback]\n', passes: '/system scheduler add name=rollback interval=10m on-event=rollback\n' },
    { flags: '/system scheduler disable watchdog\n', passes: '/system scheduler enable watchdog\n' },
  ],
  'script-removal': [{ flags: '/system script remove watchdog\n', passes: '/system script environment remove [find name=tmp]\n' }],
  'remove-find-all': [
    { flags: '/ip dns static remove [find]\n', passes: '/ip dns static remove [find comment="managed by routeros-gitops"]\n' },
    { flags: '/ip dns static\nremove [ find where ]\n', at: ['2:1'], passes: '/ip dns static\nremove [find where !dynamic]\n' },
  ],
};

const LOCKOUT_IDS = RULES.filter((r) => r.kind === 'lockout').map((r) => r.id);

describe('lockout rules', () => {
  it('has cases for every lockout rule', () => {
    expect(Object.keys(CASES).sort()).toEqual([...LOCKOUT_IDS].sort());
  });

  for (const [rule, cases] of Object.entries(CASES)) {
    describe(rule, () => {
      it.each(cases.map((c, i) => [i, c] as const))('case %i flags the risky command and not the close one', (_, c) => {
        const hits = of(c.flags, rule);
        expect(at(hits)).toEqual(c.at ?? ['1:1']);
        const info = RULES.find((r) => r.id === rule)!;
        expect(hits[0]!.severity).toBe(info.defaultSeverity);
        expect(hits[0]!.message).toContain(`# routeros-gitops: allow ${rule}`);
        expect(of(c.passes, rule)).toEqual([]);
      });
    });
  }

  it('are all at level lockout by default (apply refuses them until acknowledged), and acknowledgeable', () => {
    const lockouts = RULES.filter((r) => r.kind === 'lockout');
    expect(lockouts.length).toBeGreaterThanOrEqual(19);
    for (const r of lockouts) expect([r.id, r.defaultLevel, r.defaultSeverity, r.acknowledgeable]).toEqual([r.id, 'lockout', 'warning', true]);
    // Whatever is not an error nor a lockout risk is advice: shown, never blocking.
    for (const r of RULES.filter((x) => x.kind !== 'lockout')) expect(['error', 'advice']).toContain(r.defaultLevel);
  });

  it('says why each command is risky', () => {
    const [reboot] = of('/system reboot\n', 'reboot');
    expect(reboot!.message).toMatch(/^\/system reboot drops every connection/);
    const [drop] = of('/ip firewall filter add chain=input action=drop\n', 'input-drop');
    expect(drop!.message).toMatch(/^an IPv4 input-chain drop rule can block the connection the router is managed through/);
    const [num] = of('/ip firewall filter remove 3\n', 'input-accept-removal');
    expect(num!.message).toMatch(/rule numbers shift/);
    const [all] = of('/ip/dns/static remove [find]\n', 'remove-find-all');
    expect(all!.message).toMatch(/removes every entry in \/ip dns static/);
  });
});

describe('menu tracking', () => {
  it('follows the menu set by a path line, in both spellings, for the lines after it', () => {
    const text =
      '/ip firewall filter\nadd chain=input action=accept protocol=icmp\nadd chain=input action=drop\n/ip/firewall/filter\nadd chain=input action=drop\n';
    expect(at(of(text, 'input-drop'))).toEqual(['3:1', '5:1']);
  });

  it('reads a continued command as one command', () => {
    expect(at(of('/ip firewall filter add chain=input \\\n    action=drop \\\n    in-interface-list=!LAN\n', 'input-drop'))).toEqual(['1:1']);
    // The value of comment= wrapped onto the next line, as /export does.
    expect(of('/ip firewall filter add action=drop chain=forward comment=\\\n    "chain=input"\n', 'input-drop')).toEqual([]);
  });

  it('finds commands inside blocks, with the menu around the block', () => {
    expect(at(of(':if ([:len $x] > 0) do={ /system reboot }\n', 'reboot'))).toEqual(['1:26']);
    const text = '/ip firewall filter\n:foreach r in=[find where chain=input] do={\n  remove $r\n}\n';
    expect(at(of(text, 'input-accept-removal'))).toEqual(['3:3']);
    expect(at(of(':foreach i in=[/interface find where !running] do={ /interface disable $i }\n', 'interface-disable'))).toEqual(['1:53']);
  });

  it('finds commands in :onerror and :retry blocks', () => {
    expect(at(of(':onerror e {\n  /system reboot\n} do={ :log error $e }\n', 'reboot'))).toEqual(['2:3']);
    expect(at(of(':retry { /system/reboot } delay=1s max=2\n', 'reboot'))).toEqual(['1:10']);
  });

  it('keeps a path line inside a block to that block', () => {
    expect(of(':if (true) do={ /ip firewall filter }\nadd chain=input action=drop\n', 'input-drop')).toEqual([]);
  });

  it('goes up with ..', () => {
    expect(at(of('/system scheduler\n..\nreboot\n', 'reboot'))).toEqual(['3:1']);
  });

  it('does not read commands in strings, comments or array elements', () => {
    expect(of(':local cmd "/system reboot"\n# /system reboot\n:local a {reboot}\n', 'reboot')).toEqual([]);
  });

  it('reads several commands on one line', () => {
    expect(at(of('/system identity set name=x; /system reboot\n', 'reboot'))).toEqual(['1:30']);
  });
});

describe('acknowledgements', () => {
  it('accepts one after a ; on the command line', () => {
    expect(of('/system reboot; # routeros-gitops: allow reboot\n', 'reboot')).toEqual([]);
  });

  it('accepts one in the comment lines right above the command', () => {
    expect(of(':put 1\n# routeros-gitops: allow reboot\n# nightly restart\n/system reboot\n', 'reboot')).toEqual([]);
  });

  it('does not reach past a blank line or a command', () => {
    expect(at(of(':put 1\n# routeros-gitops: allow reboot\n\n/system reboot\n', 'reboot'))).toEqual(['4:1']);
    expect(at(of(':put 1\n# routeros-gitops: allow reboot\n:put 2\n/system reboot\n', 'reboot'))).toEqual(['4:1']);
  });

  it('covers the whole file from the leading comment block', () => {
    const text =
      '# site: branch-01\n# routeros-gitops: allow reboot, input-drop\n\n/ip firewall filter add chain=input action=drop\n:delay 5s\n/system reboot\n';
    expect(of(text, 'reboot')).toEqual([]);
    expect(of(text, 'input-drop')).toEqual([]);
  });

  it('covers the commands in the blocks of the command it sits above', () => {
    const text = ':put 1\n# routeros-gitops: allow reboot\n:if ($upgrade) do={\n  /system package update install\n  /system reboot\n}\n/system reboot\n';
    expect(at(of(text, 'reboot'))).toEqual(['7:1']);
    // Inside the block, the comment above the command works too.
    expect(of(':put 1\n:if ($x) do={\n  # routeros-gitops: allow reboot\n  /system reboot\n}\n', 'reboot')).toEqual([]);
    // A comment on the last line of a block speaks for that line only, not for the whole block.
    expect(at(of(':put 1\n:if ($x) do={\n  /system reboot\n  :put 2; # routeros-gitops: allow reboot\n}\n', 'reboot'))).toEqual(['3:3']);
  });

  it('covers only the rules it names', () => {
    expect(at(of('# routeros-gitops: allow reboot\n/system shutdown\n', 'shutdown'))).toEqual(['2:1']);
  });

  it('also acknowledges error-level rules', () => {
    expect(lintScript('# routeros-gitops: allow reset-configuration\n/system reset-configuration\n')).toEqual([]);
  });

  it('is not read from text after a command without a ; (that is not a RouterOS comment)', () => {
    const fs = lintScript('/system reboot # routeros-gitops: allow reboot\n');
    expect(fs.map((f) => f.rule)).toEqual(['reboot', 'inline-comment']);
  });

  it('warns about names it cannot acknowledge', () => {
    const [typo] = of('# routeros-gitops: allow rebot\n/system reboot\n', 'unknown-allow');
    expect(typo).toMatchObject({ line: 1, column: 1, severity: 'warning' });
    expect(typo!.message).toMatch(/unknown rule "rebot".*did you mean "reboot"\?/);
    const [syntax] = of('# routeros-gitops: allow unbalanced-bracket\n:put 1\n', 'unknown-allow');
    expect(syntax!.message).toMatch(/cannot be acknowledged.*fix the script/);
    const [garbled] = of('# routeros-gitops: reboot is fine\n:put 1\n', 'unknown-allow');
    expect(garbled!.message).toMatch(/not understood/);
  });

  it('does not silence syntax errors', () => {
    expect(of('# routeros-gitops: allow unbalanced-bracket\n:put (1', 'unbalanced-bracket')).toHaveLength(1);
  });
});

describe('settings', () => {
  it('turns a warning into an error, or off', () => {
    expect(of('/system reboot\n', 'reboot', { reboot: 'error' })[0]!.severity).toBe('error');
    expect(of('/system reboot\n', 'reboot', { reboot: 'off' })).toEqual([]);
    expect(of('/system shutdown\n', 'shutdown', { shutdown: 'warning' })[0]!.severity).toBe('warning');
  });

  it('keeps syntax errors as errors whatever the settings say', () => {
    expect(of(':put (1', 'unbalanced-bracket', { 'unbalanced-bracket': 'off' })[0]!.severity).toBe('error');
  });

  it('lets param-space and the notices be changed', () => {
    expect(of('/ip route add gateway = 1.1.1.1\n', 'param-space', { 'param-space': 'warning' })[0]!.severity).toBe('warning');
    expect(of(':put 1 # x\n', 'inline-comment', { 'inline-comment': 'off' })).toEqual([]);
  });

  it('ignores settings for unknown rules and invalid values', () => {
    const rules = { rebot: 'off', reboot: 'loud' } as unknown as Record<string, 'off'>;
    expect(of('/system reboot\n', 'reboot', rules)[0]!.severity).toBe('warning');
  });

  it('sorts findings by line, then column', () => {
    const fs = lintScript('/system reboot; :put "\\q"\n:put (1\n');
    expect(fs.map((f) => `${f.line}:${f.column}`)).toEqual(['1:1', '1:23', '2:8']);
  });
});

describe('validateRuleSettings', () => {
  it('accepts known rules with known values', () => {
    expect(validateRuleSettings({})).toEqual([]);
    expect(validateRuleSettings({ reboot: 'error', 'input-drop': 'off', 'param-space': 'warning', 'unbalanced-bracket': 'error' })).toEqual([]);
  });

  it('suggests the closest rule for an unknown id', () => {
    expect(validateRuleSettings({ rebot: 'off' })).toEqual(['unknown lint rule "rebot"; did you mean "reboot"? (`routeros-gitops rules` lists them)']);
    expect(validateRuleSettings({ 'input-drops': 'off' })[0]).toMatch(/did you mean "input-drop"/);
    expect(validateRuleSettings({ 'something-else-entirely': 'off' })).toEqual([
      'unknown lint rule "something-else-entirely" (`routeros-gitops rules` lists them)',
    ]);
  });

  it('rejects bad values and syntax rules turned down', () => {
    expect(validateRuleSettings({ reboot: 'loud' })).toEqual(['lint rule "reboot" must be set to "error", "lockout", "advice" or "off", not "loud"']);
    expect(validateRuleSettings({ reboot: 3 })).toEqual(['lint rule "reboot" must be set to "error", "lockout", "advice" or "off", not 3']);
    expect(validateRuleSettings({ 'unterminated-string': 'off' })[0]).toMatch(/syntax check.*always an error/);
  });
});

describe('RULES', () => {
  it('lists every rule once, kebab-case, described', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of RULES) {
      expect(r.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(r.description.length).toBeGreaterThan(20);
      if (!r.configurable) expect(r.defaultSeverity).toBe('error');
    }
  });

  it('holds every rule a finding can carry', () => {
    const ids = new Set(RULES.map((r) => r.id));
    const texts = [...Object.values(CASES).flatMap((cs) => cs.map((c) => c.flags)), ':put (1\n', ':put "\\q\n', '# routeros-gitops: allow x\n:put 1 # y\n'];
    for (const t of texts) for (const f of lintScript(t)) expect(ids.has(f.rule as never), f.rule).toBe(true);
  });
});

describe('levels: error, lockout, advice (issue 14)', () => {
  // The case: the services the router is managed through turned off, then an input drop.
  const LOCKOUT = '/ip service disable ssh,winbox,www\n/ip firewall filter add chain=input action=drop\n';
  const levels = (text: string, rules?: Record<string, RuleSetting>) => lintScript(text, { rules }).map((f) => `${f.rule} ${f.level} ${f.severity}`);

  it('reports lockout risks at level lockout (severity warning, as before), syntax at error, notices as advice', () => {
    expect(levels(LOCKOUT)).toEqual(['ip-service lockout warning', 'input-drop lockout warning', 'unguarded-add advice warning']);
    expect(levels('/system reset-configuration\n')).toEqual(['reset-configuration lockout warning']);
    expect(levels('/ip dns set servers = 1.1.1.1\n')).toEqual(['param-space error error']);
    expect(levels(':put 1 # a comment\n')).toEqual(['inline-comment advice warning']);
  });

  it('takes error, lockout, advice and off in lint.rules, and warning as the former name of advice', () => {
    expect(levels('/system reboot\n', { reboot: 'error' })).toEqual(['reboot error error']);
    expect(levels('/system reboot\n', { reboot: 'advice' })).toEqual(['reboot advice warning']);
    expect(levels('/system reboot\n', { reboot: 'warning' })).toEqual(['reboot advice warning']);
    expect(levels('/system reboot\n', { reboot: 'off' })).toEqual([]);
    expect(levels('/ip dns set servers=1.1.1.1 # x\n', { 'inline-comment': 'error' })).toEqual(['inline-comment error error']);
    expect(validateRuleSettings({ reboot: 'lockout', 'input-drop': 'advice', 'unguarded-add': 'error', 'raw-template-value': 'advice' })).toEqual([]);
    expect(validateRuleSettings({ reboot: 'warning' })).toEqual([]);
    expect(deprecatedRuleSettings({ reboot: 'warning', 'inline-comment': 'advice' })).toEqual([
      'lint rule "reboot": "warning" is the former name of "advice" (shown, never blocks); write "advice" (or "lockout", its default, to have apply refuse it until it is acknowledged)',
    ]);
  });

  it('refuses lockout for a rule no comment can acknowledge, and keeps its default level there', () => {
    expect(validateRuleSettings({ 'inline-comment': 'lockout' })[0]).toMatch(/cannot be set to "lockout".*cannot be acknowledged/);
    expect(levels(':put 1 # a comment\n', { 'inline-comment': 'lockout' })).toEqual(['inline-comment advice warning']);
  });

  it('reports nothing for an acknowledged lockout risk (the script says it is intended)', () => {
    expect(levels(`# routeros-gitops: allow ip-service, input-drop, unguarded-add\n${LOCKOUT}`)).toEqual([]);
    expect(levels(`/ip service disable ssh,winbox,www\n# routeros-gitops: allow input-drop\n/ip firewall filter add chain=input action=drop\n`)).toEqual([
      'ip-service lockout warning',
      'unguarded-add advice warning',
    ]);
  });
});

describe('unguarded-add: scripts are sent again whole, so an add with no guard runs again (issue 14)', () => {
  const flagged = (text: string) => at(of(text, 'unguarded-add'));

  it('flags an add with nothing before it that clears or looks up the menu, once per menu, at level advice', () => {
    const [f] = of('/ip address add address=10.0.0.1/24 interface=ether1\n', 'unguarded-add');
    expect(f).toMatchObject({ line: 1, column: 1, level: 'advice' });
    expect(f!.message).toMatch(/this add to \/ip address has no guard: every change sends the whole script again/);
    expect(f!.message).toMatch(/remove \[find comment="\.\.\."\]/);
    const many = of(
      '/ip firewall filter\nadd chain=forward action=accept\nadd chain=forward action=drop\n/ip dns static add name=a address=10.0.0.1\n',
      'unguarded-add',
    );
    expect(many.map((x) => `${x.line}:${x.column}`)).toEqual(['2:1', '4:1']);
    expect(many[0]!.message).toMatch(/^2 adds to \/ip firewall filter \(lines 2-3\) have no guard/);
    // A remove after the add does not guard it; nor does a find that only picks what a set changes.
    expect(flagged('/ip address add address=10.0.0.1/24 interface=ether1\n/ip address remove [find comment=x]\n')).toEqual(['1:1']);
    expect(flagged('/interface bridge port set [find interface=ether2] pvid=10\n/interface bridge port add bridge=b interface=ether3\n')).toEqual(['2:1']);
    // A remove on another menu guards nothing here.
    expect(flagged('/ip route remove [find comment=x]\n/ip address add address=10.0.0.1/24 interface=ether1\n')).toEqual(['2:1']);
  });

  it('passes the patterns that are safe to run twice', () => {
    // remove [find comment=...] then add
    expect(flagged('/ip address remove [find comment=x]\n/ip address add address=10.0.0.1/24 interface=ether1 comment=x\n')).toEqual([]);
    // :if ([:len [find ...]] = 0) do={ add ... }
    expect(flagged('/interface bridge\n:if ([:len [find name=bridge-lan]] = 0) do={ add name=bridge-lan }\n')).toEqual([]);
    expect(flagged(':if ([:len [/ip pool find name=lan]] = 0) do={ /ip pool add name=lan ranges=10.0.0.10-10.0.0.99 }\n')).toEqual([]);
    // /ip firewall filter add after remove [find], in either spelling
    expect(flagged('/ip firewall filter remove [find comment~"gitops"]\n/ip/firewall/filter/add chain=input action=accept comment=gitops\n')).toEqual([]);
    expect(flagged('/ip firewall filter\nremove [find]\nadd chain=input action=accept\n')).toEqual([]);
    // a find whose answer the script uses, and a :do with on-error
    expect(flagged(':local id [/ip address find address="10.0.0.1/24"]\n/ip address add address=10.0.0.1/24 interface=ether1\n')).toEqual([]);
    expect(flagged(':do { /user group add name=ops policy=read } on-error={ :log info exists }\n')).toEqual([]);
    // acknowledged: the menu is meant to grow
    expect(flagged('# routeros-gitops: allow unguarded-add\n/log info x\n/system logging add topics=info action=memory\n')).toEqual([]);
  });

  it('finds nothing in sites.example, whose scripts are written to run twice', async () => {
    const { readdirSync, readFileSync, statSync } = await import('node:fs');
    const { join } = await import('node:path');
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : f.endsWith('.rsc') ? [join(dir, f)] : []));
    const files = walk(join(import.meta.dirname, '..', 'sites.example'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) expect(of(readFileSync(f, 'utf8').replace(/\$\{\{[^}]*\}\}/g, 'x'), 'unguarded-add'), f).toEqual([]);
  });
});
