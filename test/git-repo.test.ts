import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitError, InputError } from '../src/core/errors.js';
import type { Logger } from '../src/core/logger.js';
import { openRepo, parseLsTree, type GitRepo } from '../src/git/repo.js';
import { createBareRemote, createTempRepo, runGitIn, type TempRepo } from './helpers/git-repo.js';

/** A logger that keeps the git commands the adapter ran. */
function commandLog(): Logger & { commands: string[] } {
  const commands: string[] = [];
  const keep = (obj: object) => {
    const c = (obj as { command?: unknown }).command;
    if (typeof c === 'string') commands.push(c);
  };
  return { commands, debug: keep, info: keep, warn: keep, error: keep };
}

const ODD_NAMES = [
  'sites/hq core/10 firewall.rsc',
  'sites/zürich-☃/ümlaut.rsc',
  'sites/line\nbreak.rsc',
  'sites/tab\there.rsc',
  'sites/"quoted".rsc',
  'sites/-dash.rsc',
];

describe('openRepo', () => {
  let t: TempRepo;
  beforeAll(async () => {
    t = await createTempRepo({ files: { 'README.md': 'hello\n' } });
  });
  afterAll(() => t.cleanup());

  it('finds the top of the repository from a subfolder', async () => {
    await t.commit({ 'sites/a/x.rsc': '/log info x\n' });
    const repo = await openRepo(path.join(t.dir, 'sites', 'a'));
    expect(repo.root).toBe(await t.git(['rev-parse', '--show-toplevel']));
    expect(repo.bare).toBe(false);
    expect(repo.zeroOid).toBe('0'.repeat(40));
  });

  it('says clearly when the folder is not in a git repository', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rgo-norepo-'));
    try {
      await expect(openRepo(dir)).rejects.toThrow(InputError);
      await expect(openRepo(dir)).rejects.toThrow(/is not in a git repository; run routeros-gitops inside a clone/);
      await expect(openRepo(path.join(dir, 'nope'))).rejects.toThrow(/does not exist/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('opens a bare repository', async () => {
    const remote = await createBareRemote();
    try {
      const repo = await openRepo(remote.dir);
      expect(repo.bare).toBe(true);
      expect(repo.root).toBe(remote.dir);
    } finally {
      await remote.cleanup();
    }
  });
});

describe('listTree and readBlobs', () => {
  let t: TempRepo;
  let repo: GitRepo;
  let commit: string;
  const binary = Buffer.from([0, 1, 2, 10, 13, 0xff, 0xfe, 0x80, 10, 0, 10, 10]);

  beforeAll(async () => {
    t = await createTempRepo();
    const files: Record<string, string | Buffer> = { 'other/ignored.rsc': 'x\n', 'sites/bin.dat': binary, 'sites/empty.rsc': '' };
    for (const n of ODD_NAMES) files[n] = `content of ${n}\n`;
    await t.commit(files, 'odd names');
    await symlink('../other/ignored.rsc', path.join(t.dir, 'sites', 'link.rsc'));
    await runGitIn(t.dir, ['add', '-A']);
    const sub = await t.git(['hash-object', '-t', 'commit', '--stdin', '-w'], {
      input: `tree ${await t.git(['hash-object', '-t', 'tree', '-w', '--stdin'], { input: '' })}\nauthor a <a> 0 +0000\ncommitter a <a> 0 +0000\n\nx\n`,
    });
    await t.git(['update-index', '--add', '--cacheinfo', `160000,${sub},sites/submodule`]);
    await t.git(['commit', '-q', '-m', 'symlink and submodule']);
    commit = await t.git(['rev-parse', 'HEAD']);
    // The working tree must not matter: change and delete files without committing.
    await writeFile(path.join(t.dir, 'sites', 'empty.rsc'), 'uncommitted\n');
    await rm(path.join(t.dir, 'sites', 'bin.dat'));
    repo = await openRepo(t.dir);
  });
  afterAll(() => t.cleanup());

  it('lists files under a folder at a commit, with any characters in their names', async () => {
    const entries = await repo.listTree(commit, 'sites');
    const paths = entries.map((e) => e.path).sort();
    expect(paths).toEqual([...ODD_NAMES, 'sites/bin.dat', 'sites/empty.rsc', 'sites/link.rsc', 'sites/submodule'].sort());
    const bin = entries.find((e) => e.path === 'sites/bin.dat')!;
    expect(bin).toMatchObject({ mode: '100644', type: 'blob', size: binary.length });
    expect(bin.oid).toMatch(/^[0-9a-f]{40}$/);
    expect(entries.find((e) => e.path === 'sites/empty.rsc')).toMatchObject({ size: 0 });
    expect(entries.find((e) => e.path === 'sites/submodule')).toMatchObject({ mode: '160000', type: 'commit', size: 0 });
  });

  it('lists one folder without recursing (folders with their tree id), only some paths, and diffs a folder between two commits', async () => {
    const top = await repo.listDir(commit, 'sites');
    expect(top.find((e) => e.path === 'sites/link.rsc')).toMatchObject({ mode: '120000', type: 'blob' });
    expect(top.find((e) => e.path === 'sites/submodule')).toMatchObject({ mode: '160000', type: 'commit' });
    expect(top.every((e) => e.path.split('/').length === 2)).toBe(true);
    expect(await repo.listDir(commit, 'nope')).toEqual([]);
    expect((await repo.listTree(commit, 'sites', ['sites/bin.dat', 'sites/empty.rsc'])).map((e) => e.path).sort()).toEqual([
      'sites/bin.dat',
      'sites/empty.rsc',
    ]);
    expect(await repo.listTree(commit, 'sites', [])).toEqual([]);

    const r2 = await createTempRepo();
    try {
      const a = await r2.commit({ 'sites/one/site.yaml': 'id: a\n', 'sites/two/x.rsc': 'x\n', 'sites/gone.txt': 'g\n' }, 'a');
      const b = await r2.commit({ 'sites/two/x.rsc': 'y\n', 'sites/gone.txt': null, 'sites/three/y.rsc': 'y\n' }, 'b');
      const g = await openRepo(r2.dir);
      const changes = (await g.diffDir(a, b, 'sites'))!.sort((p, q) => (p.name < q.name ? -1 : 1));
      const topB = await g.listDir(b, 'sites');
      const oidOf = (n: string) => topB.find((e) => e.path === `sites/${n}`)?.oid;
      expect(changes).toEqual([
        { name: 'gone.txt', status: 'deleted', mode: '100644', oid: expect.stringMatching(/^[0-9a-f]{40}$/) },
        { name: 'three', status: 'added', mode: '040000', oid: oidOf('three') },
        { name: 'two', status: 'modified', mode: '040000', oid: oidOf('two') },
      ]);
      expect(await g.diffDir(a, a, 'sites')).toEqual([]);
      expect(await g.diffDir('0'.repeat(40), b, 'sites')).toBeNull();
      expect(await g.diffDir(a, b, 'nope')).toBeNull();
    } finally {
      await r2.cleanup();
    }
  });

  it('reports a symlink as mode 120000 with its target as content, not followed', async () => {
    const link = (await repo.listTree(commit, 'sites/')).find((e) => e.path === 'sites/link.rsc')!;
    expect(link.mode).toBe('120000');
    expect(link.type).toBe('blob');
    const blobs = await repo.readBlobs([link.oid]);
    expect(blobs.get(link.oid)!.toString()).toBe('../other/ignored.rsc');
  });

  it('lists the whole tree for the root and nothing for a missing folder or a sibling with the same prefix', async () => {
    const all = await repo.listTree(commit, '');
    expect(all.some((e) => e.path === 'other/ignored.rsc')).toBe(true);
    expect(await repo.listTree(commit, 'nope')).toEqual([]);
    expect(await repo.listTree(commit, 'site')).toEqual([]);
  });

  it('reads binary, empty and odd-named blobs byte for byte in one git process', async () => {
    const log = commandLog();
    const r = await openRepo(t.dir, { logger: log });
    const entries = (await r.listTree(commit, 'sites')).filter((e) => e.type === 'blob');
    log.commands.length = 0;
    const blobs = await r.readBlobs(entries.map((e) => e.oid));
    expect(log.commands).toEqual(['git cat-file --batch --buffer']);
    const byPath = new Map(entries.map((e) => [e.path, blobs.get(e.oid)!]));
    expect(byPath.get('sites/bin.dat')!.equals(binary)).toBe(true);
    expect(byPath.get('sites/empty.rsc')!.length).toBe(0);
    for (const n of ODD_NAMES) expect(byPath.get(n)!.toString()).toBe(`content of ${n}\n`);
  });

  it('throws a GitError naming a missing object', async () => {
    const missing = 'ab'.repeat(20);
    await expect(repo.readBlobs([missing])).rejects.toThrow(GitError);
    await expect(repo.readBlobs([missing])).rejects.toThrow(new RegExp(missing));
    const objs = await repo.readObjects([missing, `${commit}:sites/empty.rsc`, `${commit}:sites/nope`]);
    expect(objs.get(missing)).toBeNull();
    expect(objs.get(`${commit}:sites/empty.rsc`)).toMatchObject({ type: 'blob' });
    expect(objs.get(`${commit}:sites/nope`)).toBeNull();
  });

  it('returns an empty map for no blobs without starting git', async () => {
    expect((await repo.readBlobs([])).size).toBe(0);
  });
});

describe('many blobs', () => {
  it('reads 2,000 blobs (some large) with one ls-tree and one cat-file', async () => {
    const t = await createTempRepo();
    try {
      const files: Record<string, string | Buffer> = {};
      for (let i = 0; i < 2000; i++) files[`sites/s${i % 50}/${String(i).padStart(4, '0')}.rsc`] = `/log info "script ${i}"\n`.repeat(1 + (i % 7));
      files['sites/big.bin'] = Buffer.alloc(3 * 1024 * 1024 + 7, 0xa5);
      // Written with fast-import: 2,000 files through the working tree would dominate the test.
      const parts: Buffer[] = [Buffer.from('commit refs/heads/main\ncommitter a <a@example.invalid> 0 +0000\ndata 4\nmany\n')];
      for (const [p, c] of Object.entries(files))
        parts.push(Buffer.from(`M 100644 inline ${p}\ndata ${Buffer.byteLength(c)}\n`), Buffer.from(c), Buffer.from('\n'));
      await t.git(['fast-import', '--quiet'], { input: Buffer.concat(parts) });
      const commit = await t.git(['rev-parse', 'main']);
      const log = commandLog();
      const repo = await openRepo(t.dir, { logger: log });
      log.commands.length = 0;
      const entries = await repo.listTree(commit, 'sites');
      expect(entries).toHaveLength(2001);
      const blobs = await repo.readBlobs(entries.map((e) => e.oid));
      expect(log.commands.map((c) => c.split(' ')[1])).toEqual(['ls-tree', 'cat-file']);
      for (const e of entries) expect(blobs.get(e.oid)!.equals(Buffer.from(files[e.path]!))).toBe(true);
    } finally {
      await t.cleanup();
    }
  });
});

describe('resolveCommit', () => {
  let t: TempRepo;
  let repo: GitRepo;
  beforeAll(async () => {
    t = await createTempRepo();
    repo = await openRepo(t.dir);
  });
  afterAll(() => t.cleanup());

  it('explains an empty repository', async () => {
    await expect(repo.resolveCommit('HEAD')).rejects.toThrow(
      /no commit named 'HEAD' \(the repository has no commits yet\); pass --ref with a branch, tag or commit/,
    );
  });

  it('resolves branches, tags and abbreviated shas to the commit with subject and time', async () => {
    const sha = await t.commit({ 'a.rsc': 'x' }, 'first: the subject\n\nbody');
    await t.git(['tag', '-a', '-m', 'annotated', 'v1']);
    for (const ref of ['HEAD', 'main', 'v1', sha.slice(0, 8), sha]) {
      const c = await repo.resolveCommit(ref);
      expect(c.sha).toBe(sha);
      expect(c.subject).toBe('first: the subject');
      expect(c.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    }
  });

  it('throws an InputError naming an unknown ref and saying how to fix it', async () => {
    const err = await repo.resolveCommit('nope/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain("no commit named 'nope/x'; pass --ref with a branch, tag or commit");
    await expect(repo.resolveCommit('--output=/tmp/x')).rejects.toThrow(InputError);
    await expect(repo.resolveCommit('')).rejects.toThrow(InputError);
    // A tree is not a commit.
    await expect(repo.resolveCommit('HEAD^{tree}')).rejects.toThrow(InputError);
  });
});

describe('relation', () => {
  let t: TempRepo;
  let repo: GitRepo;
  const c: Record<string, string> = {};
  beforeAll(async () => {
    t = await createTempRepo();
    c.a = await t.commit({ f: '1' }, 'a');
    c.b = await t.commit({ f: '2' }, 'b');
    await t.git(['checkout', '-q', '-b', 'side', c.a]);
    c.x = await t.commit({ f: '3' }, 'x');
    repo = await openRepo(t.dir);
  });
  afterAll(() => t.cleanup());

  it('tells same, ancestor, descendant and diverged apart', async () => {
    expect(await repo.relation(c.a!, c.a!)).toBe('same');
    expect(await repo.relation(c.a!, 'main~1')).toBe('same');
    expect(await repo.relation(c.a!, c.b!)).toBe('ancestor');
    expect(await repo.relation(c.b!, c.a!)).toBe('descendant');
    expect(await repo.relation(c.b!, c.x!)).toBe('diverged');
  });

  it('is unknown when a commit is not in the repository', async () => {
    expect(await repo.relation(c.a!, 'cd'.repeat(20))).toBe('unknown');
    expect(await repo.relation('cd'.repeat(20), c.a!)).toBe('unknown');
  });

  it('is unknown rather than diverged in a shallow clone', async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'rgo-shallow-'));
    try {
      await runGitIn(parent, ['clone', '-q', '--no-local', '--depth', '1', '--no-single-branch', t.dir, 'clone']);
      const shallow = await openRepo(path.join(parent, 'clone'));
      expect(await shallow.relation(c.b!, c.x!)).toBe('unknown');
      expect(await shallow.relation(c.a!, c.b!)).toBe('unknown');
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});

describe('parseLsTree', () => {
  it('parses padded sizes, dashes and paths with tabs', () => {
    const oid = '1'.repeat(40);
    const out = `100644 blob ${oid}      12\ta\tb\u0000160000 commit ${oid}       -\tsub\u0000`;
    expect(parseLsTree(out)).toEqual([
      { mode: '100644', type: 'blob', oid, size: 12, path: 'a\tb' },
      { mode: '160000', type: 'commit', oid, size: 0, path: 'sub' },
    ]);
    expect(() => parseLsTree('garbage\0')).toThrow(GitError);
  });
});
