// Hostile input: every case exits 2, names the file, prints no stack trace, and sends nothing.
import { describe, expect, it } from 'vitest';
import { symlink } from 'node:fs/promises';
import { cli, fleetFiles, SITE_IDS } from '../helpers/cli.js';
import { sharedSandbox, useLifecycle } from '../helpers/lifecycle.js';

type Files = Record<string, string | Buffer | null>;
interface Case {
  name: string;
  files?: Files;
  /** Extra setup in the working tree before committing. */
  prepare?: (dir: string) => Promise<void>;
  args?: string[];
  expect: RegExp;
}

const S1 = (extra: string) => ({ 'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\n${extra}` });
const FLEET = (text: string) => ({ 'sites/routeros-gitops.yaml': text });
const SCRIPT = (body: string | Buffer) => ({ 'sites/site-1/50-x.rsc': body });

const cases: Case[] = [
  { name: 'unparsable YAML', files: S1('backup: [true\n'), expect: /site-1\/site\.yaml:\d+:\d+.*not valid YAML/ },
  { name: 'a tab-indented YAML mapping', files: S1('vars:\n\tx: 1\n'), expect: /site-1\/site\.yaml:\d+:\d+.*not valid YAML/ },
  { name: 'unknown site setting', files: S1('expres: true\n'), expect: /site-1\/site\.yaml:2:1.*unknown setting "expres"; did you mean "express"/ },
  {
    name: 'unknown fleet setting',
    files: FLEET('rate_limt: 5\n'),
    expect: /routeros-gitops\.yaml:1:1.*unknown setting "rate_limt"; did you mean "rate_limit"/,
  },
  {
    name: 'unknown group setting',
    files: FLEET('groups:\n  g:\n    exprss: true\n'),
    expect: /routeros-gitops\.yaml:3:5.*unknown setting "groups\.g\.exprss"/,
  },
  { name: 'duplicated key', files: S1('backup: true\nbackup: false\n'), expect: /site-1\/site\.yaml:3:1.*defined twice/ },
  { name: 'missing id', files: { 'sites/site-1/site.yaml': 'backup: true\n' }, expect: /site-1\/site\.yaml.*"id": is required/ },
  { name: 'empty site.yaml', files: { 'sites/site-1/site.yaml': '' }, expect: /site-1\/site\.yaml.*"id": is required/ },
  {
    name: 'malformed id',
    files: { 'sites/site-1/site.yaml': 'id: 1234\n' },
    expect: /site-1\/site\.yaml:1:5.*expected text, got the number 1234|site-1\/site\.yaml:1:5.*UUID/,
  },
  {
    name: 'id that is almost a UUID',
    files: { 'sites/site-1/site.yaml': 'id: 11111111-1111-4111-8111-11111111111\n' },
    expect: /site-1\/site\.yaml:1:5.*UUID/,
  },
  {
    name: 'the same id in two folders',
    files: { 'sites/site-2/site.yaml': `id: ${SITE_IDS[0]}\n` },
    expect: /site-2\/site\.yaml.*also the id of sites\/site-1\/site\.yaml/,
  },
  {
    name: 'site folder without site.yaml',
    files: { 'sites/site-9/a.rsc': '/ip dns set servers=1.1.1.1\n' },
    expect: /sites\/site-9: (error )?this site folder has no site\.yaml/,
  },
  {
    name: 'site.yml instead of site.yaml',
    files: { 'sites/site-9/site.yml': `id: ${SITE_IDS[2]}\n` },
    expect: /sites\/site-9[\s\S]*rename sites\/site-9\/site\.yml to sites\/site-9\/site\.yaml/,
  },
  { name: 'site.yaml that is a list', files: { 'sites/site-1/site.yaml': '- id\n' }, expect: /site-1\/site\.yaml:1:1.*must be a mapping.*list/ },
  { name: 'site.yaml that is a scalar', files: { 'sites/site-1/site.yaml': '42\n' }, expect: /site-1\/site\.yaml:1:1.*must be a mapping.*number/ },
  { name: 'fleet file that is a list', files: FLEET('- a\n- b\n'), expect: /routeros-gitops\.yaml:1:1.*must be a mapping/ },
  {
    name: 'YAML alias bomb',
    files: FLEET(
      `${['a: &a ["x","x","x","x","x","x","x","x","x"]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]', 'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]'].join('\n')}\n`,
    ),
    expect: /routeros-gitops\.yaml.*expands too much/,
  },
  {
    name: 'deeply nested YAML',
    files: FLEET(`vars: ${'['.repeat(200)}${']'.repeat(200)}\n`),
    expect: /routeros-gitops\.yaml.*nested more than|routeros-gitops\.yaml.*not valid YAML/,
  },
  { name: 'a variable that is a mapping', files: S1('vars:\n  x:\n    y: 1\n'), expect: /site-1\/site\.yaml:\d+.*vars\.x/ },
  { name: 'a variable name that cannot be used', files: S1('vars:\n  bad-name: 1\n'), expect: /site-1\/site\.yaml.*variable name/ },
  { name: 'groups that is not a list', files: S1('groups: branch\n'), expect: /site-1\/site\.yaml:2:9.*"groups"/ },
  { name: 'an unknown group', files: S1('groups: [nope]\n'), expect: /site-1\/site\.yaml.*group "nope" does not exist/ },
  {
    name: 'a group folder name that cannot be a group',
    files: { 'sites/_groups/bad name/a.rsc': '/ip dns set servers=1.1.1.1\n' },
    expect: /sites\/_groups\/bad name.*cannot be a group name/,
  },
  {
    name: 'needs_ack spelled as a string',
    files: S1('needs_ack: "yes"\n'),
    expect: /site-1\/site\.yaml:2:12.*"needs_ack".*expected a boolean, true or false, got the string "yes"/,
  },
  { name: 'concurrency 0', files: FLEET('concurrency: 0\n'), expect: /routeros-gitops\.yaml:1:14.*"concurrency"/ },
  {
    name: 'concurrency not a number',
    files: FLEET('concurrency: many\n'),
    expect: /routeros-gitops\.yaml:1:14.*"concurrency".*expected a number, got the string "many"/,
  },
  { name: 'negative timeout', files: S1('timeout: -5\n'), expect: /site-1\/site\.yaml:2:10.*"timeout"/ },
  { name: 'api_url that is not a URL', files: FLEET('api_url: not a url\n'), expect: /routeros-gitops\.yaml:1:10.*"api_url"/ },
  { name: 'api_url with another scheme', files: FLEET('api_url: ftp://example.com\n'), expect: /routeros-gitops\.yaml:1:10.*"api_url"/ },
  {
    name: 'an unknown lint rule',
    files: FLEET('lint:\n  rules:\n    reboots: off\n'),
    expect: /routeros-gitops\.yaml.*unknown lint rule "reboots"; did you mean "reboot"/,
  },
  {
    name: 'a lint rule set to a wrong value',
    files: FLEET('lint:\n  rules:\n    reboot: loud\n'),
    expect: /routeros-gitops\.yaml:3:13.*"lint\.rules\.reboot"/,
  },
  { name: 'a description template with a line break', files: FLEET('description: "gitops\\n{site}"\n'), expect: /routeros-gitops\.yaml.*line break/ },
  { name: 'a description template that can be too short', files: S1('description: "{subject}"\n'), expect: /site-1\/site\.yaml.*fewer than 3 characters/ },
  {
    name: 'a description template that is too long',
    files: FLEET(`description: "${'d'.repeat(120)}"\n`),
    expect: /routeros-gitops\.yaml.*fixed text is 120 characters/,
  },
  {
    name: 'an unknown description placeholder',
    files: FLEET('description: "{site} {branch}"\n'),
    expect: /routeros-gitops\.yaml.*unknown placeholder \{branch\}/,
  },
  { name: 'an empty script', files: SCRIPT(''), expect: /site-1\/50-x\.rsc.*is empty/ },
  { name: 'a whitespace-only script', files: SCRIPT(' \n\t\n'), expect: /site-1\/50-x\.rsc.*is empty/ },
  { name: 'NUL bytes', files: SCRIPT(Buffer.from('/ip dns set servers=1.1.1.1\n\0\0\0')), expect: /site-1\/50-x\.rsc:2:1.*NUL byte/ },
  { name: 'invalid UTF-8', files: SCRIPT(Buffer.from([0x2f, 0x69, 0x70, 0x20, 0xc3, 0x28, 0x0a])), expect: /site-1\/50-x\.rsc:1.*not valid UTF-8/ },
  {
    name: 'a 20 MB script',
    files: SCRIPT(`/ip dns set servers=1.1.1.1 comment="${'x'.repeat(20 * 1024 * 1024)}"\n`),
    expect: /site-1\/50-x\.rsc.*over the largest script read \(4194304 bytes\)/,
  },
  {
    name: 'a script that renders over the limit',
    files: { ...SCRIPT('${{ vars.big }}\n'), ...S1(`vars:\n  big: "${'y'.repeat(12000)}"\n`) },
    expect: /site-1\/50-x\.rsc.*renders to 12001 characters, over max_script_size \(10000\), and cannot be split into jobs/,
  },
  {
    name: 'a site folder name that cannot be a site name',
    files: { 'sites/-bad/site.yaml': `id: ${SITE_IDS[3]}\n` },
    expect: /sites\/-bad.*cannot be a site name/,
  },
  {
    name: 'a site folder name with spaces and quotes',
    files: { 'sites/my "site"/site.yaml': `id: ${SITE_IDS[3]}\n` },
    expect: /sites\/my "site".*cannot be a site name/,
  },
  {
    name: 'a symlink pointing outside the repository',
    prepare: (dir) => symlink('/etc/passwd', `${dir}/sites/site-1/60-link.rsc`),
    expect: /site-1\/60-link\.rsc.*symbolic link/,
  },
  {
    name: 'a symlinked site.yaml',
    prepare: async (dir) => {
      const { rm } = await import('node:fs/promises');
      await rm(`${dir}/sites/site-1/site.yaml`);
      await symlink('/etc/hostname', `${dir}/sites/site-1/site.yaml`);
    },
    expect: /site-1\/site\.yaml.*symbolic link/,
  },
  { name: 'a symlinked site folder', prepare: (dir) => symlink('/etc', `${dir}/sites/site-7`), expect: /sites\/site-7.*symbolic link/ },
  {
    name: 'an undefined template variable',
    files: SCRIPT('/ip dns set servers=${{ vars.nope }}\n'),
    expect: /site-1\/50-x\.rsc:1:21:? \(site site-1\).*"nope" is not defined/,
  },
  { name: 'an unclosed template tag', files: SCRIPT('/ip dns set servers=${{ vars.dns\n'), expect: /site-1\/50-x\.rsc:1:21:? \(site site-1\).*not closed/ },
  { name: 'a template partial', files: SCRIPT('${{> other }}\n'), expect: /site-1\/50-x\.rsc:1:1.*not supported/ },
  { name: 'a YAML merge key', files: S1('<<: {backup: true}\n'), expect: /site-1\/site\.yaml.*unknown setting "<<"/ },
  { name: 'several YAML documents in one file', files: S1('---\nbackup: true\n'), expect: /site-1\/site\.yaml.*not valid YAML/ },
  { name: 'an unknown ref', args: ['--ref', 'does-not-exist'], expect: /does-not-exist/ },
  { name: 'a sites directory that does not exist', args: ['--sites', 'nowhere'], expect: /no sites directory "nowhere"/ },
  { name: 'a bad --concurrency', args: ['--concurrency', 'zero'], expect: /--concurrency "zero" is not a whole number/ },
];

const shared = sharedSandbox();
const life = useLifecycle();

describe(`hostile input (${cases.length} cases)`, () => {
  it.each(cases)('$name', async (c) => {
    const r = await life.repo(fleetFiles(2));
    if (c.prepare) await c.prepare(r.dir);
    if (c.files || c.prepare) await r.commit(c.files ?? {}, 'hostile');
    const before = shared.sb.stats().requests;
    const commands = c.args?.[0] === '--concurrency' ? [['apply']] : [['plan'], ['apply'], ...(c.args ? [] : [['validate']])];
    for (const cmd of commands) {
      const res = await cli([...cmd, ...(c.args ?? [])], { cwd: r.dir, env: shared.env() });
      const all = res.stdout + res.stderr;
      expect(res.code, `${cmd[0]}: ${all}`).toBe(2);
      expect(all, cmd[0]).toMatch(c.expect);
      expect(all).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/); // no stack trace
      expect(all).not.toContain('root:x:0'); // a symlink target is never read
      expect(all.length).toBeLessThan(20_000); // a 20 MB input is not echoed back
    }
    expect(shared.sb.stats().requests - before).toBe(0);
  });
});
