// The sandbox's settings as it runs: every option with its default filled in, in one mutable object
// that every part of the sandbox reads (Sandbox.configure changes it in place).
import { SANDBOX_DEFAULTS, type SandboxFaultOptions, type SandboxOptions, type SandboxRateLimitOptions } from './options.js';
import type { SandboxRuntimeSettings } from './types.js';

export interface SandboxSettings {
  autoSites: boolean;
  checkinIntervalMs: number;
  expressDelayMs: number;
  runMs: number;
  failMarker: string;
  replayAnswer: NonNullable<SandboxOptions['replayAnswer']>;
  deleteStatus: NonNullable<SandboxOptions['deleteStatus']>;
  deleteStartedStatus: NonNullable<SandboxOptions['deleteStartedStatus']>;
  latencyMs: number;
  maxScriptLength: number;
  keyRetentionMs: number;
  cancelledJobs: NonNullable<SandboxOptions['cancelledJobs']>;
  faults: SandboxFaultOptions | undefined;
  rateLimit: SandboxRateLimitOptions | undefined;
}

export function resolveSettings(options: SandboxOptions): SandboxSettings {
  return {
    autoSites: options.autoSites ?? SANDBOX_DEFAULTS.autoSites,
    checkinIntervalMs: options.checkinIntervalMs ?? SANDBOX_DEFAULTS.checkinIntervalMs,
    expressDelayMs: options.expressDelayMs ?? SANDBOX_DEFAULTS.expressDelayMs,
    runMs: options.runMs ?? SANDBOX_DEFAULTS.runMs,
    failMarker: options.failMarker ?? SANDBOX_DEFAULTS.failMarker,
    replayAnswer: options.replayAnswer ?? SANDBOX_DEFAULTS.replayAnswer,
    deleteStatus: options.deleteStatus ?? SANDBOX_DEFAULTS.deleteStatus,
    deleteStartedStatus: options.deleteStartedStatus ?? SANDBOX_DEFAULTS.deleteStartedStatus,
    latencyMs: options.latencyMs ?? SANDBOX_DEFAULTS.latencyMs,
    maxScriptLength: options.maxScriptLength ?? SANDBOX_DEFAULTS.maxScriptLength,
    keyRetentionMs: options.keyRetentionMs ?? SANDBOX_DEFAULTS.keyRetentionMs,
    cancelledJobs: options.cancelledJobs ?? SANDBOX_DEFAULTS.cancelledJobs,
    faults: options.faults,
    rateLimit: options.rateLimit,
  };
}

/**
 * Apply a configure() patch in place. An undefined value keeps the setting, except for `faults` and
 * `rateLimit`, where it turns them off.
 */
export function patchSettings(settings: SandboxSettings, patch: SandboxRuntimeSettings): void {
  for (const [k, v] of Object.entries(patch))
    if (v !== undefined || k === 'faults' || k === 'rateLimit') (settings as unknown as Record<string, unknown>)[k] = v;
}

/** The accepted tokens (the first is the one Sandbox.token shows). */
export function resolveTokens(token: SandboxOptions['token']): string[] {
  const tokens = (typeof token === 'string' ? [token] : token ? [...token] : [SANDBOX_DEFAULTS.token]).filter(Boolean);
  if (tokens.length === 0) throw new Error('sandbox: at least one token is needed');
  return tokens;
}
