// The checks that know RouterOS: each finding kind on a script it flags and on a close one it does
// not, the versions in both directions, and the places commands hide in (relative menus, blocks,
// [ ], $[ ], find and where). Against the committed data set, as the CLI reads it.
import { describe, expect, it } from 'vitest';
import { loadCommandTree } from '../src/assets/command-data.js';
import { routerOsTarget } from '../src/lint/command-tree.js';
import { lintScript, type Finding } from '../src/lint/index.js';
import { parseRouterOsVersion } from '../src/lint/routeros-version.js';

const tree = loadCommandTree();

function check(text: string, version?: string, packages?: string[]): Finding[] {
  const { target } = routerOsTarget(tree, version ? parseRouterOsVersion(version) : undefined, packages);
  return lintScript(text, { routeros: target }).filter((f) => f.severity === 'error');
}

/** `rule line:column` of each error. */
function found(text: string, version?: string, packages?: string[]): string[] {
  return check(text, version, packages).map((f) => `${f.rule} ${f.line}:${f.column}`);
}

describe('unknown menus, commands and parameters', () => {
  it('flags a misspelt menu in either spelling, at the word, and says what was meant', () => {
    const spaced = check('/ip firewll filter add chain=input action=drop\n');
    expect(spaced.map((f) => `${f.rule} ${f.line}:${f.column}`)).toEqual(['unknown-menu 1:5']);
    expect(spaced[0]!.message).toContain('did you mean `firewall`?');
    expect(found('/ip/firewll/filter/add chain=input action=drop\n')).toEqual(['unknown-menu 1:5']);
    expect(found('/ip firewall filter add chain=input action=drop\n/ip/firewall/filter/add chain=input action=drop\n')).toEqual([]);
  });

  it('flags a command the menu does not have, and not the right one', () => {
    const f = check('/ip address adx address=10.0.0.1/24 interface=ether1\n');
    expect(f.map((x) => `${x.rule} ${x.line}:${x.column}`)).toEqual(['unknown-command 1:13']);
    expect(f[0]!.message).toContain('did you mean `add`?');
    expect(found('/ip address add address=10.0.0.1/24 interface=ether1\n')).toEqual([]);
  });

  it('flags a parameter the command does not take, at the parameter', () => {
    const f = check('/ip firewall filter add chain=input acton=drop\n');
    expect(f.map((x) => `${x.rule} ${x.line}:${x.column}`)).toEqual(['unknown-parameter 1:37']);
    expect(f[0]!.message).toContain('did you mean `action`?');
    expect(found('/ip firewall filter add chain=input action=drop\n')).toEqual([]);
  });

  it('flags parameters with no command before them (a missing \\ at the end of the line before)', () => {
    expect(found('/ip address add address=10.0.0.1/24\n    interface=ether1\n')).toEqual(['unknown-command 2:5']);
    expect(found('/ip address add address=10.0.0.1/24 \\\n    interface=ether1\n')).toEqual([]);
    expect(found('/ip dns servers=1.1.1.1\n')).toEqual(['unknown-command 1:9']);
    expect(found('/ip dns set servers=1.1.1.1\n')).toEqual([]);
  });

  it('accepts names abbreviated as the console completes them, and flags a word that starts no name', () => {
    expect(found('/ip fire filter pr\n/int eth set ether1 mt=1500\n')).toEqual([]);
    expect(found('/ip fjre filter print\n')).toEqual(['unknown-menu 1:5']);
  });

  it('gives advice (never an error) on each abbreviated menu and command name: a later version can make it ambiguous', () => {
    const { target } = routerOsTarget(tree, undefined, undefined);
    const advice = (text: string) =>
      lintScript(text, { routeros: target })
        .filter((f) => f.rule === 'abbreviated-name')
        .map((f) => `${f.level} ${f.line}:${f.column} ${f.message.slice(0, f.message.indexOf(':'))}`);
    expect(advice('/ip fire filter pr\n/int eth set ether1 mt=1500\n')).toEqual([
      'advice 1:5 `fire` is an abbreviation of the menu /ip firewall',
      'advice 1:17 `pr` is an abbreviation of the command `print` of /ip firewall filter',
      'advice 2:2 `int` is an abbreviation of the menu /interface',
      'advice 2:6 `eth` is an abbreviation of the menu /interface ethernet',
    ]);
    expect(advice('/ip firewall filter print\n/interface ethernet set ether1 mtu=1500\n/ip/firewall/filter/print\n')).toEqual([]);
  });

  it('flags an unknown scripting command, and knows the real ones', () => {
    expect(found(':puts "x"\n')).toEqual(['unknown-command 1:1']);
    expect(found(':put "x"\n:local a 1\n:log info "x"\n:delay 1s\n')).toEqual([]);
  });
});

