import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitError, InputError } from '../src/core/errors.js';
import type { Logger } from '../src/core/logger.js';
import { openRepo } from '../src/git/repo.js';
import { siteFilePath, stableStringify } from '../src/state/encoding.js';
import { createGitRefStateStore, DEFAULT_STATE_REF, remoteTrackingRef } from '../src/state/git-ref-store.js';
import type { BareRemote, TempRepo } from './helpers/git-repo.js';
import { useLifecycle } from './helpers/lifecycle.js';
import { COMMIT, scriptRecord, STATE_REPO_FILES, stateUpdate } from './helpers/state-records.js';

const record = scriptRecord;
/** A removed script's tombstone. */
const removedRecord = (key: string) => record(key, 'removed', '2026-03-01T10:00:09.000Z');
const update = stateUpdate;

function commandLog(): Logger & { commands: string[] } {
  const commands: string[] = [];
  const keep = (obj: object) => {
    const c = (obj as { command?: unknown }).command;
    if (typeof c === 'string') commands.push(c);
  };
  return { commands, debug: keep, info: () => {}, warn: () => {}, error: () => {} };
}

const life = useLifecycle();
const tempRepo = () => life.repo(STATE_REPO_FILES);

describe('git ref state store', () => {
  it('starts empty, records, and reads back what it recorded', async () => {
    const t = await tempRepo();
    const store = await createGitRefStateStore({ cwd: t.dir });
    expect(store.describe()).toBe(`ref ${DEFAULT_STATE_REF}`);
    expect(await store.load()).toEqual({ version: 2, sites: {}, revision: null });
    expect(await store.head()).toBeNull();

    await store.record([update('hq', '10-firewall.rsc'), update('hq', '20-dns.rsc'), { ...update('br1', 'a.rsc'), last_commit: COMMIT }]);
    const state = await store.load();
    expect(Object.keys(state.sites).sort()).toEqual(['br1', 'hq']);
    expect(state.sites.hq!.scripts['20-dns.rsc']).toEqual(record('hq/20-dns.rsc'));
    expect(state.sites.br1!.last_commit).toBe(COMMIT);
    // A second store (another process, say) reads the same.
    expect(await (await createGitRefStateStore({ cwd: t.dir })).load()).toEqual(state);
    await store.close();
  });

  it('lays the state out as format.json and one sorted, pretty JSON file per site', async () => {
    const t = await tempRepo();
    const store = await createGitRefStateStore({ cwd: t.dir });
    await store.record([update('hq', 'b.rsc'), update('hq', 'a.rsc')]);
    const files = (await t.git(['ls-tree', '-r', '--name-only', DEFAULT_STATE_REF])).split('\n');
    expect(files).toEqual(['format.json', siteFilePath('hq')]);
    expect(siteFilePath('hq')).toMatch(/^sites\/[0-9a-f]{2}\/hq\.json$/);
    expect(await t.git(['show', `${DEFAULT_STATE_REF}:format.json`])).toBe('{\n  "version": 2\n}');
    const text = await t.git(['show', `${DEFAULT_STATE_REF}:${siteFilePath('hq')}`]);
    expect(`${text}\n`).toBe(stableStringify(JSON.parse(text)));
    expect(text.indexOf('"a.rsc"')).toBeLessThan(text.indexOf('"b.rsc"'));
    expect(text).toMatch(/^\{\n {2}"last_commit": null,\n {2}"scripts": \{/);
  });

  it('keeps history: each write is a commit on the previous one, by routeros-gitops, with a readable message', async () => {
    const t = await tempRepo();
    const store = await createGitRefStateStore({ cwd: t.dir });
    await store.record([update('hq', '10-firewall.rsc', record('k1', 'running'))]);
    const first = await store.head();
    await store.record([update('hq', '10-firewall.rsc', record('k1', 'succeeded')), update('br1', 'x.rsc'), update('br2', 'y.rsc'), update('br3', 'z.rsc')]);
    const second = await store.head();
    expect(await t.git(['rev-parse', `${second}^`])).toBe(first);
    expect(await t.git(['log', '-1', '--format=%s', first!])).toBe('record 1 update: name-hq 10-firewall.rsc running');
    expect(await t.git(['log', '-1', '--format=%s', second!])).toBe(
      'record 4 updates: name-hq 10-firewall.rsc succeeded, name-br1 x.rsc succeeded, name-br2 y.rsc succeeded and 1 more',
    );
    expect(await t.git(['log', '-1', '--format=%b', second!])).toContain('br3 z.rsc: succeeded job=job-br3/z.rsc key=br3/z.rsc');
    expect(await t.git(['log', '-1', '--format=%an <%ae>|%cn', second!])).toBe('routeros-gitops <noreply@routeros-gitops.invalid>|routeros-gitops');
    // Only the changed site's blob differs between the two commits.
    expect((await t.git(['diff', '--name-only', first!, second!])).split('\n').sort()).toEqual(['br1', 'br2', 'br3', 'hq'].map(siteFilePath).sort());
  });

  it('never touches HEAD, the index or the working tree, and needs no git identity', async () => {
    const t = await tempRepo();
    await t.git(['config', '--unset', 'user.name']);
    await t.git(['config', '--unset', 'user.email']);
    const head = await t.git(['rev-parse', 'HEAD']);
    const index = await readFile(path.join(t.dir, '.git', 'index'));
    const indexMtime = (await stat(path.join(t.dir, '.git', 'index'))).mtimeMs;
    const store = await createGitRefStateStore({ cwd: t.dir });
    for (let i = 0; i < 3; i++) await store.record([update('hq', `${i}.rsc`)]);
    expect(await t.git(['rev-parse', 'HEAD'])).toBe(head);
    expect(await t.git(['symbolic-ref', 'HEAD'])).toBe('refs/heads/main');
    expect((await readFile(path.join(t.dir, '.git', 'index'))).equals(index)).toBe(true);
    expect((await stat(path.join(t.dir, '.git', 'index'))).mtimeMs).toBe(indexMtime);
    expect(await t.git(['status', '--porcelain', '--ignored'])).toBe('');
    // Only the state ref was added; no scratch refs are left behind.
    expect(await t.git(['for-each-ref', '--format=%(refname)'])).toBe(`refs/heads/main\n${DEFAULT_STATE_REF}`);
  });

  it('keeps a removed script as a tombstone, and writes nothing when nothing changes', async () => {
    const t = await tempRepo();
    const store = await createGitRefStateStore({ cwd: t.dir });
    await store.record([update('hq', 'a.rsc'), update('hq', 'b.rsc')]);
    await store.record([update('hq', 'a.rsc', removedRecord('hq/a.rsc'))]);
    expect((await store.load()).sites.hq!.scripts['a.rsc']!.phase).toBe('removed');
    const head = await store.head();
    await store.record([update('hq', 'b.rsc')]);
    await store.record([update('hq', 'a.rsc', removedRecord('hq/a.rsc'))]);
    expect(await store.head()).toBe(head);
  });

  it('applies mergeRecord: a final outcome is not overwritten by a late pending record of the same key', async () => {
    const t = await tempRepo();
    const store = await createGitRefStateStore({ cwd: t.dir });
    await store.record([update('hq', 'a.rsc', record('k', 'succeeded', '2026-03-01T10:00:02.000Z'))]);
    await store.record([update('hq', 'a.rsc', record('k', 'running', '2026-03-01T10:00:05.000Z'))]);
    expect((await store.load()).sites.hq!.scripts['a.rsc']!.phase).toBe('succeeded');
  });

  it('groups concurrent record() calls into few commits and resolves each when stored', async () => {
    const t = await tempRepo();
    const store = await createGitRefStateStore({ cwd: t.dir });
    const calls = Array.from({ length: 32 }, (_, i) => store.record([update(`site-${i % 8}`, `s${i}.rsc`)]));
    await Promise.all(calls);
    const state = await store.load();
    expect(Object.values(state.sites).reduce((n, s) => n + Object.keys(s.scripts).length, 0)).toBe(32);
    // The first call goes out alone; the other 31 accumulate meanwhile and go in the next commit.
    expect(Number(await t.git(['rev-list', '--count', DEFAULT_STATE_REF]))).toBeLessThanOrEqual(3);
  });

  it('loses no update when two stores on one repository race (compare-and-swap, re-read, retry)', async () => {
    const t = await tempRepo();
    const a = await createGitRefStateStore({ cwd: t.dir });
    const b = await createGitRefStateStore({ cwd: t.dir });
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      jobs.push(a.record([update('shared', `a${i}.rsc`)]));
      jobs.push(b.record([update('shared', `b${i}.rsc`)]));
      if (i % 2 === 0) await Promise.all(jobs.splice(0));
    }
    await Promise.all(jobs);
    const scripts = Object.keys((await a.load()).sites.shared!.scripts);
    expect(scripts).toHaveLength(20);
  });

  it('records one update into a 5,000-site state with two git processes and small trees, whatever the fleet size', async () => {
    const t = await tempRepo();
    const log = commandLog();
    const repo = await openRepo(t.dir, { logger: log });
    const store = await createGitRefStateStore({ repo });
    await store.record(Array.from({ length: 5000 }, (_, i) => update(`site-${i}`, 'a.rsc')));
    await store.record([update('site-41', 'b.rsc')]); // warm up (reads core.fsync once)
    expect((await t.git(['ls-tree', '-r', '--name-only', DEFAULT_STATE_REF, 'sites'])).split('\n')).toHaveLength(5000);
    log.commands.length = 0;
    await store.record([update('site-42', 'b.rsc')]);
    const verbs = () => log.commands.map((c) => / (fast-import|update-ref|cat-file|rev-parse|ls-tree)\b/.exec(c)?.[1]);
    expect(verbs()).toEqual(['fast-import', 'update-ref']);
    // The trees that commit wrote are small: the root, sites/ (256 buckets) and one bucket.
    const head = (await store.head())!;
    expect(Number(await t.git(['cat-file', '-s', `${head}:sites`]))).toBeLessThan(256 * 40);
    expect(Number(await t.git(['cat-file', '-s', `${head}:${path.dirname(siteFilePath('site-42'))}`]))).toBeLessThan(60 * 50);
    // A cold store reads just the one site's file.
    log.commands.length = 0;
    const cold = await createGitRefStateStore({ repo });
    await cold.record([update('site-43', 'b.rsc')]);
    expect(verbs()).toEqual(['rev-parse', 'cat-file', 'fast-import', 'update-ref']); // cat-file: 1 site + format.json
  });

  it('keeps site ids with any characters in safe file names', async () => {
    const t = await tempRepo();
    const store = await createGitRefStateStore({ cwd: t.dir });
    const ids = ['a/b', '../x', '.hidden', 'zürich ☃', 'UPPER_lower-1.2'];
    await store.record(ids.map((id) => update(id, 'x.rsc')));
    expect(Object.keys((await store.load()).sites).sort()).toEqual([...ids].sort());
    const files = (await t.git(['ls-tree', '-r', '-z', '--name-only', DEFAULT_STATE_REF])).split('\0').filter(Boolean);
    for (const f of files.filter((f) => f !== 'format.json')) expect(f).toMatch(/^sites\/[0-9a-f]{2}\/[A-Za-z0-9_%-][A-Za-z0-9_.%-]*\.json$/);
    expect(siteFilePath('a/b')).toMatch(/^sites\/[0-9a-f]{2}\/a%2Fb\.json$/);
  });

  it('refuses a ref that does not hold a state, a newer format, and bad ref names', async () => {
    const t = await tempRepo();
    const onMain = await createGitRefStateStore({ cwd: t.dir, ref: 'refs/heads/main' });
    await expect(onMain.load()).rejects.toThrow(/does not hold a routeros-gitops state \(no format.json\); pass --state-ref/);
    await expect(onMain.record([update('hq', 'a.rsc')])).rejects.toThrow(InputError);

    const store = await createGitRefStateStore({ cwd: t.dir, ref: 'refs/routeros-gitops/v2' });
    await store.record([update('hq', 'a.rsc')]);
    const blob = await t.git(['hash-object', '-w', '--stdin'], { input: '{"version": 3}\n' });
    const tree = await t.git(['mktree'], { input: `100644 blob ${blob}\tformat.json\n` });
    const c = await t.git(['commit-tree', tree, '-p', 'refs/routeros-gitops/v2', '-m', 'from the future']);
    await t.git(['update-ref', 'refs/routeros-gitops/v2', c]);
    const fresh = await createGitRefStateStore({ cwd: t.dir, ref: 'refs/routeros-gitops/v2' });
    await expect(fresh.load()).rejects.toThrow(
      /format version 3, written by a newer routeros-gitops; this one reads versions up to 2: upgrade routeros-gitops/,
    );

    for (const bad of ['state', 'refs/a..b', 'refs/x y', 'refs/x/', 'refs/x.lock', '-x']) {
      await expect(createGitRefStateStore({ cwd: t.dir, ref: bad })).rejects.toThrow(InputError);
    }
  });

  it('rejects malformed updates at once, without failing other callers', async () => {
    const t = await tempRepo();
    const store = await createGitRefStateStore({ cwd: t.dir });
    const bad = [store.record([update('', 'a.rsc')]), store.record([update('hq', '')])];
    const good = store.record([update('hq', 'ok.rsc')]);
    await expect(bad[0]).rejects.toThrow(/site_id/);
    await expect(bad[1]).rejects.toThrow(/file name/);
    await good;
    expect(Object.keys((await store.load()).sites)).toEqual(['hq']);
  });
});

describe('git ref state store with a remote', () => {
  let remote: BareRemote;

  async function clones(n: number): Promise<TempRepo[]> {
    // The state ref needs no branch: the clones start from an empty remote.
    remote = await life.remote();
    return Promise.all(Array.from({ length: n }, () => remote.clone()));
  }

  it('treats a missing remote ref as an empty state, then pushes the first write', async () => {
    const [a] = await clones(1);
    const store = await createGitRefStateStore({ cwd: a!.dir, remote: 'origin' });
    expect(store.describe()).toBe(`ref ${DEFAULT_STATE_REF} (origin)`);
    expect(await store.load()).toEqual({ version: 2, sites: {}, revision: null });
    await store.record([update('hq', 'a.rsc')]);
    expect(await remote.git(['rev-parse', DEFAULT_STATE_REF])).toBe(await store.head());
    expect(await a!.git(['rev-parse', store.trackingRef!])).toBe(await store.head());
    expect(store.trackingRef).toBe('refs/routeros-gitops/remotes/origin/state');
  });

  it('shares the state between clones: one records, the other loads it', async () => {
    const [a, b] = await clones(2);
    const sa = await createGitRefStateStore({ cwd: a!.dir, remote: 'origin' });
    const sb = await createGitRefStateStore({ cwd: b!.dir, remote: 'origin' });
    await sa.record([update('hq', 'a.rsc')]);
    expect(Object.keys((await sb.load()).sites.hq!.scripts)).toEqual(['a.rsc']);
    expect(await sb.head()).toBe(await sa.head()); // a fast-forward, no merge commit
  });

  it('merges diverged writes (push rejected by the lease, fetch, merge, push again)', async () => {
    const [a, b] = await clones(2);
    const sa = await createGitRefStateStore({ cwd: a!.dir, remote: 'origin' });
    const sb = await createGitRefStateStore({ cwd: b!.dir, remote: 'origin' });
    await sa.record([update('hq', 'keep.rsc'), update('hq', 'drop.rsc'), update('br', 'x.rsc')]);
    await sb.load();
    // Both write without looking: a forgets one script of hq, b adds another to hq and a new site.
    await sa.record([update('hq', 'drop.rsc', removedRecord('hq/drop.rsc')), update('br', 'x.rsc', { ...record('x2', 'failed'), generation: 2 })]);
    await sb.record([update('hq', 'new.rsc'), update('br2', 'y.rsc')]);
    const merged = await sb.load();
    expect(Object.keys(merged.sites.hq!.scripts).sort()).toEqual(['drop.rsc', 'keep.rsc', 'new.rsc']);
    expect(merged.sites.hq!.scripts['drop.rsc']!.phase).toBe('removed');
    expect(merged.sites.br!.scripts['x.rsc']!.phase).toBe('failed');
    expect(Object.keys(merged.sites).sort()).toEqual(['br', 'br2', 'hq']);
    const parents = (await b!.git(['log', '-1', '--format=%P', DEFAULT_STATE_REF])).split(' ');
    expect(parents).toHaveLength(2);
    expect(await remote.git(['rev-parse', DEFAULT_STATE_REF])).toBe(await sb.head());
    // And a, loading, fast-forwards to the merge.
    expect(await sa.load()).toEqual(merged);
    expect(await sa.head()).toBe(await sb.head());
  });

  it('reports a remote it cannot reach as a GitError without credentials', async () => {
    const t = await tempRepo();
    const url = 'http://robot:TOPSECRET@127.0.0.1:1/state.git';
    const store = await createGitRefStateStore({ cwd: t.dir, remote: url });
    expect(store.describe()).toBe(`ref ${DEFAULT_STATE_REF} (http://***@127.0.0.1:1/state.git)`);
    expect(store.trackingRef).toMatch(/^refs\/routeros-gitops\/remotes\/url-[0-9a-f]{16}\/state$/);
    const err = await store.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect(`${(err as GitError).message}${(err as GitError).command}`).not.toContain('TOPSECRET');
    const err2 = await store.record([update('hq', 'a.rsc')]).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(GitError);
    expect(`${(err2 as GitError).message}${(err2 as GitError).command}`).not.toContain('TOPSECRET');
  });

  it('names tracking refs after the remote and the ref', () => {
    expect(remoteTrackingRef('refs/routeros-gitops/state', 'origin')).toBe('refs/routeros-gitops/remotes/origin/state');
    expect(remoteTrackingRef('refs/custom/state', 'up')).toBe('refs/routeros-gitops/remotes/up/custom/state');
    expect(remoteTrackingRef(DEFAULT_STATE_REF, 'https://a:b@h/x')).toBe(remoteTrackingRef(DEFAULT_STATE_REF, 'https://c:d@h/x'));
  });
});
