// Template values are escaped for where they land (core/template.ts): inside a RouterOS string they
// stay text whatever they hold; outside quotes only plain words pass; the raw form is flagged.
import { describe, expect, it } from 'vitest';
import { compileTemplate, escapeRouterOsString, renderTemplate, sourcePosition } from '../src/core/template.js';
import { scanScript } from '../src/lint/scanner.js';
import { lintScript } from '../src/lint/index.js';
import { validateRuleSettings } from '../src/lint/rules.js';
import { HOSTILE_VALUES, unescapeRouterOs } from './helpers/routeros.js';

const HOSTILE = HOSTILE_VALUES;

/** The rendering's text and problems (where its pieces came from is tested below). */
const render = (src: string, vars: Record<string, string | number | boolean>, secrets: Record<string, string> = {}) => {
  const { text, problems } = renderTemplate(src, compileTemplate(src), { vars, site: { name: 'hq', id: 'id-1' }, secrets });
  return { text, problems };
};

describe('values inside a RouterOS string', () => {
  it.each(HOSTILE)('%j stays one string, and RouterOS reads back exactly the value', (value) => {
    const src = '/system identity set name="${{ vars.x }}"\n/ppp secret set [find name=isp] password="${{ secrets.pw }}"\n';
    const out = render(src, { x: value }, { pw: value });
    expect(out.problems).toEqual([]);
    const scan = scanScript(out.text);
    expect(scan.problems).toEqual([]);
    // Two commands, as written: nothing was added.
    expect(scan.statements.map((s) => s.args[0]!.text)).toEqual(['/system', '/ppp']);
    const name = scan.statements[0]!.args.find((a) => a.text.startsWith('name='))!.text;
    expect(unescapeRouterOs(name.slice('name="'.length, -1))).toBe(value);
    const pw = scan.statements[1]!.args.find((a) => a.text.startsWith('password='))!.text;
    expect(unescapeRouterOs(pw.slice('password="'.length, -1))).toBe(value);
  });

  it('escapes \\ " $ and control characters as RouterOS writes them', () => {
    expect(escapeRouterOsString('a\\b"c$d\ne\rf\tg\u0001h\u007f')).toBe('a\\\\b\\"c\\$d\\ne\\rf\\tg\\01h\\7F');
    expect(escapeRouterOsString('plain text 1.2.3.4/24')).toBe('plain text 1.2.3.4/24');
  });

  it('knows where a value lands after sections are resolved, and inside $( ) in a string it is code', () => {
    // The section opens the quote: the value is inside a string only when the section is kept.
    const src = ':put ${{#vars.q}}"${{/vars.q}}${{ vars.x }}${{#vars.q}}"${{/vars.q}}\n';
    expect(render(src, { q: true, x: 'a b' })).toEqual({ text: ':put "a b"\n', problems: [] });
    expect(render(src, { q: false, x: 'a b' }).problems).toMatchObject([{ kind: 'vars', name: 'x', context: 'code' }]);
    expect(render(':put "n=$(${{ vars.x }})"\n', { x: 'a;b' }).problems).toMatchObject([{ name: 'x', context: 'code', line: 1, column: 11 }]);
  });
});

describe('values outside quotes', () => {
  it('pass when they are plain words (letters, digits and . - _ / : ,), numbers and booleans included', () => {
    const out = render('/ip address add address=${{ vars.a }} interface=${{ vars.i }} comment=${{ vars.n }}${{ vars.b }}\n', {
      a: '10.0.0.1/24',
      i: 'ether1',
      n: 42,
      b: true,
    });
    expect(out).toEqual({ text: '/ip address add address=10.0.0.1/24 interface=ether1 comment=42true\n', problems: [] });
    expect(render('/ip dns set servers=${{ vars.d }}\n', { d: '1.1.1.1,2606:4700::1111' }).problems).toEqual([]);
  });

  it.each(HOSTILE.filter((v) => !/^[\w.\-/:,]*$/.test(v)))('%j is refused, at the tag', (value) => {
    const out = render('/system identity set\n/ip dns set servers=${{ vars.x }}\n', { x: value });
    expect(out.problems).toEqual([{ kind: 'vars', name: 'x', line: 2, column: 21, context: 'code', value }]);
  });

  it('in a # comment, a line break, control character or backslash is refused', () => {
    expect(render('# owner: ${{ vars.o }}\n/system identity set name=x\n', { o: 'Jane Doe (NOC)' }).problems).toEqual([]);
    expect(render('# owner: ${{ vars.o }}\n/system identity set name=x\n', { o: 'x\n/system reset-configuration' }).problems).toMatchObject([
      { name: 'o', context: 'comment', line: 1, column: 10 },
    ]);
  });
});