describe('values', () => {
  it('flags a value outside the parameter’s list, item by item, and accepts the listed ones', () => {
    const f = check('/certificate add name=c common-name=c key-usage=tls-server,tls-clint\n');
    expect(f.map((x) => `${x.rule} ${x.line}:${x.column}`)).toEqual(['invalid-value 1:60']);
    expect(f[0]!.message).toContain('did you mean `tls-client`?');
    expect(found('/certificate add name=c common-name=c key-usage=tls-server,tls-client\n')).toEqual([]);
  });

  it('leaves values it cannot know alone: variables, commands, and types no completion confirms', () => {
    expect(found(':local u "tls-server"\n/certificate add name=c common-name=c key-usage=$u\n')).toEqual([]);
    // :deserialize options= lists json.* only; completions show dsv.* too (eworm-de uses dsv.plain).
    expect(found(':put [:deserialize "a;b" delimiter=";" from=dsv options=dsv.plain]\n', '7.22.3')).toEqual([]);
  });
});

describe('versions', () => {
  const bgp = '/routing bgp connection add name=peer1 remote.address=10.0.0.2 local.role=ebgp';

  it('flags a parameter added in a later version, and accepts it from that version on', () => {
    const f = check(`${bgp} instance=main\n`, '7.19.4');
    expect(f.map((x) => x.rule)).toEqual(['not-in-version']);
    expect(f[0]!.message).toContain('`instance` of /routing bgp connection add exists from 7.20; this site runs 7.19.4');
    expect(found(`${bgp} instance=main\n`, '7.20')).toEqual([]);
  });

  it('flags a parameter removed in a later version, and accepts it before', () => {
    const f = check(`${bgp} router-id=1.1.1.1\n`, '7.20.4');
    expect(f.map((x) => x.rule)).toEqual(['not-in-version']);
    expect(f[0]!.message).toContain('up to 7.19.6 (removed in 7.20)');
    expect(found(`${bgp} router-id=1.1.1.1\n`, '7.19.4')).toEqual([]);
  });

  it('follows a rename: /tool e-mail address= until 7.11, server= from 7.12', () => {
    expect(found('/tool e-mail set address=10.0.0.1\n', '7.11.3')).toEqual([]);
    expect(found('/tool e-mail set address=10.0.0.1\n', '7.12.2')).toEqual(['not-in-version 1:18']);
    expect(found('/tool e-mail set server=10.0.0.1\n', '7.12.2')).toEqual([]);
    expect(found('/tool e-mail set server=10.0.0.1\n', '7.11.3')).toEqual(['not-in-version 1:18']);
  });

  it('checks a version missing from the data set against the closest one before it', () => {
    expect(found(`${bgp} instance=main\n`, '7.19.5')).toEqual(['not-in-version 1:80']);
    expect(check(`${bgp} instance=main\n`, '7.19.5')[0]!.message).toContain('this site runs 7.19.5');
  });

  it('checks a site with no version against the newest in the data set', () => {
    const newest = tree.versions[tree.versions.length - 1]!;
    const f = check('/ip firewall filter add chain=input acton=drop\n');
    expect(f[0]!.message).toContain(`in RouterOS ${newest}`);
  });

  it('does not check RouterOS 6 against a RouterOS 7 tree', () => {
    expect(routerOsTarget(tree, parseRouterOsVersion('6.49.10'), undefined)).toEqual({ note: expect.stringContaining('not checked') });
  });
});

describe('extra packages', () => {
  const container = '/container add remote-image=alpine:latest interface=veth1\n';

  it('accepts any extra package when the site does not list its packages', () => {
    expect(found(container, '7.20.8')).toEqual([]);
  });

  it('flags a menu of a package the site does not list, and accepts it when listed', () => {
    const f = check(container, '7.20.8', ['wireless']);
    expect(f.map((x) => `${x.rule} ${x.line}:${x.column}`)).toEqual(['missing-package 1:2']);
    expect(f[0]!.message).toContain('extra package container');
    expect(found(container, '7.20.8', ['container'])).toEqual([]);
  });
});

describe('console transcripts', () => {
  it('flags a prompt and the output after it once, and checks the commands after them', () => {
    const text = [
      '[admin@MikroTik] > /ip address print',
      'Flags: D - DYNAMIC',
      'Columns: ADDRESS, NETWORK, INTERFACE',
      '#   ADDRESS            NETWORK       INTERFACE',
      '0   192.168.88.1/24    192.168.88.0  bridge',
      '/ip address add address=10.0.0.1/24 interfce=ether1',
      '',
    ].join('\n');
    expect(found(text)).toEqual(['console-paste 1:1', 'unknown-parameter 6:37']);
  });

  it('flags printed output on its own: print detail and property lists', () => {
    const detail = ' 0   ;;; defconf: accept established\n     chain=input action=accept connection-state=established,related\n';
    expect(found(detail)).toEqual(['console-paste 1:2']);
    expect(found('                  uptime: 1d2h3m\n                 version: 7.16.2 (stable)\n')).toEqual(['console-paste 1:19']);
  });

  it('does not take a prompt in a string, or arrays of numbers, for pasted text', () => {
    expect(found(':put "[admin@MikroTik] > "\n:local a {1;2;3}\n:foreach i in={1;2} do={:put $i}\n')).toEqual([]);
  });
});

