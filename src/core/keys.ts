// Fingerprints and idempotency keys. A fingerprint identifies what would be sent (the rendered
// script, with secrets represented by keyed digests, never by their values). An idempotency key
// is a UUID derived deterministically from the site, the path, the new fingerprint, the commit of
// the script's previous record and the attempt number: the same pending change gets the same key
// on every rerun, at any later commit that did not touch it; new content gets a new key.
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
  path: string;
  fingerprint: string;
  /** The commit of the script's previous state record, or null when it has none. */
  baseCommit: string | null;
  attempt: number;
}

export function idempotencyKey(k: KeyInput): string {
  return uuidV5([k.siteId.toLowerCase(), k.path, k.fingerprint, k.baseCommit ?? 'initial', String(k.attempt)].join('\n'), KEY_NAMESPACE);
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

/**
 * Keyed digest of a secret value. The key comes from RGO_SECRETS_KEY (kept with the secrets, never
 * in the repository), stretched once per process with scrypt; without it a fixed key is used, so the
 * digest still hides the value but a low-entropy secret could be guessed by whoever reads the state.
 */
export function secretDigest(name: string, value: string, secretsKey: string | undefined): string {
  const source = secretsKey ?? '';
  if (!derivedKey || derivedKey.source !== source) {
    derivedKey = { source, key: scryptSync(source || 'routeros-gitops:no-secrets-key', 'routeros-gitops:secrets', 32) };
  }
  return createHmac('sha256', derivedKey.key).update(`${name}\0${value}`).digest('hex').slice(0, 32);
}