describe('the raw form', () => {
  it('${{{ ... }}} and ${{& ... }} insert the value as is, and are marked raw', () => {
    const src = ':put "${{{ vars.x }}}"\n${{& vars.cmd }}\n';
    const t = compileTemplate(src);
    expect(t.refs.map((r) => [r.name, r.raw === true])).toEqual([
      ['x', true],
      ['cmd', true],
    ]);
    const out = render(src, { x: 'a"b', cmd: '/ip dns set servers=1.1.1.1' });
    expect(out).toEqual({ text: ':put "a"b"\n/ip dns set servers=1.1.1.1\n', problems: [] });
  });

  it('is flagged by the checks at every use; it can be made an error, never turned off', () => {
    const raw = [{ kind: 'vars', name: 'cmd', line: 2, column: 1 }];
    expect(lintScript('/ip dns set servers=1.1.1.1\n', { rawValues: raw })).toEqual([
      expect.objectContaining({ rule: 'raw-template-value', severity: 'warning', line: 2, column: 1 }),
    ]);
    expect(lintScript('/ip dns set servers=1.1.1.1\n', { rawValues: raw, rules: { 'raw-template-value': 'error' } })[0]!.severity).toBe('error');
    expect(lintScript('/ip dns set servers=1.1.1.1\n', { rawValues: raw, rules: { 'raw-template-value': 'off' } })[0]!.severity).toBe('warning');
    expect(validateRuleSettings({ 'raw-template-value': 'off' })).toEqual([expect.stringMatching(/cannot be turned off/)]);
  });
});

describe('values in strings RouterOS runs later as a script', () => {
  const HOOK = 'x"; /system reset-configuration no-defaults=yes; :put "';
  it.each([
    ['a hook string', '/system scheduler set [find name=n] on-event=":log info \\"${{ vars.x }}\\""\n'],
    ['a hook built by an expression', '/system scheduler set [find name=n] on-event=(":log info \\"" . "${{ vars.x }}" . "\\"")\n'],
    ['a hook converted from a string', '/ip dhcp-client set [find interface=ether1] script=[:tostr "${{ vars.x }}"]\n'],
    [':parse of a joined string', ':local f [:parse (":log info " . "${{ vars.x }}")]\n'],
    [':execute', ':execute (":log info \\"" . "${{ vars.x }}" . "\\"")\n'],
    ['a variable that a hook reads', ':local hook (":log info \\"" . "${{ vars.x }}" . "\\"")\n/system scheduler set [find name=n] on-event=$hook\n'],
  ])('%s: only a plain word may stand there', (_what, src) => {
    const bad = render(src, { x: HOOK });
    expect(bad.problems).toMatchObject([{ kind: 'vars', name: 'x', context: 'code-string' }]);
    expect(render(src, { x: 'gitops-42' }).problems).toEqual([]);
  });

  it('a string that is only text, next to a hook, takes any value', () => {
    const src = ':local note "${{ vars.x }}"\n/system scheduler set [find name=n] on-event=":log info done"\n/system identity set name="${{ vars.x }}"\n';
    expect(render(src, { x: HOOK }).problems).toEqual([]);
  });
});

describe('positions in a rendering map back to the file', () => {
  it('past a section left out, and past a value longer than its tag', () => {
    const src = '/ip dns\n${{#vars.lte}}\n/interface lte set lte1 apn=x\n${{/vars.lte}}\nset servers=${{ vars.dns }} allow-remote=yes\n';
    const out = renderTemplate(src, compileTemplate(src), {
      vars: { lte: false, dns: '1.1.1.1,9.9.9.9,8.8.8.8' },
      site: { name: 'hq', id: 'id-1' },
      secrets: {},
    });
    // Rendered: line 1 "/ip dns", line 2 "", line 3 "set servers=... allow-remote=yes".
    const line = out.text.split('\n').findIndex((l) => l.startsWith('set servers')) + 1;
    const column = out.text.split('\n')[line - 1]!.indexOf('allow-remote') + 1;
    expect(sourcePosition(src, out, line, column)).toEqual({ line: 5, column: src.split('\n')[4]!.indexOf('allow-remote') + 1 });
    // A position inside the value maps to its tag.
    expect(sourcePosition(src, out, line, 'set servers='.length + 3)).toEqual({ line: 5, column: 'set servers='.length + 1 });
  });
});