describe('where commands hide', () => {
  it('resolves relative menus after a menu line, and .. to go up', () => {
    expect(found('/ip firewall filter\nadd chain=input acton=drop\n')).toEqual(['unknown-parameter 2:17']);
    expect(found('/ip firewall\nfilter add chain=input acton=drop\n')).toEqual(['unknown-parameter 2:24']);
    expect(found('/ip firewall filter\n.. nat add chain=srcnat acton=masquerade\n')).toEqual(['unknown-parameter 2:25']);
    expect(found('/ip firewall filter\nadd chain=input action=drop\n.. nat add chain=srcnat action=masquerade\n')).toEqual([]);
  });

  it('checks the commands in :do, :if, :foreach, :onerror, :retry and function bodies', () => {
    const blocks = [
      ':do { /ip address add adress=10.0.0.1/24 interface=ether1 } on-error={ :put "x" }',
      ':if (true) do={ /ip route add gatway=10.0.0.1 } else={ :put "y" }',
      ':foreach i in=[/interface find] do={ /interface set $i mut=1500 }',
      ':onerror e in={ /ip dns set servrs=1.1.1.1 } do={ :put $e }',
      ':retry command={ /tool fetch urll="https://example.com" } delay=1s max=3',
      ':global f do={ /system identity set nmae=$1 }',
    ];
    expect(found(`${blocks.join('\n')}\n`, '7.20.8').map((f) => f.split(' ')[0])).toEqual(Array(6).fill('unknown-parameter'));
    expect(
      found(
        `${blocks.map((b) => b.replace(/adress=|gatway=|mut=|servrs=|urll=|nmae=/, (m) => ({ 'adress=': 'address=', 'gatway=': 'gateway=', 'mut=': 'mtu=', 'servrs=': 'servers=', 'urll=': 'url=', 'nmae=': 'name=' })[m]!)).join('\n')}\n`,
        '7.20.8',
      ),
    ).toEqual([]);
  });

  it('checks commands inside [ ] and $[ ], in the menu of the command around them', () => {
    expect(found(':put [/ip adress get [find interface=ether1] address]\n')).toEqual(['unknown-menu 1:11']);
    expect(found(':put "count: $[/interface prnt count-only]"\n')).toEqual(['unknown-command 1:27']);
    expect(found('/ip address set [fnd interface=ether1] comment=x\n')).toEqual(['unknown-command 1:18']);
    expect(found(':put [/ip address get [find interface=ether1] address]\n:put "count: $[/interface print count-only]"\n')).toEqual([]);
  });

  it('resolves find and where queries, print as-value, and get and set on properties', () => {
    const ok = [
      '/interface print as-value where name~"ether"',
      ':put [/interface get [find default-name=ether1 running] name]',
      ':foreach r in=[/ip route find where dst-address="0.0.0.0/0" !disabled] do={ :put [/ip route get $r gateway] }',
      '/system identity get name',
      '/ip dns set servers=1.1.1.1 allow-remote-requests=no',
      '/ip firewall filter remove [find where chain=input and comment~"x"]',
    ];
    expect(found(`${ok.join('\n')}\n`)).toEqual([]);
  });

  it('runs a { } after a menu in that menu', () => {
    expect(found('/system scheduler {\n  add name=x on-event=y intervl=1d\n}\n')).toEqual(['unknown-parameter 2:25']);
    expect(found('/system scheduler {\n  add name=x on-event=y interval=1d\n}\n')).toEqual([]);
  });

  it('reads /export’s shorthand for dotted names (remote.address=x .as=y)', () => {
    expect(found('/routing bgp connection add name=b remote.address=10.0.0.2 .as=65000 local.role=ebgp\n', '7.20.8')).toEqual([]);
    expect(found('/routing bgp connection add name=b remote.address=10.0.0.2 .ass=65000 local.role=ebgp\n', '7.20.8')).toEqual(['unknown-parameter 1:60']);
  });

  it('accepts what exists only on hardware, which a CHR tree cannot list', () => {
    expect(found('/system routerboard settings set auto-upgrade=yes\n/interface ethernet set [find default-name=ether1] poe-out=off\n')).toEqual([]);
  });
});

describe('settings of the rules', () => {
  it('turns a rule off, or acknowledges one finding with a comment', () => {
    const { target } = routerOsTarget(tree, undefined, undefined);
    const text = '/ip firewall filter add chain=input acton=drop\n';
    const rules = { 'unguarded-add': 'off' } as const;
    expect(lintScript(text, { routeros: target, rules: { ...rules, 'unknown-parameter': 'off' } })).toEqual([]);
    expect(lintScript(text, { routeros: target, rules: { ...rules, 'unknown-parameter': 'warning' } }).map((f) => f.severity)).toEqual(['warning']);
    expect(lintScript(text, { routeros: target, rules: { ...rules, 'unknown-parameter': 'advice' } }).map((f) => f.level)).toEqual(['advice']);
    expect(lintScript(`# routeros-gitops: allow unknown-parameter\n${text}`, { routeros: target }).filter((f) => f.rule === 'unknown-parameter')).toEqual([]);
  });
});
