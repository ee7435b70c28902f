// The sandbox's settings: one field per unknown of the real API (shared/contracts/sdx-api.md), each
// with its default, plus a parser for settings that arrive as JSON (the `sandbox` CLI command).
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export const FAULT_KINDS = [
  /** 500 with an ErrorResponse (api_error / internal_server_error), before the request is processed. */
  'error500',
  /** 502 with an HTML page from a "proxy", before the request is processed. */
  'html502',
  /** 503 with a plain-text body, before the request is processed. */
  'unavailable503',
  /** 429 with Retry-After (faults.retryAfterSeconds). */
  'throttle429',
  /** 429 without Retry-After. */
  'throttle429NoRetryAfter',
  /** The connection is reset (TCP RST) before the request is processed: no job is created. */
  'resetBefore',
  /** The request is processed (a POST creates its job), then the connection is reset: the answer is lost. */
  'lostAfter',
  /** Waits faults.stallMs, then processes and answers normally. */
  'stall',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What a repeated X-Idempotency-Key gets (the real answer is unknown). */
export type ReplayAnswer = 'original-201' | 'original-200' | 'conflict-409' | 'conflict-400';

export interface SandboxSiteOptions {
  /** The site's UUID. */
  readonly id: string;
  /** Default `Sandbox site <first 8 chars of id>`. */
  readonly name?: string;
  /** Whether the router checks in (has_pulse). Default true. */
  readonly online?: boolean;
  /** This router's heartbeat interval. Default: the sandbox's checkinIntervalMs. */
  readonly checkinIntervalMs?: number;
  /** How long this router runs a job. Default: the sandbox's runMs. */
  readonly runMs?: number;
  /** A script fails on this router when it contains one of these strings or matches one of these patterns. Default none. */
  readonly failScripts?: ReadonlyArray<string | RegExp>;
  /** Every job fails on this router. Default false. */
  readonly failAll?: boolean;
  /** Default `7.15.1`. */
  readonly softwareVersion?: string;
  /** Default `RB5009UG+S+`. */
  readonly model?: string;
  /** Default: the name. */
  readonly identity?: string;
  /**
   * When the router was last seen (ISO 8601), until it checks in: an offline router seen days ago.
   * Default: when the sandbox starts, for an online router; never (null) for an offline one.
   */
  readonly lastSeenAt?: string;
}

export interface SandboxFaultOptions {
  /** Chance that an API request gets a fault, 0..1. Default 0 (no faults). */
  readonly probability?: number;
  /** The kinds drawn from, uniformly. Default all of FAULT_KINDS. */
  readonly kinds?: readonly FaultKind[];
  /** Only requests with these methods get faults. Default all (GET, POST, DELETE). */
  readonly methods?: ReadonlyArray<'GET' | 'POST' | 'DELETE'>;
  /** PRNG seed for the draws. Default 1. */
  readonly seed?: number;
  /** Delay of a `stall` fault. Default 1000 ms. */
  readonly stallMs?: number;
  /** Retry-After of a `throttle429` fault, in seconds. Default 1. */
  readonly retryAfterSeconds?: number;
  /** Inject at most this many faults (then none), e.g. probability 1 and limit 1 faults exactly the next request. Default unlimited. */
  readonly limit?: number;
}

export interface SandboxRateLimitOptions {
  /** Requests per window per token; 0 = off. Default 60 (when rateLimit is given at all). */
  readonly requestsPerMinute?: number;
  /** Window length. Default 60_000 ms. */
  readonly windowMs?: number;
  /** Send Retry-After (seconds until the window frees a slot) on 429. Default true. */
  readonly retryAfter?: boolean;
}

/** A request as the sandbox received it, given to `inspectRequest` (for validators in tests). */
export interface SandboxRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: Record<string, string>;
  /** Lower-case names, as node:http gives them. */
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A time source for the simulated routers; the default is the real clock. See createManualClock. */
export interface SandboxClock {
  now(): number;
  /** Runs fn after ms; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export interface SandboxOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Accepted bearer token(s). Default `sandbox-token`. */
  readonly token?: string | readonly string[];
  /** Known sites. Default none. */
  readonly sites?: readonly SandboxSiteOptions[];
  /** Any UUID is a site, online, created on first use. Default false. */
  readonly autoSites?: boolean;
  /** Router heartbeat interval. Default 2000 ms. */
  readonly checkinIntervalMs?: number;
  /** How soon a router checks in after an express job is queued (or after it comes back online). Default 100 ms. */
  readonly expressDelayMs?: number;
  /** How long a router runs a job that needs acknowledgement. Default 200 ms. */
  readonly runMs?: number;
  /** A script with a line equal to this (trimmed) fails. Default `:error "sandbox-fail"`. */
  readonly failMarker?: string;
  /** The answer to a repeated idempotency key. Default `original-201`. */
  readonly replayAnswer?: ReplayAnswer;
  /** Status of a successful DELETE. Default 204. */
  readonly deleteStatus?: 200 | 202 | 204;
  /** Status of a DELETE of a started job (code job_already_started). Default 409. */
  readonly deleteStartedStatus?: 400 | 409;
  /** Per-token rate limit. Default off. */
  readonly rateLimit?: SandboxRateLimitOptions;
  /** Added to every API request before it is processed. Default 0 ms. */
  readonly latencyMs?: number;
  /**
   * Longest script (request body) accepted, in characters (code points), answered as the real API's
   * validation would: 400 invalid_request_error / parameter_invalid. Older SDX documentation limits
   * the body to 10000 characters and nothing says the limit was lifted, so a rehearsal fails where the
   * real API would. 0 turns the check off (the 5 MB body cap stays). Default 10000.
   */
  readonly maxScriptLength?: number;
  /**
   * How long an idempotency key is remembered after its job was created (the real API does not say;
   * plan for 24 hours). A POST with an older key creates a new job. Default 0 = forever.
   */
  readonly keyRetentionMs?: number;
  /**
   * How a cancelled job looks afterwards (unknown for the real API): `not-found` (GET answers 404, the
   * list leaves it out) or `listed` (still there, with a `cancelled_at` time). Default `not-found`.
   */
  readonly cancelledJobs?: 'not-found' | 'listed';
  /** Fault injection. Default none. */
  readonly faults?: SandboxFaultOptions;
  /** Seed for job ids and tokens (reproducible data). Default 1. */
  readonly seed?: number;
  /** Time source for routers and timestamps. Default the real clock. */
  readonly clock?: SandboxClock;
  /** Called with every API request (not the /_sandbox/ ones) before it is processed. */
  readonly inspectRequest?: (req: SandboxRequest) => void;
  /** Default silent. */
  readonly logger?: Logger;
}

/**
 * The sites `routeros-gitops sandbox` starts with when its settings name none: the four routers of
 * sites.example (same ids), named as people name them in SDX, so `sites` and `init` have something
 * to show. In-process sandboxes (tests) start with none.
 */
export const EXAMPLE_SITES: readonly SandboxSiteOptions[] = [
  { id: '3f1c2a9e-7b4d-4c8e-9a61-2d5e8f0b7c13', name: 'HQ core', model: 'CCR2004-1G-12S+2XS', softwareVersion: '7.20.8' },
  { id: '6d2f8a41-0c3b-4e5f-8a9d-1b2c3d4e5f60', name: 'Branch Lisbon', model: 'RB5009UG+S+', softwareVersion: '7.20.8' },
  { id: '8e4b1c7d-2f6a-4b3c-9d8e-7f6a5b4c3d21', name: 'Branch Porto', model: 'RB5009UG+S+', softwareVersion: '7.19.4' },
  { id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', name: 'Branch Madrid', model: 'hAP ax3', softwareVersion: '7.20.8' },
];

/** Every default, in one place. */
export const SANDBOX_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  token: 'sandbox-token',
  autoSites: false,
  checkinIntervalMs: 2000,
  expressDelayMs: 100,
  runMs: 200,
  failMarker: ':error "sandbox-fail"',
  replayAnswer: 'original-201' as ReplayAnswer,
  deleteStatus: 204 as const,
  deleteStartedStatus: 409 as const,
  latencyMs: 0,
  maxScriptLength: 10_000,
  keyRetentionMs: 0,
  cancelledJobs: 'not-found' as 'not-found' | 'listed',
  seed: 1,
  faultStallMs: 1000,
  faultRetryAfterSeconds: 1,
  rateLimitRequestsPerMinute: 60,
  rateLimitWindowMs: 60_000,
} as const;

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID');
const ms = z.number().int().min(0);

const jsonSchema = z.strictObject({
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  token: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  sites: z
    .array(
      z.strictObject({
        id: uuid,
        name: z.string().optional(),
        online: z.boolean().optional(),
        checkinIntervalMs: ms.optional(),
        runMs: ms.optional(),
        /** In JSON, patterns are written as "/source/flags"; anything else is a substring. */
        failScripts: z.array(z.string()).optional(),
        failAll: z.boolean().optional(),
        softwareVersion: z.string().optional(),
        model: z.string().optional(),
        identity: z.string().optional(),
        lastSeenAt: z.iso.datetime({ offset: true }).optional(),
      }),
    )
    .optional(),
  autoSites: z.boolean().optional(),
  checkinIntervalMs: ms.optional(),
  expressDelayMs: ms.optional(),
  runMs: ms.optional(),
  failMarker: z.string().min(1).optional(),
  replayAnswer: z.enum(['original-201', 'original-200', 'conflict-409', 'conflict-400']).optional(),
  deleteStatus: z.union([z.literal(200), z.literal(202), z.literal(204)]).optional(),
  deleteStartedStatus: z.union([z.literal(400), z.literal(409)]).optional(),
  rateLimit: z
    .strictObject({ requestsPerMinute: z.number().int().min(0).optional(), windowMs: z.number().int().min(1).optional(), retryAfter: z.boolean().optional() })
    .optional(),
  latencyMs: ms.optional(),
  maxScriptLength: ms.optional(),
  keyRetentionMs: ms.optional(),
  cancelledJobs: z.enum(['not-found', 'listed']).optional(),
  faults: z
    .strictObject({
      probability: z.number().min(0).max(1).optional(),
      kinds: z.array(z.enum(FAULT_KINDS)).optional(),
      methods: z.array(z.enum(['GET', 'POST', 'DELETE'])).optional(),
      seed: z.number().int().optional(),
      stallMs: ms.optional(),
      retryAfterSeconds: z.number().int().min(0).optional(),
      limit: z.number().int().min(0).optional(),
    })
    .optional(),
  seed: z.number().int().optional(),
});

/**
 * Settings from JSON (a file given to `routeros-gitops sandbox --config`): checked, with errors that
 * name the field and the expected form. `failScripts` entries written "/pattern/flags" become RegExps.
 */
export function parseSandboxOptions(input: unknown, source = '(sandbox settings)'): SandboxOptions {
  const r = jsonSchema.safeParse(input);
  if (!r.success) {
    throw new InputError(
      r.error.issues.map((i) => ({
        file: source,
        message: `${i.path.map(String).join('.') || '(root)'}: ${i.message}`,
        hint: 'see SandboxOptions in src/sandbox/options.ts',
      })),
    );
  }
  const { sites, ...rest } = r.data;
  return {
    ...rest,
    ...(sites && {
      sites: sites.map(({ failScripts, ...site }) => ({
        ...site,
        ...(failScripts && { failScripts: failScripts.map(toPattern) }),
      })),
    }),
  };
}

function toPattern(s: string): string | RegExp {
  const m = /^\/(.+)\/([a-z]*)$/s.exec(s);
  if (!m) return s;
  try {
    return new RegExp(m[1]!, m[2]);
  } catch {
    return s;
  }
}
