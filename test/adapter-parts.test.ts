// Parts of the adapters alone: the cat-file output parser on any chunking, the SDX client's reply
// decoding and conflict detection, and the state file lock's staleness rule.
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CatFileParser } from '../src/git/cat-file.js';
import { decodeReply, isConflict, type Reply } from '../src/sdx/reply.js';
import type { RawReply } from '../src/sdx/reply-collector.js';
import { isStale } from '../src/state/file-lock.js';

describe('cat-file parser', () => {
  const OID1 = 'a'.repeat(40);
  const OID2 = 'b'.repeat(40);
  const binary = Buffer.from([0, 10, 255, 10, 10, 1]);
  const output = Buffer.concat([
    Buffer.from(`${OID1} blob ${binary.length}\n`),
    binary,
    Buffer.from('\nHEAD:no such file missing\n'),
    Buffer.from(`${OID2} blob 0\n\n`),
  ]);
  const wanted = [OID1, 'HEAD:no such file', OID2];

  it('gives every object byte for byte, however the output is cut into chunks', () => {
    for (let size = 1; size <= output.length; size++) {
      const p = new CatFileParser(wanted);
      for (let i = 0; i < output.length; i += size) p.push(output.subarray(i, i + size));
      expect(p.complete(), `chunks of ${size}`).toBe(true);
      expect(p.result.get(OID1)?.content.equals(binary), `chunks of ${size}`).toBe(true);
      expect(p.result.get('HEAD:no such file')).toBeNull();
      expect(p.result.get(OID2)).toEqual({ oid: OID2, type: 'blob', content: Buffer.alloc(0) });
    }
  });

  it('is incomplete until the last object and its newline arrived, and refuses output out of step', () => {
    const p = new CatFileParser(wanted);
    p.push(output.subarray(0, output.length - 1));
    expect(p.complete()).toBe(false);
    expect(p.answered).toBe(2);
    const bad = new CatFileParser([OID1]);
    expect(() => bad.push(Buffer.from(`${OID1} blob 1\nxy`))).toThrow(/out of step/);
    const extra = new CatFileParser([OID1]);
    expect(() => extra.push(Buffer.from(`${OID1} blob 0\n\n${OID2} blob 0\n\n`))).toThrow(/more objects than were asked for/);
  });
});

describe('SDX reply decoding', () => {
  const raw = (body: string, headers: RawReply['headers'] = {}, statusCode = 200): RawReply => ({
    statusCode,
    headers,
    chunks: [Buffer.from(body.slice(0, Math.floor(body.length / 2))), Buffer.from(body.slice(Math.floor(body.length / 2)))],
    bytes: Buffer.byteLength(body),
    tooLarge: false,
  });

  it('parses JSON when the content type says so or the body looks like it, and says why it could not', () => {
    expect(decodeReply(raw('{"a":1}', { 'content-type': 'application/json' }), false).json).toEqual({ a: 1 });
    expect(decodeReply(raw('  [1,2]', { 'content-type': 'text/plain' }), false).json).toEqual([1, 2]);
    expect(decodeReply(raw('Service Unavailable', { 'content-type': 'text/plain' }), false)).toMatchObject({ json: undefined, text: 'Service Unavailable' });
    expect(decodeReply(raw('', { 'content-type': 'application/json' }), false).jsonError).toBe('empty body');
    const cut = decodeReply(raw('{"a":', { 'content-type': 'application/json', 'content-length': '400' }), true);
    expect(cut.jsonError).toMatch(/, truncated$/);
    expect(cut.earlierAttemptMayHaveLanded).toBe(true);
  });

  it('knows an idempotency conflict: 409, or 400/422 whose error names the key in use', () => {
    const reply = (status: number, json?: unknown): Reply => ({ status, headers: {}, text: '', bytes: 0, json, earlierAttemptMayHaveLanded: false });
    expect(isConflict(reply(409))).toBe(true);
    expect(isConflict(reply(400, { code: 'idempotency_key_in_use', message: 'A job with this key exists.' }))).toBe(true);
    expect(isConflict(reply(422, { message: 'A job with this key already exists.' }))).toBe(true);
    expect(isConflict(reply(400, { code: 'parameter_invalid', message: 'The X-Description header is required.' }))).toBe(false);
    expect(isConflict(reply(500, { code: 'idempotency_key_in_use' }))).toBe(false);
  });
});

describe('state file lock', () => {
  const lock = (pid: number, host = hostname()) => JSON.stringify({ pid, host, at: '2026-01-01T00:00:00.000Z', token: 'x' });

  it('is stale when too old, when its holder on this host is gone, or when left empty for two seconds', () => {
    expect(isStale(lock(process.pid), 30_001, 30_000)).toBe(true);
    expect(isStale(lock(process.pid), 10, 30_000)).toBe(false);
    // A pid far above any pid_max: no such process.
    expect(isStale(lock(2 ** 30), 10, 30_000)).toBe(true);
    // Another host's holder cannot be checked: only its age counts.
    expect(isStale(lock(2 ** 30, 'another-host.invalid'), 10, 30_000)).toBe(false);
    expect(isStale('', 1999, 30_000)).toBe(false);
    expect(isStale('', 2001, 30_000)).toBe(true);
    expect(isStale('{"pid":', 600, 500)).toBe(true);
  });
});
