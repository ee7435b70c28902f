// The RouterOS scanner: real-world forms it must accept, and broken scripts it must catch at the
// right line and column.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintScript, type Finding } from '../src/lint/index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'lint');
const read = (dir: string, name: string) => readFileSync(join(FIXTURES, dir, name), 'utf8');
const validFiles = readdirSync(join(FIXTURES, 'valid'))
  .filter((f) => f.endsWith('.rsc'))
  .sort();
const brokenFiles = readdirSync(join(FIXTURES, 'broken'))
  .filter((f) => f.endsWith('.rsc'))
  .sort();

const errors = (text: string) => lintScript(text).filter((f) => f.severity === 'error');
const where = (fs: Finding[]) => fs.map((f) => `${f.rule}@${f.line}:${f.column}`);

describe('valid corpus', () => {
  it('holds every form the scanner must accept', () => {
    expect(validFiles).toEqual([
      'arrays.rsc',
      'export-full.rsc',
      'firewall-queues-dns.rsc',
      'global-functions.rsc',
      'nested-interpolation.rsc',
      'onerror-retry.rsc',
      'real-world-idioms.rsc',
      'slash-paths.rsc',
    ]);
  });

  it.each(validFiles)('%s has no error-level finding', (name) => {
    expect(where(errors(read('valid', name)))).toEqual([]);
  });

  it.each(validFiles)('%s has no error-level finding with CRLF line ends either', (name) => {
    expect(where(errors(read('valid', name).replace(/\n/g, '\r\n')))).toEqual([]);
  });

  it('finds the same findings with CRLF and LF line ends', () => {
    const text = read('valid', 'export-full.rsc');
    expect(lintScript(text.replace(/\n/g, '\r\n'))).toEqual(lintScript(text));
  });

  it('has no syntax notice (inline comments, trailing spaces) in the corpus either', () => {
    for (const name of validFiles) {
      const notices = lintScript(read('valid', name)).filter((f) => ['inline-comment', 'continuation-space', 'unknown-allow'].includes(f.rule));
      expect(where(notices), name).toEqual([]);
    }
  });
});

/** Every broken file, with every finding it must produce (rule@line:column), and no other. */
const BROKEN: Record<string, string[]> = {
  'comment-after-continuation.rsc': ['comment-after-continuation@2:33'],
  'comment-in-continued-command.rsc': ['comment-after-continuation@3:5'],
  'crlf-invalid-escape.rsc': ['invalid-escape@2:43'],
  'export-string-unterminated.rsc': ['unterminated-string@2:23'],
  'invalid-escape.rsc': ['invalid-escape@2:23', 'invalid-escape@2:32', 'invalid-escape@3:17'],
  'line-break-in-brackets.rsc': ['line-break-in-brackets@1:59'],
  'line-break-in-parens.rsc': ['line-break-in-brackets@3:16'],
  'lowercase-hex-escape.rsc': ['invalid-escape@1:10'],
  'mismatched-bracket.rsc': ['unbalanced-bracket@1:37'],
  'param-space.rsc': ['param-space@2:27'],
  'stray-backslash.rsc': ['stray-backslash@2:17'],
  'stray-close-brace.rsc': ['unbalanced-bracket@3:1'],
  'unclosed-brace.rsc': ['unbalanced-bracket@2:42'],
  'unclosed-inner-paren.rsc': ['unbalanced-bracket@1:26'],
  'unclosed-interpolation.rsc': ['unbalanced-bracket@1:15'],
  'unterminated-string.rsc': ['unterminated-string@1:11'],
};

