// The GitHub client: @octokit/core with pagination, retries and GitHub's recommended throttling
// (plugin-throttling: writes one at a time and spaced out, retry-after and x-ratelimit-reset
// honoured; plugin-retry: exponential back-off for 5xx and plain 429). Only this file builds one.
import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck/light.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { VERSION } from '../version.js';

// Throttling is inner (it sees rate-limit answers first and waits as GitHub says); retry is outer
// (5xx and a 429 without rate-limit headers back off exponentially).
const GitHubOctokit = Octokit.plugin(paginateRest, throttling, retry);
export type GitHubClient = InstanceType<typeof GitHubOctokit>;

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

export interface GitHubClientOptions {
  readonly token: string;
  /** REST API base: GITHUB_API_URL (Enterprise Server: https://HOST/api/v3). Default https://api.github.com. */
  readonly baseUrl?: string;
  /** Default silent. */
  readonly logger?: Logger;
  /** Least time between two writes (POST, PATCH, DELETE). Default 1000 ms, as GitHub asks. */
  readonly writeIntervalMs?: number;
  /** Least time between two writes that notify people (comments). Default 3000 ms. */
  readonly notifyIntervalMs?: number;
  /** Retries of one request after a rate-limit answer. Default 3. */
  readonly rateLimitRetries?: number;
  /** Longest wait for a primary rate limit to reset before giving up. Default 600 s. */
  readonly maxRateLimitWaitSeconds?: number;
  /** Unit of retry-after and of the back-off, in ms (tests shorten it). Default 1000. */
  readonly retryAfterBaseMs?: number;
}

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const logger = options.logger ?? silentLogger;
  const retries = options.rateLimitRetries ?? 3;
  const maxWait = options.maxRateLimitWaitSeconds ?? 600;
  const base = options.retryAfterBaseMs ?? 1000;
  const where = (o: { method?: string; url?: string }) => `${o.method ?? ''} ${o.url ?? ''}`.trim();
  // One set of groups per client, so that a test's (or a daemon's) second client starts fresh.
  const id = `routeros-gitops-${Math.random().toString(36).slice(2)}`;
  return new GitHubOctokit({
    auth: options.token,
    baseUrl: (options.baseUrl || DEFAULT_GITHUB_API_URL).replace(/\/+$/, ''),
    userAgent: `routeros-gitops/${VERSION}`,
    log: {
      debug: (msg: string) => logger.debug({}, `github: ${msg}`),
      info: (msg: string) => logger.debug({}, `github: ${msg}`),
      warn: (msg: string) => logger.warn({}, `github: ${msg}`),
      error: (msg: string) => logger.error({}, `github: ${msg}`),
    },
    throttle: {
      id,
      retryAfterBaseValue: base,
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.writeIntervalMs ?? 1000 }),
      notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.notifyIntervalMs ?? 3000 }),
      onRateLimit: (retryAfter, o, _octokit, retryCount) => {
        const again = retryCount < retries && retryAfter <= maxWait;
        logger.warn(
          { request: where(o), retry_after_s: retryAfter, retry: again },
          again ? 'GitHub rate limit reached; waiting for the reset' : 'GitHub rate limit reached; giving up',
        );
        return again;
      },
      onSecondaryRateLimit: (retryAfter, o, _octokit, retryCount) => {
        const again = retryCount < retries && retryAfter <= maxWait;
        logger.warn(
          { request: where(o), retry_after_s: retryAfter, retry: again },
          again ? 'GitHub secondary rate limit; waiting as asked' : 'GitHub secondary rate limit; giving up',
        );
        return again;
      },
    },
    retry: { retries: 3, retryAfterBaseValue: base },
  });
}

/** The HTTP status of an Octokit RequestError, or undefined for another error. */
export function httpStatus(e: unknown): number | undefined {
  const s = (e as { status?: unknown })?.status;
  return typeof s === 'number' ? s : undefined;
}

/** A short, token-free description of a failed GitHub request. */
export function describeGitHubError(e: unknown): string {
  const status = httpStatus(e);
  const message = ((e as Error)?.message ?? String(e)).split('\n')[0]!.slice(0, 300);
  return status ? `GitHub answered ${status}: ${message}` : message;
}
