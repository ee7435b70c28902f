// Parse untrusted API bodies into the typed Job and Site once, at the edge. Strict on the fields the
// reconciler relies on (ids, keys, the three state timestamps, has_pulse), lenient on the others so a
// new or missing cosmetic field in the real API does not stop a rollout.
import { z } from 'zod';
import type { Job, Site } from './types.js';

const timestamp = z
  .string()
  .nullable()
  .optional()
  .transform((v) => v ?? null);
const text = z
  .string()
  .nullable()
  .optional()
  .transform((v) => v ?? '');
const flag = (fallback: boolean) =>
  z
    .boolean()
    .nullable()
    .optional()
    .transform((v) => v ?? fallback);

const jobSchema = z.object({
  id: z.string().min(1),
  token: text,
  site_id: text,
  idempotency_key: z.string().min(1),
  description: text,
  express_execute: flag(false),
  needs_acknowledgement: flag(true),
  should_backup: flag(false),
  associated_backup: z
    .string()
    .nullable()
    .optional()
    .transform((v) => v ?? null),
  started_at: timestamp,
  completed_at: timestamp,
  failed_at: timestamp,
  created_at: text,
  log_url: text,
  script: z.string().optional(),
});

const optionalText = z
  .string()
  .nullable()
  .optional()
  .transform((v) => v ?? undefined);

const siteSchema = z.object({
  id: z.string().min(1),
  name: text,
  has_pulse: z.boolean(),
  last_seen_at: timestamp,
  software_version: optionalText,
  model: optionalText,
  identity: optionalText,
});

export type ShapeResult<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Some Laravel APIs wrap resources as `{ "data": ... }`; accept that wrapping too. */
function unwrap(value: unknown, isList: boolean): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'data' in value) {
    const data = (value as { data: unknown }).data;
    if (isList ? Array.isArray(data) : data !== null && typeof data === 'object' && !('id' in value)) return data;
  }
  return value;
}

function describe(error: z.ZodError, prefix = ''): string {
  const shown = error.issues.slice(0, 3).map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    return `${path || '(body)'}: ${i.message}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return shown.join('; ') + more;
}

function clean<T extends object>(value: T): T {
  for (const k of Object.keys(value) as (keyof T)[]) if (value[k] === undefined) delete value[k];
  return value;
}

export function parseJob(body: unknown): ShapeResult<Job> {
  const r = jobSchema.safeParse(unwrap(body, false));
  return r.success ? { ok: true, value: clean(r.data) } : { ok: false, problem: `not a Job: ${describe(r.error)}` };
}

export function parseJobList(body: unknown): ShapeResult<Job[]> {
  const list = unwrap(body, true);
  if (!Array.isArray(list)) return { ok: false, problem: `not a list of Jobs: expected a JSON array, got ${kind(list)}` };
  const jobs: Job[] = [];
  for (const [i, item] of list.entries()) {
    const r = jobSchema.safeParse(item);
    if (!r.success) return { ok: false, problem: `not a list of Jobs: ${describe(r.error, `[${i}]`)}` };
    jobs.push(clean(r.data));
  }
  return { ok: true, value: jobs };
}

export function parseSite(body: unknown): ShapeResult<Site> {
  const r = siteSchema.safeParse(unwrap(body, false));
  return r.success ? { ok: true, value: clean(r.data) } : { ok: false, problem: `not a Site: ${describe(r.error)}` };
}

/** `{type, code, message, doc_url}` or the gateway's `{message}`; undefined for anything else. */
export function parseErrorBody(body: unknown): { type?: string; code?: string; message?: string } | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const o = body as Record<string, unknown>;
  const pick = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const out = { type: pick('type'), code: pick('code'), message: pick('message') ?? pick('error') };
  return out.type || out.code || out.message ? out : undefined;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
