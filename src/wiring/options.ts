// The options of the three entry points, each defined once with its bounds: the CLI's flags, the
// daemon's flags and the Action's inputs are parsed through these specs, so a limit is the same
// from every entry and every bad value is reported with the name it was given under. Hand-written
// (a few lines per kind) rather than zod, which would add ~90 ms to every command's start.
import { InputError, type Problem } from '../core/errors.js';

/** Parses one raw value; returns undefined when the value is absent and has no default. */
export type OptionParser<T> = (raw: unknown, name: string, problems: Problem[]) => T;

/** How a problem names where the value came from: "--concurrency", "input concurrency", "RGO_RATE_LIMIT". */
export type Namer = (key: string) => string;

export const flagName: Namer = (key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

const bad = (problems: Problem[], name: string, value: unknown, expected: string, example?: string): undefined => {
  problems.push({
    file: name.startsWith('--') ? '(command line)' : name.startsWith('input ') ? `(${name})` : '(environment)',
    message: `${name} ${JSON.stringify(String(value))} is not ${expected}`,
    hint: example ? `for example ${example}` : undefined,
  });
  return undefined;
};

/** How `value` is written under `name`: `--concurrency 4`, `"concurrency: 4"` (an Action input), `RGO_RATE_LIMIT=4`. */
export function written(name: string, value: string): string {
  if (name.startsWith('--')) return `${name} ${value}`;
  if (name.startsWith('input ')) return `"${name.slice('input '.length)}: ${value}"`;
  return `${name}=${value}`;
}

const absent = (raw: unknown) => raw === undefined || raw === null || raw === '';

export const opt = {
  string(): OptionParser<string | undefined> {
    return (raw) => (absent(raw) ? undefined : String(raw));
  },
  stringOr(fallback: string): OptionParser<string> {
    return (raw) => (absent(raw) ? fallback : String(raw));
  },
  bool(fallback = false): OptionParser<boolean> {
    return (raw, name, problems) => {
      if (absent(raw)) return fallback;
      if (typeof raw === 'boolean') return raw;
      if (/^(true|yes|on|1)$/i.test(String(raw))) return true;
      if (/^(false|no|off|0)$/i.test(String(raw))) return false;
      bad(problems, name, raw, 'true or false', name.startsWith('--') ? undefined : `${written(name, 'true')} or ${written(name, 'false')}`);
      return fallback;
    };
  },
  /** A whole number within [min, max]. */
  int(min: number, max: number): OptionParser<number | undefined> {
    return (raw, name, problems) => {
      if (absent(raw)) return undefined;
      const n = Number(raw);
      if (Number.isInteger(n) && n >= min && n <= max) return n;
      return bad(problems, name, raw, `a whole number from ${min} to ${max}`, written(name, String(Math.min(max, Math.max(min, 4)))));
    };
  },
  /** Seconds (a number, 0 or more), as milliseconds. */
  seconds(max = 7 * 86_400): OptionParser<number | undefined> {
    return (raw, name, problems) => {
      if (absent(raw)) return undefined;
      const n = Number(raw);
      if (Number.isFinite(n) && n >= 0 && n <= max) return Math.round(n * 1000);
      return bad(problems, name, raw, `a number of seconds from 0 to ${max}`);
    };
  },
  /** "60", "60s", "1.5m", "500ms", "1h" as milliseconds (a bare number is seconds); more than 0. */
  duration(fallback: string): OptionParser<number> {
    return (raw, name, problems) => {
      if (absent(raw)) return parseDuration(fallback)!;
      const ms = parseDuration(String(raw));
      if (ms !== undefined) return ms;
      bad(problems, name, raw, 'a duration', '60s, 5m, 500ms or 1h (a bare number is seconds)');
      return parseDuration(fallback)!;
    };
  },
  /** A repeatable option (or one value): each value, commas separating several; undefined when absent. */
  /** A repeatable, comma-separated list. Given but empty (`--site ""`, an unset shell variable) is an error, never "all". */
  strings(): OptionParser<string[] | undefined> {
    return (raw, name, problems) => {
      if (raw === undefined || raw === null || raw === false) return undefined;
      const list = (Array.isArray(raw) ? raw : [raw])
        .flatMap((v) => String(v).split(','))
        .map((v) => v.trim())
        .filter(Boolean);
      if (list.length) return list;
      problems.push({
        file: `(${name})`,
        message: `${name} was given an empty value: it names no site (an unset shell variable?); nothing was done`,
        hint: `name the sites, for example ${written(name, 'hq-core')}, or leave the option out for every site`,
      });
      return undefined;
    };
  },
  oneOf<T extends string, F extends T | undefined = undefined>(values: readonly T[], fallback?: F): OptionParser<T | F> {
    return (raw, name, problems) => {
      if (absent(raw)) return fallback as F;
      if ((values as readonly string[]).includes(String(raw))) return String(raw) as T;
      bad(problems, name, raw, `one of ${values.join(', ')}`);
      return fallback as F;
    };
  },
};

/** "60", "60s", "1.5m", "500ms", "1h" -> milliseconds (a bare number is seconds); undefined when not a positive duration. */
export function parseDuration(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'] : Number.NaN;
  return ms > 0 ? Math.round(ms) : undefined;
}

export type Spec = Record<string, OptionParser<unknown>>;
export type Parsed<S extends Spec> = { [K in keyof S]: ReturnType<S[K]> };

/** Parse `raw` against `spec`: every problem at once, as an InputError (exit 2, nothing sent). */
export function parseOptions<S extends Spec>(spec: S, raw: Readonly<Record<string, unknown>>, nameOf: Namer = flagName): Parsed<S> {
  const problems: Problem[] = [];
  const out = collectOptions(spec, raw, nameOf, problems);
  if (problems.length) throw new InputError(problems);
  return out;
}

/**
 * Parse `raw` against `spec`, adding each problem to `problems` rather than throwing: for an entry
 * that checks more than its spec and reports everything at once (the Action's inputs).
 */
export function collectOptions<S extends Spec>(spec: S, raw: Readonly<Record<string, unknown>>, nameOf: Namer, problems: Problem[]): Parsed<S> {
  const out: Record<string, unknown> = {};
  for (const [key, parse] of Object.entries(spec)) out[key] = parse(raw[key], nameOf(key), problems);
  return out as Parsed<S>;
}

/** Bounds shared by every entry (and by the fleet file's settings). */
export const LIMITS = {
  concurrency: { min: 1, max: 256 },
  timeout: { min: 1, max: 86_400 },
} as const;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where a command reads the fleet and keeps the state: plan, apply, validate, status, watch, state. */
export const RUN_OPTIONS = {
  cwd: opt.string(),
  sites: opt.stringOr('sites'),
  ref: opt.stringOr('HEAD'),
  stateFile: opt.string(),
  stateRef: opt.string(),
  /** A remote name or URL; '' keeps the state local (false); absent: origin when it exists. */
  stateRemote: ((raw: unknown) => (raw === '' || raw === false ? false : absent(raw) ? undefined : String(raw))) as OptionParser<string | false | undefined>,
  secretsFile: opt.string(),
  logLevel: opt.oneOf(LOG_LEVELS),
} satisfies Spec;
export type RunOptions = Parsed<typeof RUN_OPTIONS>;

/** How a run applies: apply, the Action's apply, each daemon run. */
export const APPLY_OPTIONS = {
  retryFailed: opt.bool(),
  allowCheckErrors: opt.bool(),
  /** Send lockout-level findings nobody acknowledged (issue 14). */
  allowLockout: opt.bool(),
  concurrency: opt.int(LIMITS.concurrency.min, LIMITS.concurrency.max),
  timeout: opt.int(LIMITS.timeout.min, LIMITS.timeout.max),
  apiUrl: opt.string(),
  leaseTimeout: opt.seconds(),
} satisfies Spec;
export type ApplyOptions = Parsed<typeof APPLY_OPTIONS>;

/** Tuning read from the environment, the same for every entry. */
export const ENV_TUNING = {
  RGO_RATE_LIMIT: opt.int(0, 100_000),
  RGO_POLL_INITIAL_MS: opt.int(1, 3_600_000),
  RGO_POLL_MAX_MS: opt.int(1, 3_600_000),
  RGO_LOG_LEVEL: opt.oneOf(LOG_LEVELS),
  /** Retries of one SDX request after a network error, 429 or 5xx (default 8). */
  RGO_SDX_MAX_RETRIES: opt.int(0, 20),
  /** How often a long apply prints a progress line when stderr is not a terminal (default 10 s). */
  RGO_PROGRESS_INTERVAL: opt.duration('10s'),
  /** Issue 18: plans read only what changed (the plan snapshot, the state's plan index). Default true. */
  RGO_INCREMENTAL: opt.bool(true),
  /** Issue 18: worker threads for a plan with many scripts to read (0: none). Default: one per spare core. */
  RGO_WORKERS: opt.int(0, 64),
} satisfies Spec;
export type EnvTuning = Parsed<typeof ENV_TUNING>;

export function parseEnvTuning(env: Readonly<Record<string, string | undefined>>): EnvTuning {
  return parseOptions(ENV_TUNING, env, (k) => k);
}
