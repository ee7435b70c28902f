// Each command's options, as specs of src/wiring/options.ts: parsed once, at the start of the
// command, into typed values (and every bad value reported at once, exit 2).
import { APPLY_OPTIONS, opt, RUN_OPTIONS, type Spec } from '../wiring/options.js';

export const PLAN_SPEC = {
  ...RUN_OPTIONS,
  format: opt.oneOf(['text', 'json', 'markdown'] as const, 'text'),
  retryFailed: opt.bool(),
  apiUrl: opt.string(),
  /** Judge the plan as apply with these would (issue 14). */
  allowCheckErrors: opt.bool(),
  allowLockout: opt.bool(),
  /** Terraform's: 0 nothing to send, 1 error (or apply would refuse or block), 2 jobs to send. */
  detailedExitcode: opt.bool(),
  /** Each change's idempotency key. */
  verbose: opt.bool(),
  /** The text plan's diff under each change (--no-diff leaves them out). */
  diff: opt.bool(true),
  /** Only these sites (names or globs, repeatable). */
  site: opt.strings(),
} satisfies Spec;

export const VALIDATE_SPEC = {
  ...RUN_OPTIONS,
  format: opt.oneOf(['text', 'json'] as const, 'text'),
  /** Check every command against this RouterOS version (default: each site's routeros: setting). */
  routeros: opt.string(),
  packages: opt.string(),
  /** Lockout-level findings do not fail validate (as apply --allow-lockout sends them). */
  allowLockout: opt.bool(),
} satisfies Spec;

export const STATUS_SPEC = { ...RUN_OPTIONS, format: opt.oneOf(['text', 'json'] as const, 'text'), site: opt.strings() } satisfies Spec;

export const SCHEMA_SPEC = { file: opt.oneOf(['fleet', 'site'] as const, 'fleet'), write: opt.string() } satisfies Spec;

export const RULES_SPEC = { format: opt.oneOf(['text', 'json'] as const, 'text') } satisfies Spec;

export const APPLY_SPEC = {
  ...RUN_OPTIONS,
  ...APPLY_OPTIONS,
  format: opt.oneOf(['text', 'json'] as const, 'text'),
  wait: opt.bool(true),
  /** The former name of --lease-timeout. */
  lockTimeout: opt.seconds(),
  /** Do not ask for confirmation on a terminal (issue 14). */
  yes: opt.bool(),
  /** Only these sites (names or globs, repeatable). */
  site: opt.strings(),
} satisfies Spec;

export const STATE_SPEC = { ...RUN_OPTIONS, yes: opt.bool(), at: opt.string(), leaseTimeout: opt.seconds() } satisfies Spec;

export const WATCH_SPEC = {
  ...RUN_OPTIONS,
  ...APPLY_OPTIONS,
  lockTimeout: opt.seconds(),
  remote: opt.string(),
  branch: opt.string(),
  interval: opt.duration('60s'),
  retryInterval: opt.duration('30s'),
  jitter: opt.int(0, 99),
  debounce: opt.duration('150ms'),
  listen: opt.string(),
  shutdownTimeout: opt.duration('30s'),
} satisfies Spec;
