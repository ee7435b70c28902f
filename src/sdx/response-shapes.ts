// Parse untrusted API bodies into the typed Job and Site once, at the edge. Strict on the fields the
// reconciler relies on (ids, keys, the three state timestamps, has_pulse), lenient on the others so a
// new or missing cosmetic field in the real API does not stop a rollout.
import { z } from 'zod';
import type { Job, Site, SiteSummary } from '../core/jobs.js';

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
  /** Not in the public documentation: a job cancelled outside this tool, if the API lists it at all. */
  cancelled_at: z.string().nullable().optional(),
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

/** A site of GET /site-minimal: strict on the id and has_pulse, lenient on the rest. */
const siteSummarySchema = z.object({
  id: z.string().min(1),
  name: text,
  has_pulse: z.boolean(),
  software_version: optionalText,
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

/**
 * jobSchema's result for a well-formed job, built by hand (every POST and poll parses one, and the
 * schema walk costs more than the rest of the answer's handling); undefined for anything else, which
 * then goes through jobSchema itself (it alone explains what is wrong). It accepts exactly what
 * jobSchema accepts and returns the same value, keys in the same order (test/sdx-shapes.test.ts).
 */
function fastJob(v: unknown): Job | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const id = o.id;
  const key = o.idempotency_key;
  if (typeof id !== 'string' || id.length === 0 || typeof key !== 'string' || key.length === 0) return undefined;
  const token = o.token;
  const siteId = o.site_id;
  const description = o.description;
  const createdAt = o.created_at;
  const logUrl = o.log_url;
  const express = o.express_execute;
  const needsAck = o.needs_acknowledgement;
  const backup = o.should_backup;
  const associated = o.associated_backup;
  const started = o.started_at;
  const completed = o.completed_at;
  const failed = o.failed_at;
  const script = o.script;
  const cancelled = o.cancelled_at;
  const isText = (x: unknown) => x == null || typeof x === 'string';
  const isFlag = (x: unknown) => x == null || typeof x === 'boolean';
  if (
    !isText(token) ||
    !isText(siteId) ||
    !isText(description) ||
    !isText(createdAt) ||
    !isText(logUrl) ||
    !isText(associated) ||
    !isText(started) ||
    !isText(completed) ||
    !isText(failed) ||
    !isFlag(express) ||
    !isFlag(needsAck) ||
    !isFlag(backup) ||
    !(cancelled === undefined || cancelled === null || typeof cancelled === 'string') ||
    !(script === undefined || typeof script === 'string')
  ) {
    return undefined;
  }
  const job: Job = {
    id,
    token: (token as string | null | undefined) ?? '',
    site_id: (siteId as string | null | undefined) ?? '',
    idempotency_key: key,
    description: (description as string | null | undefined) ?? '',
    express_execute: (express as boolean | null | undefined) ?? false,
    needs_acknowledgement: (needsAck as boolean | null | undefined) ?? true,
    should_backup: (backup as boolean | null | undefined) ?? false,
    associated_backup: (associated as string | null | undefined) ?? null,
    started_at: (started as string | null | undefined) ?? null,
    completed_at: (completed as string | null | undefined) ?? null,
    failed_at: (failed as string | null | undefined) ?? null,
    created_at: (createdAt as string | null | undefined) ?? '',
    log_url: (logUrl as string | null | undefined) ?? '',
  };
  if (cancelled !== undefined) job.cancelled_at = cancelled as string | null;
  if (script !== undefined) job.script = script;
  return job;
}

function jobOf(v: unknown): ShapeResult<Job> {
  const fast = fastJob(v);
  if (fast) return { ok: true, value: fast };
  const r = jobSchema.safeParse(v);
  return r.success ? { ok: true, value: clean(r.data) } : { ok: false, problem: `not a Job: ${describe(r.error)}` };
}

export function parseJob(body: unknown): ShapeResult<Job> {
  return jobOf(unwrap(body, false));
}

/** parseJob through the schema alone, without the hand-built fast path (for tests). */
export function parseJobBySchema(body: unknown): ShapeResult<Job> {
  const r = jobSchema.safeParse(unwrap(body, false));
  return r.success ? { ok: true, value: clean(r.data) } : { ok: false, problem: `not a Job: ${describe(r.error)}` };
}

export function parseJobList(body: unknown): ShapeResult<Job[]> {
  const list = unwrap(body, true);
  if (!Array.isArray(list)) return { ok: false, problem: `not a list of Jobs: expected a JSON array, got ${kind(list)}` };
  const jobs: Job[] = [];
  for (const [i, item] of list.entries()) {
    const fast = fastJob(item);
    if (fast) {
      jobs.push(fast);
      continue;
    }
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

/** One page of sites: the sites, and the next page's URL when the API pages (Laravel's links.next or next_page_url). */
export interface SitePage {
  sites: SiteSummary[];
  next: string | null;
}

/**
 * GET /site-minimal: a plain JSON array (as documented), or a page `{ "data": [...], "links": {
 * "next": url } }` / `{ "data": [...], "next_page_url": url }` should the API start to page.
 */
export function parseSitePage(body: unknown): ShapeResult<SitePage> {
  let next: string | null = null;
  let list: unknown = body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'data' in body) {
    const o = body as { data: unknown; links?: { next?: unknown }; next_page_url?: unknown };
    list = o.data;
    const n = o.links?.next ?? o.next_page_url;
    if (typeof n === 'string' && n !== '') next = n;
  }
  if (!Array.isArray(list)) return { ok: false, problem: `not a list of sites: expected a JSON array, got ${kind(list)}` };
  const sites: SiteSummary[] = [];
  for (const [i, item] of list.entries()) {
    const r = siteSummarySchema.safeParse(item);
    if (!r.success) return { ok: false, problem: `not a list of sites: ${describe(r.error, `[${i}]`)}` };
    sites.push(clean(r.data));
  }
  return { ok: true, value: { sites, next } };
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
