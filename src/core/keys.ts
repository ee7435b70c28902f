// Fingerprints and idempotency keys. A fingerprint identifies what would be sent (the rendered
// script, with secrets represented by keyed digests, never by their values). An idempotency key is
// a UUID derived from the script's identity (site id and file name), its send counter (the
// generation, which the state never lets go down, not even across removal), the commit of the
// script's previous send and the new content's fingerprint:
//   - no two sends ever share a key: each new send has a higher generation;
//   - a planned send has the same key at every later commit that does not touch it (nothing in it
//     depends on the planned commit), and once intended, its key is in the state, so every rerun,
//     in any clone, after any crash, finds the same job.
import { createHash, createHmac, hash, scryptSync } from 'node:crypto';

/** The loose UUID shape the API checks (any version), as ajv-formats' `uuid` without the urn prefix. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Namespace of routeros-gitops idempotency keys (a fixed, random UUID). */
export const KEY_NAMESPACE = '5f0d6a3e-8f0e-4c1b-9b7a-2d3c4e5f6a7b';

export function sha256(data: string | Buffer): string {
  return hash('sha256', data, 'hex');
}

/**
 * Fingerprint of a rendered script. `body` is the script rendered with secret placeholders;
 * `secretDigests` maps each secret the script uses to its keyed digest (or null when the value is
 * not available, e.g. a plan without secrets).
 */
export function fingerprint(body: string, secretDigests: Readonly<Record<string, string | null>> = {}): string {
  const names = Object.keys(secretDigests).sort();
  if (!names.length) return `sha256:${sha256(body)}`;
  const h = createHash('sha256').update(body);
  for (const n of names) h.update(`\0${n}=${secretDigests[n] ?? '?'}`);
  return `sha256:${h.digest('hex')}`;
}

export interface KeyInput {
  siteId: string;
  /** The script's file name (its identity within the site). */
  file: string;
  /** The send counter of this script identity (1 for its first send). */
  generation: number;
  /** The commit of the script's previous send (null for its first). */
  baseCommit: string | null;
  fingerprint: string;
}

export function idempotencyKey(k: KeyInput): string {
  return uuidV5(['v2', k.siteId.toLowerCase(), k.file, String(k.generation), k.baseCommit ?? 'initial', k.fingerprint].join('\n'), KEY_NAMESPACE);
}

/**
 * The key of one part of a split send: derived from the send's key and the part's place, so every
 * part has its own key, and a rerun of the same send finds each part's job.
 */
export function partKey(scriptKey: string, index: number, count: number): string {
  return uuidV5(`${scriptKey.toLowerCase()}\npart ${index + 1}/${count}`, KEY_NAMESPACE);
}

const namespaceBytes = (ns: string) => Buffer.from(ns.replace(/-/g, ''), 'hex');
const NS = namespaceBytes(KEY_NAMESPACE);

/** RFC 9562 name-based UUID (version 5, SHA-1); equal to uuid's v5() (a test checks), without its per-call overhead. */
export function uuidV5(name: string, namespace: string = KEY_NAMESPACE): string {
  const ns = namespace === KEY_NAMESPACE ? NS : namespaceBytes(namespace);
  // One-shot hash of namespace + name: about half the cost of a Hash object per key.
  const b = hash('sha1', Buffer.concat([ns, Buffer.from(name, 'utf8')]), 'buffer') as unknown as Buffer;
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex', 0, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

let derivedKey: { source: string; key: Buffer } | undefined;

function stretched(secretsKey: string): Buffer {
  if (!derivedKey || derivedKey.source !== secretsKey) {
    derivedKey = { source: secretsKey, key: scryptSync(secretsKey, 'routeros-gitops:secrets', 32) };
  }
  return derivedKey.key;
}

/**
 * Keyed digest of a secret value. The key is RGO_SECRETS_KEY (kept with the secrets, never in the
 * repository), stretched once per process with scrypt, so that whoever reads the state cannot test
 * guesses of a secret against its digest. Without a key there is no digest (callers then treat the
 * value as unknown to fingerprints).
 */
export function secretDigest(name: string, value: string, secretsKey: string): string {
  return createHmac('sha256', stretched(secretsKey)).update(`${name}\0${value}`).digest('hex').slice(0, 32);
}

/**
 * A check value of the secrets key, kept in the state: a run under another key sees that its digests
 * would not match and stops, instead of re-sending every script that uses a secret. It reveals
 * nothing usable about the key (an HMAC under the stretched key of a fixed text).
 */
export function secretsKeyCheck(secretsKey: string): string {
  return createHmac('sha256', stretched(secretsKey)).update('routeros-gitops:secrets-key-check').digest('hex').slice(0, 16);
}

/** The shortest RGO_SECRETS_KEY accepted: a key people could guess would not hide anything. */
export const MIN_SECRETS_KEY_LENGTH = 16;