describe('broken corpus', () => {
  it('has an expectation for every file', () => {
    expect(brokenFiles).toEqual(Object.keys(BROKEN).sort());
  });

  it.each(brokenFiles)('%s is caught at the right line and column', (name) => {
    expect(where(errors(read('broken', name)))).toEqual(BROKEN[name]);
  });

  it('explains each error in plain words, with where the other bracket is', () => {
    const [mismatch] = errors(read('broken', 'mismatched-bracket.rsc'));
    expect(mismatch!.message).toBe('this ) does not match the [ opened at line 1 column 11. Close that one with ].');
    const [stray] = errors(read('broken', 'stray-close-brace.rsc'));
    expect(stray!.message).toMatch(/no matching \{.*silently skipped/);
    const [brk] = errors(read('broken', 'line-break-in-parens.rsc'));
    expect(brk!.message).toMatch(/the \( opened at line 3 column 5 is still open here.*end the line with \\/);
  });
});

describe('lexical rules', () => {
  // The scanner's own rules: whether a script is safe to run twice (unguarded-add) is tested in lint-rules.test.ts.
  const lexical = (text: string) => lintScript(text).filter((f) => f.rule !== 'unguarded-add');
  const ok = (text: string) => expect(where(lexical(text))).toEqual([]);
  const only = (text: string, ...expected: string[]) => expect(where(lexical(text))).toEqual(expected);

  it('reads single quotes as ordinary characters', () => {
    ok(":put \"it's\"\n:local s don't\n:put 'x\n");
  });

  it('reads # glued to a value as text, and # at a statement start as a comment', () => {
    ok('/ip firewall address-list add list=a address=10.0.0.1 comment=a#b\n');
    ok(':if (true) do={\n    # indented comment in a block\n  :put 1; # after a semicolon\n}\n');
    ok(':if (true) do={ # right after the opening brace\n  :put 1\n}\n');
    ok('# unbalanced { [ ( " in a comment are not read\n:put 1\n');
  });

  it('warns about # after a command without a ; (RouterOS does not read it as a comment)', () => {
    only('/system identity set name=x # set the name\n', 'inline-comment@1:29');
    // The rest of the line is not scanned further: its quote does not open a string.
    only(':put 1 # the "2\n:put 2\n', 'inline-comment@1:8');
  });

  it('accepts do { and } else { without =', () => {
    ok(':do {\n  :put 1\n} on-error={}\n:if (true) do={\n  :put 1\n} else {\n  :put 2\n}\n');
  });

  it('accepts arrays across lines and arrays of arrays', () => {
    ok(':local a {\n  "x"="1";\n  y=2\n}\n:local b {{1;2};\n  {3;4}}\n');
  });

  it('accepts raw line breaks and continuations in strings', () => {
    ok(':put "line one\nline two"\n:put "wrapped \\\n      here"\n');
  });

  it('accepts every documented escape and rejects the rest', () => {
    ok(':put "\\" \\\\ \\n \\r \\t \\$ \\? \\_ \\a \\b \\f \\v \\00 \\7F \\C3\\A9"\n');
    only(':put "\\x41"\n', 'invalid-escape@1:7');
    only(':put "\\4"\n', 'invalid-escape@1:7');
    only(':put "\\4c"\n', 'invalid-escape@1:7');
    only(':put "a\\ b"\n', 'invalid-escape@1:8');
  });

  it('pushes $( and $[ inside strings onto the bracket stack, however deep', () => {
    ok(':put "a $[:pick "b $("c" . [:len "d]"])" 0 1] e"\n');
    only(':put "a $(1 + 2] b"\n', 'unbalanced-bracket@1:16');
    // \$ is a literal dollar: no code follows it.
    ok(':put "cost \\$[not code"\n');
  });

  it('reads $[ split from its $ by an /export line wrap', () => {
    ok('/system script add name=x source="a \\$x b $\\\n    [/system identity get name] c"\n');
  });

  it('joins lines ending in \\ into one command', () => {
    ok('/ip address add \\\n    address=10.0.0.1/24 \\\n    interface=ether1\n');
  });

  it('warns about spaces after a line-ending \\', () => {
    only('/ip address add \\  \n    address=10.0.0.1/24 interface=ether1\n', 'continuation-space@1:17');
  });

  it('flags whitespace before = only where it is a parameter', () => {
    only('/ip route add gateway = 1.1.1.1\n', 'param-space@1:15');
    only('/ip route add gateway =1.1.1.1\n', 'param-space@1:15');
    only(':for i from = 1 to=3 do={ :put $i }\n', 'param-space@1:8');
    // The manual allows a space after =, comparisons in ( ) and `where` queries take spaces.
    ok(':for i= 1 to= 3 do={ :put $i }\n');
    ok(':local a 1\n:if ($a = 1) do={ :put yes }\n');
    ok(':put [/interface find where name = "ether1"]\n');
    ok('/ip firewall filter print where chain = input\n');
  });

  it('tells blocks from arrays: a parameter space is an error in a block only', () => {
    only(':onerror e {\n  /ip route add gateway = 1.1.1.1\n} do={ :put $e }\n', 'param-space@2:17');
    only(':retry {\n  /ip route add gateway = 1.1.1.1\n} delay=1s max=3\n', 'param-space@2:17');
    ok(':local a { x = 1; y = 2 }\n');
  });

  it('flags a line break inside ( ) or [ ] once, and accepts it inside { }', () => {
    only(':put [:len\n"abc"]\n', 'line-break-in-brackets@1:11');
    ok(':put [:do {\n  :return 1\n} on-error={}]\n');
  });

  it('reports each kind of bracket problem', () => {
    only(':put (1 + 2\n', 'line-break-in-brackets@1:12');
    only(':put (1 + 2', 'unbalanced-bracket@1:6');
    only(':put 1)\n', 'unbalanced-bracket@1:7');
    only(':put 1]\n', 'unbalanced-bracket@1:7');
    only('{\n  :put 1\n}\n}\n:put 2\n', 'unbalanced-bracket@4:1');
    only('{ :put [:len "x" }\n', 'unbalanced-bracket@1:18');
  });

  it('ignores brackets and # in strings', () => {
    ok(':put "} ] ) { [ ( # not code"\n');
  });

  it('handles CR-only line ends and a byte-order mark', () => {
    ok('\uFEFF# header\r:put 1\r:put "two"\r');
    only('\uFEFF:put "\\q"\n', 'invalid-escape@1:7');
    only(':put 1\r:put "\\q"\r', 'invalid-escape@2:7');
  });

  it('leaves routeros-gitops template tags alone', () => {
    ok('/ip address add address=${{ vars.lan_address }} interface=${{ vars.lan }}\n');
    ok(':put "${{ site.name }} is ${{#vars.lte}}on LTE${{/vars.lte}}"\n');
    ok('/interface pppoe-client add name=wan user=x password="<secret:pppoe>"\n');
  });

  it('never throws on arbitrary input', () => {
    const samples = ['', '\\', '"', '$', '${{', '"$[', '"$(', '}', ')', ']', '#', '\r', '\n\n\\\n', '"\\', ':put "\\\r\n', 'a = ', '{{{{', '"$[[[[(("'];
    for (const s of samples) expect(() => lintScript(s)).not.toThrow();
  });
});
