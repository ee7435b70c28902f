// Invalid input: every problem reported at once, exit 2, the file (and line) named, no stack
// trace, and nothing sent.
import { describe, expect, it } from 'vitest';
import { symlink } from 'node:fs/promises';
import { cli, fleetFiles, SITE_IDS } from './helpers/cli.js';
import { sharedSandbox, useLifecycle } from './helpers/lifecycle.js';

const shared = sharedSandbox();
const life = useLifecycle();

const good = fleetFiles(2);
const env = () => shared.env();

/** Commit `files` over a valid fleet and expect plan, validate and apply to refuse with these messages. */
async function expectInvalid(files: Record<string, string | Buffer | null>, expected: Array<string | RegExp>) {
  const r = await life.repo(good);
  await r.commit(files, 'break it');
  const before = shared.sb.stats().requests;
  for (const cmd of ['plan', 'apply', 'validate']) {
    const res = await cli([cmd], { cwd: r.dir, env: env() });
    const all = res.stdout + res.stderr;
    expect(res.code, `${cmd}: ${all}`).toBe(2);
    for (const e of expected) expect(all, cmd).toMatch(e);
    expect(all).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack trace
  }
  expect(shared.sb.stats().requests).toBe(before); // nothing sent
  return r;
}

describe('validation', () => {
  it('a file name with a control character is refused, shown escaped (a terminal would hide what it is)', async () => {
    await expectInvalid({ 'sites/site-1/20-a\rb.rsc': '/ip dns set servers=1.1.1.1\n' }, [
      /sites\/site-1\/20-a\\rb\.rsc:( error)? has a control character in its name/,
    ]);
  });

  it('a script ending in upper-case .RSC is named as not applied', async () => {
    const r = await life.repo({ ...good, 'sites/site-1/70-UPPER.RSC': '/ip dns set servers=1.1.1.1\n' });
    const res = await cli(['plan'], { cwd: r.dir });
    expect(res.stdout + res.stderr).toContain('sites/site-1/70-UPPER.RSC: is not applied: scripts end in .rsc, in lower case');
  });

  it('unparsable YAML names the file and line', async () => {
    await expectInvalid({ 'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\nneeds_ack: [true\n` }, [/sites\/site-1\/site\.yaml:\d+:\d+.*not valid YAML/]);
  });
  it('an unknown key says "did you mean"', async () => {
    await expectInvalid({ 'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\nneeds_akc: true\n` }, [
      /sites\/site-1\/site\.yaml:2:1.*unknown setting "needs_akc"; did you mean "needs_ack"\?/,
    ]);
  });
  it('an unknown fleet setting, with its line', async () => {
    await expectInvalid({ 'sites/routeros-gitops.yaml': 'concurrency: 4\nconcurency: 8\n' }, [
      /sites\/routeros-gitops\.yaml:2:1.*unknown setting "concurency"; did you mean "concurrency"\?/,
    ]);
  });
  it('a duplicated key', async () => {
    await expectInvalid({ 'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\nbackup: true\nbackup: false\n` }, [/sites\/site-1\/site\.yaml:3:1.*defined twice/]);
  });
  it('a missing id', async () => {
    await expectInvalid({ 'sites/site-1/site.yaml': 'backup: true\n' }, [/sites\/site-1\/site\.yaml.*"id": is required/]);
  });
  it('a malformed id', async () => {
    await expectInvalid({ 'sites/site-1/site.yaml': 'id: not-a-uuid\n' }, [/sites\/site-1\/site\.yaml:1:5.*UUID/]);
  });
  it('the same id in two folders', async () => {
    await expectInvalid({ 'sites/site-2/site.yaml': `id: ${SITE_IDS[0]}\n` }, [/sites\/site-2\/site\.yaml.*also the id of sites\/site-1\/site\.yaml/]);
  });
  it('a site folder without site.yaml', async () => {
    await expectInvalid({ 'sites/site-3/00-a.rsc': '/ip dns set servers=1.1.1.1\n' }, [/sites\/site-3: (error )?this site folder has no site\.yaml/]);
  });
  it('an empty script', async () => {
    await expectInvalid({ 'sites/site-1/20-empty.rsc': '\n  \n' }, [/sites\/site-1\/20-empty\.rsc.*is empty/]);
  });
  it('a script that is not UTF-8, with its line', async () => {
    await expectInvalid({ 'sites/site-1/20-latin1.rsc': Buffer.from('/system identity set name=ok\n/system note set note="caf\xe9"\n', 'latin1') }, [
      /sites\/site-1\/20-latin1\.rsc:2.*not valid UTF-8/,
    ]);
  });
  it('a binary script (NUL byte)', async () => {
    await expectInvalid({ 'sites/site-1/20-bin.rsc': Buffer.from([0x2f, 0x69, 0x70, 0x00, 0x01]) }, [/sites\/site-1\/20-bin\.rsc:1:4.*NUL byte/]);
  });
  it('a script over the size limit that cannot be split into jobs (one command longer than the limit)', async () => {
    await expectInvalid({ 'sites/site-1/20-big.rsc': `/ip dns set servers=1.1.1.1 comment="${'x'.repeat(12_000)}"\n` }, [
      /sites\/site-1\/20-big\.rsc:1.*renders to 12\d\d\d characters, over max_script_size \(10000\), and cannot be split into jobs/,
    ]);
  });
  it('a symlink is never followed', async () => {
    const r = await life.repo(good);
    await symlink('/etc/passwd', `${r.dir}/sites/site-1/20-link.rsc`);
    await r.commit({}, 'link');
    const res = await cli(['plan'], { cwd: r.dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/sites\/site-1\/20-link\.rsc: is a symbolic link/);
    expect(res.stderr + res.stdout).not.toContain('root:');
  });
  it('description templates that can be too short, too long, have an unknown placeholder or a line break', async () => {
    await expectInvalid({ 'sites/routeros-gitops.yaml': `description: "{subject}"\n` }, [/fewer than 3 characters/]);
    await expectInvalid({ 'sites/routeros-gitops.yaml': `description: "${'x'.repeat(101)}"\n` }, [/fixed text is 101 characters/]);
    await expectInvalid({ 'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\ndescription: "{site} {bogus}"\n` }, [/unknown placeholder \{bogus\}/]);
    await expectInvalid({ 'sites/routeros-gitops.yaml': 'description: "a\\nb {site}"\n' }, [/line break/]);
  });
  it('reports every problem at once', async () => {
    await expectInvalid(
      {
        'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\nbakup: true\n`,
        'sites/site-2/10-dns.rsc': '',
        'sites/site-3/00-a.rsc': '/ip dns set servers=1.1.1.1\n',
      },
      [
        // validate also warns that site-2's scripts were checked against the newest RouterOS (no routeros: setting).
        /3 problems in the input; nothing was sent|3 errors, 1 warning/,
        /bakup/,
        /site-2\/10-dns\.rsc.*empty/,
        /site-3: (error )?this site folder has no site\.yaml/,
      ],
    );
  });
  it('a site.yaml that is a list, and one that is a scalar', async () => {
    await expectInvalid({ 'sites/site-1/site.yaml': '- a\n- b\n' }, [/site-1\/site\.yaml:1:1.*must be a mapping.*not a list/]);
    await expectInvalid({ 'sites/site-1/site.yaml': 'hello\n' }, [/site-1\/site\.yaml:1:1.*must be a mapping.*not a string/]);
  });
  it('a YAML alias bomb and deeply nested YAML', async () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    ].join('\n');
    await expectInvalid({ 'sites/routeros-gitops.yaml': `${bomb}\n` }, [/routeros-gitops\.yaml.*expands too much/]);
    await expectInvalid({ 'sites/routeros-gitops.yaml': `vars: ${'['.repeat(60)}${']'.repeat(60)}\n` }, [/routeros-gitops\.yaml.*nested more than/]);
  });
  it('a site folder name that cannot be a site name', async () => {
    await expectInvalid({ 'sites/bad name!/site.yaml': `id: ${SITE_IDS[2]}\n`, 'sites/bad name!/a.rsc': '/ip dns set servers=1.1.1.1\n' }, [
      /sites\/bad name!: (error )?"bad name!" cannot be a site name/,
    ]);
  });
  it('no sites directory at all', async () => {
    const r = await life.repo({ 'README.md': 'x\n' });
    const res = await cli(['plan'], { cwd: r.dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/there is no sites directory "sites".*pass --sites/s);
  });
  it('an unknown ref, and a folder that is not a repository', async () => {
    const r = await life.repo(good);
    const res = await cli(['plan', '--ref', 'nope'], { cwd: r.dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/nope/);
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const bare = await mkdtemp(`${tmpdir()}/rgo-norepo-`);
    const res2 = await cli(['plan'], { cwd: bare });
    expect(res2.code).toBe(2);
    expect(res2.stderr).toMatch(/not in a git repository/);
  });
  it('apply without SDX_API_TOKEN sends nothing and says how to fix it', async () => {
    const r = await life.repo(good);
    const res = await cli(['apply'], { cwd: r.dir, env: { SDX_API_URL: shared.sb.url } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/SDX_API_TOKEN is not set/);
  });
});

describe('the parse cache', () => {
  it('is keyed by blob: a valid file cached earlier never hides a later invalid edit; a broken cache file is ignored', async () => {
    const { writeFile, readFile } = await import('node:fs/promises');
    const r = await life.repo(good);
    expect((await cli(['plan'], { cwd: r.dir })).code).toBe(0);
    const cacheFile = `${r.dir}/.git/routeros-gitops/parse-cache.json`;
    const cached = JSON.parse(await readFile(cacheFile, 'utf8')) as { entries: Record<string, unknown> };
    expect(Object.keys(cached.entries)).toHaveLength(2);
    await r.commit({ 'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\nbakup: true\n` }, 'typo');
    const bad = await cli(['plan'], { cwd: r.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/did you mean "backup"/);
    await writeFile(cacheFile, '{ not json');
    await r.commit({ 'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\n` }, 'fixed');
    expect((await cli(['plan'], { cwd: r.dir })).code).toBe(0);
    expect(JSON.parse(await readFile(cacheFile, 'utf8')).entries).toBeTypeOf('object');
  });
});
