import { describe, expect, it } from 'vitest';
import { v5 } from 'uuid';
import { fingerprint, idempotencyKey, KEY_NAMESPACE, secretDigest, secretsKeyCheck, uuidV5 } from '../src/core/keys.js';
import { renderDescription, checkDescriptionTemplate } from '../src/core/description.js';

describe('keys', () => {
  it('uuidV5 equals the uuid package v5 for many names', () => {
    for (const name of ['', 'a', 'site\npath\nsha256:00\ninitial\n0', 'ünïcødé ✓', 'x'.repeat(1000)]) expect(uuidV5(name)).toBe(v5(name, KEY_NAMESPACE));
  });
  it('keys change with every input and only with them', () => {
    const base = { siteId: 'aaaaaaaa-bbbb-4ccc-8ddd-000000000001', file: 'x.rsc', fingerprint: 'sha256:1', baseCommit: null as string | null, generation: 1 };
    const k = idempotencyKey(base);
    expect(idempotencyKey({ ...base })).toBe(k);
    expect(idempotencyKey({ ...base, siteId: base.siteId.toUpperCase() })).toBe(k);
    for (const change of [
      { file: 'y.rsc' },
      { fingerprint: 'sha256:2' },
      { baseCommit: 'd'.repeat(40) },
      { generation: 2 },
      { siteId: 'aaaaaaaa-bbbb-4ccc-8ddd-000000000002' },
    ]) {
      expect(idempotencyKey({ ...base, ...change })).not.toBe(k);
    }
  });
  it('fingerprints cover secret digests, not values', () => {
    const a = fingerprint('x', { pw: secretDigest('pw', 'one', 'k') });
    const b = fingerprint('x', { pw: secretDigest('pw', 'two', 'k') });
    expect(a).not.toBe(b);
    expect(a).not.toContain('one');
    expect(secretDigest('pw', 'one', 'k')).not.toBe(secretDigest('pw', 'one', 'other-key'));
    expect(secretsKeyCheck('k'.repeat(16))).not.toBe(secretsKeyCheck('l'.repeat(16)));
    expect(secretsKeyCheck('k'.repeat(16))).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint('x')).toBe(fingerprint('x', {}));
  });
});

describe('descriptions', () => {
  const values = {
    site: 'hq',
    site_id: 'aaaaaaaa-bbbb-4ccc-8ddd-000000000001',
    path: 'sites/hq/a.rsc',
    file: 'a.rsc',
    sha: 'abcdef1',
    subject: 'Ação: façade ✓ "ok"',
  };
  it('are always 3..100 printable ASCII characters on one line, cut on code points', () => {
    expect(renderDescription('{site} {file} @{sha}', values)).toBe('hq a.rsc @abcdef1');
    const long = renderDescription('{subject} {subject} {subject} {subject} {subject} {subject} {subject}', { ...values, subject: '😀'.repeat(80) });
    expect(long.length).toBeLessThanOrEqual(100);
    expect(long).toMatch(/^[ -~]+$/);
    expect(renderDescription('{subject}: {file}', values)).toBe('Acao: facade ? "ok": a.rsc');
    expect(renderDescription('{subject}', { ...values, subject: '' }).length).toBe(3);
    expect(renderDescription('{subject}', { ...values, subject: 'a\nb\tc' })).toBe('a b c');
  });
  it('templates that cannot work are refused', () => {
    expect(checkDescriptionTemplate('{site}: {path} @{sha}')).toEqual([]);
    expect(checkDescriptionTemplate('{subject}')[0]).toMatch(/fewer than 3/);
    expect(checkDescriptionTemplate('x'.repeat(101))[0]).toMatch(/101 characters/);
    expect(checkDescriptionTemplate('{nope} {sha}')[0]).toMatch(/unknown placeholder/);
    expect(checkDescriptionTemplate('a\n{sha}')[0]).toMatch(/line break/);
  });
});

import { writeJson } from '../src/cli/commands.js';
describe('writeJson', () => {
  it('writes exactly what JSON.stringify(value, null, 2) writes', () => {
    const many = Array.from({ length: 1200 }, (_, i) =>
      i % 7 === 0 ? [] : i % 11 === 0 ? undefined : { i, s: `x\n${i}`, nested: { a: [i, { b: null }] }, u: undefined },
    );
    for (const v of [
      { a: 1, changes: [{ x: [1, 2], y: { z: null } }, { x: [] }], empty: [], o: { p: 'q' }, s: 'é"\n' },
      {},
      { only: [] },
      { many, after: 1 },
      { one: [{}], two: [[], {}] },
    ]) {
      let out = '';
      writeJson((s) => (out += s), v);
      expect(out).toBe(`${JSON.stringify(v, null, 2)}\n`);
    }
  });
});

import { MappedList } from '../src/report/mapped-list.js';
describe('MappedList', () => {
  it('is written as its mapped items, by JSON.stringify and by writeJson alike', () => {
    const v = { n: 1, items: new MappedList([1, 2, 3], (x) => ({ double: x * 2 })) };
    let out = '';
    writeJson((s) => (out += s), v);
    expect(out).toBe(`${JSON.stringify(v, null, 2)}\n`);
    expect(JSON.parse(out)).toEqual({ n: 1, items: [{ double: 2 }, { double: 4 }, { double: 6 }] });
  });
});
