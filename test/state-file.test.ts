import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError, StateConflictError } from '../src/core/errors.js';
import type { Logger } from '../src/core/logger.js';
import type { JobPhase, ScriptRecord, StateUpdate } from '../src/core/state.js';
import { stableStringify } from '../src/state/encoding.js';
import { createFileStateStore } from '../src/state/file-store.js';
import { openStateStore } from '../src/state/open-store.js';
import { createBareRemote, createTempRepo } from './helpers/git-repo.js';

function record(key: string, phase: JobPhase = 'succeeded'): ScriptRecord {
  return {
    path: `sites/x/${key}`,
    generation: 1,
    fingerprint: `fp-${key}`,
    commit: 'c'.repeat(40),
    key,
    job_id: `job-${key}`,
    phase,
    at: '2026-03-01T10:00:00.000Z',
    intended_at: '2026-03-01T10:00:00.000Z',
    source: { blob: 'b'.repeat(40), inputs: 'i' },
  };
}
function update(siteId: string, p: string, r: ScriptRecord = record(`${siteId}/${p}`)): StateUpdate {
  return { site_id: siteId, site: `name-${siteId}`, file: p, record: r };
}

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rgo-file-state-'));
  file = path.join(dir, 'nested', 'state.json');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('file state store', () => {
  it('starts empty, writes sorted pretty JSON atomically, and reads it back', async () => {
    const store = createFileStateStore({ path: file });
    expect(store.describe()).toBe(`file ${file}`);
    expect(await store.load()).toEqual({ version: 2, sites: {}, revision: null });
    await store.record([update('hq', 'b.rsc'), update('hq', 'a.rsc'), { ...update('br', 'x.rsc'), last_commit: 'd'.repeat(40) }]);
    const text = await readFile(file, 'utf8');
    expect(text).toBe(stableStringify(JSON.parse(text)));
    expect(text.indexOf('"a.rsc"')).toBeLessThan(text.indexOf('"b.rsc"'));
    const state = await createFileStateStore({ path: file }).load();
    expect(state.sites.br!.last_commit).toBe('d'.repeat(40));
    expect(Object.keys(state.sites.hq!.scripts)).toEqual(['a.rsc', 'b.rsc']);
    // No temporary file and no lock left behind.
    expect(await readdir(path.dirname(file))).toEqual(['state.json']);
    // A removed script is kept as a tombstone (its send counter must never go back).
    await store.record([update('hq', 'a.rsc', { ...record('hq/a.rsc'), phase: 'removed', at: '2026-03-01T10:00:01.000Z' })]);
    expect((await store.load()).sites.hq!.scripts['a.rsc']!.phase).toBe('removed');
    await store.close();
  });

  it('groups concurrent record() calls into few writes', async () => {
    let writes = 0;
    const logger: Logger = { debug: (_o, msg) => void (msg === 'state recorded' && writes++), info() {}, warn() {}, error() {} };
    const store = createFileStateStore({ path: file, logger });
    await Promise.all(Array.from({ length: 32 }, (_, i) => store.record([update(`s${i % 4}`, `x${i}.rsc`)])));
    const state = await store.load();
    expect(Object.values(state.sites).reduce((n, s) => n + Object.keys(s.scripts).length, 0)).toBe(32);
    expect(writes).toBeLessThanOrEqual(2);
  });

  it('loses no update when two stores write at once (the lock serialises read-merge-write)', async () => {
    const a = createFileStateStore({ path: file });
    const b = createFileStateStore({ path: file });
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) jobs.push(a.record([update('shared', `a${i}.rsc`)]), b.record([update('shared', `b${i}.rsc`)]));
    await Promise.all(jobs);
    expect(Object.keys((await a.load()).sites.shared!.scripts)).toHaveLength(40);
  });

  it('breaks the stale lock of a process that died', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await createFileStateStore({ path: file }).record([update('hq', 'first.rsc')]);
    await writeFile(`${file}.lock`, JSON.stringify({ pid: dead, host: hostname(), at: new Date().toISOString(), token: 'x' }));
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (_o, m) => void warnings.push(m ?? ''), error() {} };
    await createFileStateStore({ path: file, logger, lockTimeoutMs: 2000 }).record([update('hq', 'a.rsc')]);
    expect(warnings).toEqual(['removed a stale state lock']);
    expect(Object.keys((await createFileStateStore({ path: file }).load()).sites.hq!.scripts).sort()).toEqual(['a.rsc', 'first.rsc']);
  });

  it('breaks a lock older than staleLockMs, whoever holds it', async () => {
    await createFileStateStore({ path: file }).record([update('hq', 'first.rsc')]);
    await writeFile(`${file}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), at: 'long ago', token: 'x' }));
    const old = new Date(Date.now() - 60_000);
    await utimes(`${file}.lock`, old, old);
    await createFileStateStore({ path: file, staleLockMs: 30_000 }).record([update('hq', 'a.rsc')]);
    expect(Object.keys((await createFileStateStore({ path: file }).load()).sites.hq!.scripts)).toHaveLength(2);
  });

  it('waits for a live lock, then gives up with StateConflictError saying how to fix it', async () => {
    await createFileStateStore({ path: file }).record([update('hq', 'first.rsc')]);
    await writeFile(`${file}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString(), token: 'other' }));
    const store = createFileStateStore({ path: file, lockTimeoutMs: 300 });
    const err = await store.record([update('hq', 'a.rsc')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateConflictError);
    expect((err as Error).message).toContain(`remove ${file}.lock`);
    // The lock was not ours: it is still there, and the state unchanged.
    expect(JSON.parse(await readFile(`${file}.lock`, 'utf8'))).toMatchObject({ token: 'other' });
    expect(Object.keys((await store.load()).sites.hq!.scripts)).toEqual(['first.rsc']);
  });

  it('names the file when its content is not a state', async () => {
    await createFileStateStore({ path: file }).record([update('hq', 'first.rsc')]);
    await writeFile(file, '{"version": 1, "sites": ');
    await expect(createFileStateStore({ path: file }).load()).rejects.toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON`));
    await writeFile(file, '{"version": 7, "sites": {}}');
    await expect(createFileStateStore({ path: file }).load()).rejects.toThrow(/format version 7, written by a newer routeros-gitops.*upgrade routeros-gitops/);
  });
});

describe('openStateStore', () => {
  it('uses a file when one is named (relative to cwd) and refuses to combine it with ref options', async () => {
    const store = await openStateStore({ cwd: dir, stateFile: 'nested/state.json' });
    expect(store.describe()).toBe(`file ${file}`);
    await expect(openStateStore({ cwd: dir, stateFile: 's.json', stateRemote: 'origin' })).rejects.toThrow(InputError);
  });

  it('uses the state ref, shared through origin when the repository has one', async () => {
    const t = await createTempRepo({ files: { a: 'a' } });
    const remote = await createBareRemote();
    try {
      expect((await openStateStore({ cwd: t.dir })).describe()).toBe('ref refs/routeros-gitops/state');
      expect((await openStateStore({ cwd: t.dir, stateRef: 'refs/x/y' })).describe()).toBe('ref refs/x/y');
      const clone = await remote.clone();
      expect((await openStateStore({ cwd: clone.dir })).describe()).toBe('ref refs/routeros-gitops/state (origin)');
      expect((await openStateStore({ cwd: clone.dir, stateRemote: false })).describe()).toBe('ref refs/routeros-gitops/state');
      expect((await openStateStore({ cwd: clone.dir, stateRemote: '' })).describe()).toBe('ref refs/routeros-gitops/state');
      await expect(openStateStore({ cwd: dir })).rejects.toThrow(InputError);
    } finally {
      await Promise.all([t.cleanup(), remote.cleanup()]);
    }
  });
});
