// Real OS processes writing the same state at the same time: the store under test is bundled
// with esbuild and run by plain `node` children, so nothing is shared but the repository (or file).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppliedState } from '../src/core/state.js';
import { createFileStateStore } from '../src/state/file-store.js';
import { createGitRefStateStore } from '../src/state/git-ref-store.js';
import { createBareRemote, createTempRepo, runGitIn } from './helpers/git-repo.js';

// The child: record `count` updates (or forever), `concurrency` at a time, spread over a few
// sites that the other writer uses too; print one line per durable batch.
const WRITER = `
import { openStateStore } from './store.mjs';
const cfg = JSON.parse(process.argv[2]);
const store = await openStateStore({ cwd: cfg.cwd, stateFile: cfg.stateFile, stateRemote: cfg.remote ?? false });
const rec = (key) => ({ fingerprint: 'fp-' + key, commit: 'c'.repeat(40), key, job_id: 'job-' + key, phase: 'succeeded',
  at: new Date().toISOString(), intended_at: new Date().toISOString(), path: 'sites/x/' + key, generation: 1, source: { blob: 'b'.repeat(40), inputs: 'i' } });
for (let i = 0; cfg.count === null || i < cfg.count; i += cfg.concurrency) {
  const batch = [];
  for (let j = i; j < i + cfg.concurrency && (cfg.count === null || j < cfg.count); j++) {
    const site = 'site-' + (j % 5);
    batch.push(store.record([{ site_id: site, site, file: cfg.prefix + '-' + j + '.rsc', record: rec(cfg.prefix + j) }]));
  }
  await Promise.all(batch);
  process.stdout.write('durable ' + (i + batch.length) + '\\n');
}
await store.close();
`;

let work: string;
let writerPath: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'rgo-multiproc-'));
  await build({
    entryPoints: [path.resolve('src/state/open-store.ts')],
    outfile: path.join(work, 'store.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
  });
  writerPath = path.join(work, 'writer.mjs');
  await writeFile(writerPath, WRITER);
});
afterAll(() => rm(work, { recursive: true, force: true }));

interface Writer {
  child: ChildProcess;
  /** Updates known durable so far (from the child's own reports). */
  durable(): number;
  done: Promise<void>;
}

function startWriter(cfg: { cwd: string; prefix: string; count: number | null; concurrency: number; stateFile?: string; remote?: string }): Writer {
  const child = spawn(process.execPath, [writerPath, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let durable = 0;
  let stderr = '';
  let buffered = '';
  child.stdout!.on('data', (b: Buffer) => {
    buffered += b.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const l of lines) durable = Math.max(durable, Number(l.split(' ')[1]));
  });
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<void>((resolve, reject) =>
    child.on('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`writer ${cfg.prefix} ended with ${code ?? signal}: ${stderr}`)))),
  );
  return { child, durable: () => durable, done };
}

function scriptsOf(state: AppliedState, prefix: string): Set<string> {
  const out = new Set<string>();
  for (const s of Object.values(state.sites)) for (const p of Object.keys(s.scripts)) if (p.startsWith(`${prefix}-`)) out.add(p);
  return out;
}

function expectAll(state: AppliedState, prefix: string, n: number) {
  const got = scriptsOf(state, prefix);
  const lost = Array.from({ length: n }, (_, i) => `${prefix}-${i}.rsc`).filter((p) => !got.has(p));
  expect(lost).toEqual([]);
}

async function waitFor(cond: () => boolean, ms = 15_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for the writer');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('two processes writing one state at once', () => {
  it('git ref: 2 x 200 updates, none lost', async () => {
    const t = await createTempRepo({ files: { a: 'a' } });
    try {
      const writers = ['p', 'q'].map((prefix) => startWriter({ cwd: t.dir, prefix, count: 200, concurrency: 8 }));
      await Promise.all(writers.map((w) => w.done));
      const state = await (await createGitRefStateStore({ cwd: t.dir })).load();
      expectAll(state, 'p', 200);
      expectAll(state, 'q', 200);
      expect(await runGitIn(t.dir, ['fsck', '--connectivity-only', '--no-dangling'])).toBe('');
    } finally {
      await t.cleanup();
    }
  });

  it('file: 2 x 200 updates, none lost', async () => {
    const stateFile = path.join(work, 'state.json');
    const writers = ['p', 'q'].map((prefix) => startWriter({ cwd: work, stateFile, prefix, count: 200, concurrency: 4 }));
    await Promise.all(writers.map((w) => w.done));
    const state = await createFileStateStore({ path: stateFile }).load();
    expectAll(state, 'p', 200);
    expectAll(state, 'q', 200);
  });

  it('remote: two clones pushing to one bare remote, none lost', async () => {
    const remote = await createBareRemote();
    try {
      const [a, b] = await Promise.all([remote.clone(), remote.clone()]);
      const writers = [
        startWriter({ cwd: a!.dir, remote: 'origin', prefix: 'p', count: 200, concurrency: 40 }),
        startWriter({ cwd: b!.dir, remote: 'origin', prefix: 'q', count: 200, concurrency: 40 }),
      ];
      await Promise.all(writers.map((w) => w.done));
      // What the remote holds has everything, seen from a third clone.
      const c = await remote.clone();
      const state = await (await createGitRefStateStore({ cwd: c.dir, remote: 'origin' })).load();
      expectAll(state, 'p', 200);
      expectAll(state, 'q', 200);
    } finally {
      await remote.cleanup();
    }
  });
});

describe('a writer killed with SIGKILL mid-write', () => {
  it('git ref: leaves a readable state holding every update reported durable, and writing goes on', async () => {
    const t = await createTempRepo({ files: { a: 'a' } });
    try {
      const victim = startWriter({ cwd: t.dir, prefix: 'v', count: null, concurrency: 3 });
      const other = startWriter({ cwd: t.dir, prefix: 'o', count: 60, concurrency: 2 });
      await waitFor(() => victim.durable() >= 30);
      victim.child.kill('SIGKILL');
      await victim.done.catch(() => {});
      const seen = victim.durable();
      await other.done;
      const store = await createGitRefStateStore({ cwd: t.dir });
      const state = await store.load();
      expectAll(state, 'v', seen);
      expectAll(state, 'o', 60);
      await store.record([{ site_id: 'site-0', site: 'site-0', last_commit: 'a'.repeat(40) }]);
      expect(await runGitIn(t.dir, ['fsck', '--connectivity-only', '--no-dangling'])).toBe('');
    } finally {
      await t.cleanup();
    }
  });

  it('file: leaves a parseable file holding every update reported durable, and the dead lock is broken', async () => {
    const stateFile = path.join(work, 'killed.json');
    const victim = startWriter({ cwd: work, stateFile, prefix: 'v', count: null, concurrency: 3 });
    await waitFor(() => victim.durable() >= 30);
    victim.child.kill('SIGKILL');
    await victim.done.catch(() => {});
    const store = createFileStateStore({ path: stateFile, lockTimeoutMs: 5000 });
    expectAll(await store.load(), 'v', victim.durable());
    await store.record([{ site_id: 'site-0', site: 'site-0', last_commit: 'a'.repeat(40) }]);
  });
});
