// The check cache (issue 18): a script already checked is not checked again, on the main thread or
// in worker threads; a change of anything the checks read (rules, the RouterOS version, the command
// data) is a miss. The cache is made to lie (its file edited) to show when it is used.
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, SITE_IDS } from './helpers/cli.js';
import { useLifecycle } from './helpers/lifecycle.js';
import { openCheckCache } from '../src/cache/check-cache.js';

const life = useLifecycle();
const BAD = '/ip dns set servers="1.1.1.1\n';

function fleet(fleetFile = ''): Record<string, string> {
  return {
    'sites/routeros-gitops.yaml': fleetFile || 'vars:\n  dns: 1.1.1.1\n',
    'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\n`,
    'sites/site-1/00-bad.rsc': BAD,
    'sites/site-1/10-dns.rsc': '/ip dns set servers=${{ vars.dns }}\n',
    'sites/site-2/site.yaml': `id: ${SITE_IDS[1]}\n`,
    'sites/site-2/00-bad.rsc': BAD,
  };
}

const messages = (stdout: string) =>
  (JSON.parse(stdout) as { changes: Array<{ path: string; findings: Array<{ rule: string; message: string }> }> }).changes.flatMap((c) =>
    c.findings.map((f) => `${c.path} ${f.rule}: ${f.message}`),
  );

describe('the check cache', () => {
  for (const workers of ['0', '2']) {
    it(`serves a script's findings once checked, and misses when a setting the checks read changes (RGO_WORKERS=${workers})`, async () => {
      const r = await life.repo(fleet());
      const cacheFile = join(r.dir, '.git', 'routeros-gitops', 'check-cache.json');
      const plan = async () => {
        const res = await cli(['plan', '--format', 'json', '--state-remote', ''], { cwd: r.dir, env: { RGO_WORKERS: workers } });
        // Exit 2: apply would refuse the check errors of 00-bad.rsc (issue 14).
        expect(res.code, res.stderr).toBe(2);
        return messages(res.stdout);
      };
      const lie = async () => {
        const text = await readFile(cacheFile, 'utf8');
        expect(text).toContain('unterminated-string');
        const doc = JSON.parse(text) as { groups: Record<string, Record<string, Array<{ message: string }> | 0>> };
        for (const group of Object.values(doc.groups)) for (const f of Object.values(group)) if (f) for (const x of f) x.message = 'from the cache';
        await writeFile(cacheFile, JSON.stringify(doc));
      };

      const fresh = await plan();
      expect(fresh.filter((m) => m.includes('unterminated-string'))).toHaveLength(2);
      expect(existsSync(cacheFile)).toBe(true);
      await lie();
      // Nothing changed: both scripts (the same blob) are answered from the cache.
      expect((await plan()).filter((m) => m.endsWith('from the cache'))).toHaveLength(2);

      // The rules change: checked again.
      await r.commit({ 'sites/routeros-gitops.yaml': 'vars:\n  dns: 1.1.1.1\nlint:\n  rules:\n    param-space: warning\n' }, 'rules');
      expect(await plan()).toEqual(fresh);
      await lie();
      expect((await plan()).filter((m) => m.endsWith('from the cache'))).toHaveLength(2);

      // The RouterOS version checked against changes: checked again.
      await r.commit({ 'sites/site-1/site.yaml': `id: ${SITE_IDS[0]}\nrouteros: 7.16\n` }, 'routeros');
      const after = await plan();
      expect(after.filter((m) => m.startsWith('sites/site-1/') && m.endsWith('from the cache'))).toEqual([]);
      expect(after.filter((m) => m.startsWith('sites/site-2/') && m.endsWith('from the cache'))).toHaveLength(1);

      // A template's check rendering depends on its values: a new value is checked again.
      await lie();
      await r.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers="${{ vars.dns }}\n' }, 'quoted');
      const quoted = await plan();
      expect(quoted.some((m) => m.startsWith('sites/site-1/10-dns.rsc') && m.includes('unterminated-string') && !m.endsWith('from the cache'))).toBe(true);
      await lie();
      await r.commit({ 'sites/routeros-gitops.yaml': 'vars:\n  dns: 9.9.9.9\nlint:\n  rules:\n    param-space: warning\n' }, 'other value');
      expect((await plan()).filter((m) => m.startsWith('sites/site-1/10-dns.rsc') && m.endsWith('from the cache'))).toEqual([]);
    }, 120_000);
  }

  it('holds results for one version of the command data only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rgo-check-cache-'));
    life.defer(() => rm(dir, { recursive: true, force: true }));
    const dataA = join(dir, 'a.json');
    const dataB = join(dir, 'b.json');
    await writeFile(dataA, '{"versions":["7.1"]}');
    await writeFile(dataB, '{"versions":["7.2"]}');
    const finding = [{ line: 1, column: 1, level: 'error' as const, severity: 'error' as const, rule: 'x', message: 'y' }];
    const a = openCheckCache(dir, dataA);
    a.set('[]||*', 'blob', finding);
    a.set('[]||*', 'other:inputs', []);
    await a.save();
    expect(openCheckCache(dir, dataA).get('[]||*', 'blob')).toEqual(finding);
    expect(openCheckCache(dir, dataA).get('[]||*', 'other:inputs')).toEqual([]);
    expect(openCheckCache(dir, dataA).get('[]|7.16|*', 'blob')).toBeUndefined();
    expect(openCheckCache(dir, dataA).resultsOf('blob')).toEqual([['[]||*', 'blob', finding]]);
    expect(openCheckCache(dir, dataA).resultsOf('other')).toEqual([['[]||*', 'other:inputs', []]]);
    expect(openCheckCache(dir, dataB).get('[]||*', 'blob')).toBeUndefined();
  });
});

describe('a large check cache', () => {
  it('is not read (nor rewritten) by a plan that checks only a few scripts; it is once many are asked for', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rgo-check-cache-large-'));
    life.defer(() => rm(dir, { recursive: true, force: true }));
    const data = join(dir, 'data.json');
    await writeFile(data, '{"versions":["7.1"]}');
    const finding = [{ line: 1, column: 1, level: 'error' as const, severity: 'error' as const, rule: 'x', message: 'y' }];
    const big = openCheckCache(dir, data);
    for (let i = 0; i < 20_000; i++) big.set('[]||*', `blob-${i}-${'p'.repeat(40)}`, finding);
    await big.save();
    const file = join(dir, 'routeros-gitops', 'check-cache.json');
    const before = await readFile(file, 'utf8');
    expect(before.length).toBeGreaterThan(1 << 20);

    const few = openCheckCache(dir, data);
    expect(few.get('[]||*', `blob-1-${'p'.repeat(40)}`)).toBeUndefined(); // not read: checked afresh
    few.set('[]||*', 'new-blob', []);
    await few.save();
    expect(await readFile(file, 'utf8')).toBe(before); // not rewritten for one result

    const many = openCheckCache(dir, data);
    let hits = 0;
    for (let i = 0; i < 300; i++) if (many.get('[]||*', `blob-${i}-${'p'.repeat(40)}`)) hits++;
    expect(hits).toBeGreaterThan(0); // read once enough scripts are asked for
  });
});
