// The only place adapters are built. Each entry point (the CLI, the Action, the daemon) turns its
// own inputs into one RuntimeOptions and gets a Runtime, which builds the repository reader, the
// state store (with redaction of what it records), the secrets, the redactor and the logger, the
// SDX client, the GitHub target and its status writer, and the caches: so the three entries differ
// only in how they read inputs and present results, never in retries, limits or redaction.
import pino from 'pino';
import { displayApiUrl, operatorApiUrl, type OperatorApiUrl } from '../core/api-url.js';
import { InputError } from '../core/errors.js';
import type { SdxClient } from '../core/jobs.js';
import type { Logger } from '../core/logger.js';
import type { SecretSource } from '../core/model.js';
import { noSecrets } from '../core/model.js';
import type { StateStore } from '../core/ports.js';
import { envSecrets, makeRedactor, MIN_SECRET_LENGTH, type Redact } from '../core/redact.js';
import { FLEET_DEFAULTS, type FleetDefaults } from '../core/settings.js';
import { openParseCache } from '../cache/parse-cache.js';
import { openPlanSnapshot } from '../cache/plan-snapshot.js';
import type { SnapshotStore } from '../core/snapshot.js';
import { openCheckCache } from '../cache/check-cache.js';
import { cachedChecks } from '../core/check-cache.js';
import type { LintFn } from '../core/model.js';
import type { RenderWorkers } from '../core/render-fleet.js';
import { commandDataPath } from '../assets/command-data.js';
import { createRenderPool } from '../workers/render-pool.js';
import { lintHook } from './checks.js';
import { openRepo, type GitRepo } from '../git/repo.js';
import { createActionLogger, type ActionLogSink } from '../github/actions-logger.js';
import { loadSecrets } from '../secrets/secret-source.js';
import { openStateStore } from '../state/open-store.js';
import { parseEnvTuning, type EnvTuning, type LogLevel } from './options.js';

/** Retries of one SDX request (each reuses the idempotency key, so none can create a second job). */
export const SDX_MAX_RETRIES = 8;

export type LogDestination =
  /** NDJSON lines (pino), e.g. on stderr: the CLI and the daemon. */
  | { kind: 'ndjson'; write(line: string): void }
  /** One human line per entry: the Action's log (debug lines only with step debugging). */
  | { kind: 'lines'; sink: ActionLogSink };

export interface RuntimeOptions {
  /** The environment: tokens, RGO_* tuning, secrets. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where relative paths (--cwd, --state-file, --secrets-file) are resolved. */
  readonly cwd: string;
  readonly log: LogDestination;
  /** Log level; default RGO_LOG_LEVEL, else `info`. */
  readonly logLevel?: LogLevel;
  /** The operator's choices of SDX URL, most specific first (e.g. --api-url, then SDX_API_URL). */
  readonly apiUrl: ReadonlyArray<{ source: string; value: string | undefined }>;
  /** Where the SDX token comes from: its value, and how to name it in a message. Default SDX_API_TOKEN. */
  readonly sdxToken?: { value: string | undefined; source: string };
  /** More values to scrub from every output (tokens given as inputs). */
  readonly secrets?: ReadonlyArray<string | undefined>;
  /**
   * Hide template secrets (RGO_SECRET_*) set in the environment in every output. Default true; false
   * for `plan` (see loadSecrets' `hide`). Tokens and the digest key are always hidden.
   */
  readonly hideTemplateSecrets?: boolean;
  /** Told of every value the redactor learns (the Action masks them in the runner's log). */
  readonly mask?: (value: string) => void;
  /** Stops the SDX client (no new request) and the run. */
  readonly signal?: AbortSignal;
}

/** Where the state is kept, as the user said it. */
export interface StateLocation {
  readonly stateFile?: string;
  readonly stateRef?: string;
  /** A remote name or URL; false: keep the state local; undefined: origin when it exists. */
  readonly stateRemote?: string | false;
}

export class Runtime {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly tuning: EnvTuning;
  readonly logger: Logger;
  private operatorUrl: OperatorApiUrl | undefined;
  private readonly known = new Set<string>();
  private redactor: Redact;

  constructor(private readonly opts: RuntimeOptions) {
    this.env = opts.env;
    this.redactor = makeRedactor([]);
    this.addSecrets([...envSecrets(opts.env, { templates: opts.hideTemplateSecrets !== false }), ...(opts.secrets ?? [])]);
    this.tuning = parseEnvTuning(opts.env);
    this.logger = this.makeLogger(opts.logLevel ?? this.tuning.RGO_LOG_LEVEL ?? 'info');
  }

  /** The operator's SDX URL (read on first use: a command that never reaches SDX never checks it). */
  get apiUrl(): OperatorApiUrl {
    this.operatorUrl ??= operatorApiUrl(this.opts.apiUrl);
    return this.operatorUrl;
  }

  /** The redactor as it is now (it grows as secrets are loaded): every output goes through it. */
  redact(): Redact {
    return this.redactor;
  }

  /** Learn more values to scrub (template secrets once loaded, tokens). */
  addSecrets(values: Iterable<string | undefined>): void {
    let added = false;
    for (const v of values) {
      if (!v || v.length < MIN_SECRET_LENGTH || this.known.has(v)) continue;
      this.known.add(v);
      this.opts.mask?.(v);
      added = true;
    }
    if (added) this.redactor = makeRedactor(this.known);
  }

  private makeLogger(level: LogLevel): Logger {
    const log = this.opts.log;
    if (log.kind === 'lines')
      return createActionLogger(
        log.sink,
        () => this.redactor,
        level === 'debug' || level === 'trace' ? 'debug' : level === 'info' ? 'info' : level === 'warn' ? 'warn' : 'error',
      );
    return pino(
      { level, base: { name: 'routeros-gitops' }, timestamp: pino.stdTimeFunctions.isoTime },
      { write: (s: string) => log.write(this.redactor(s)) },
    ) as unknown as Logger;
  }

  /** A path as the user gave it, from the entry's working directory. */
  resolve(p: string): string {
    return p.startsWith('/') ? p : `${this.opts.cwd.replace(/\/+$/, '')}/${p}`;
  }

  openRepo(dir?: string): Promise<GitRepo> {
    return openRepo(dir ? this.resolve(dir) : this.opts.cwd, { logger: this.logger });
  }

  /** The state store: a file, or the state ref (shared through origin when it exists); what it records is redacted. */
  openState(repo: GitRepo, where: StateLocation = {}): Promise<StateStore> {
    return openStateStore({
      cwd: repo.root,
      repo,
      stateFile: where.stateFile ? this.resolve(where.stateFile) : undefined,
      stateRemote: where.stateRemote,
      stateRef: where.stateRef,
      logger: this.logger,
      redact: () => this.redactor,
    });
  }

  /**
   * Template secrets from the environment and a secrets file; none for untrusted code (a fork's pull
   * request). `hide` (default true) adds their values to what every output scrubs. `plan` passes
   * false: its output holds no secret value by construction (renderings and checks use stand-ins),
   * and scrubbing would tell a committer which text of theirs equals a secret (an oracle).
   */
  async loadSecrets(repo: GitRepo | null, opts: { file?: string; none?: boolean; hide?: boolean } = {}): Promise<SecretSource> {
    if (opts.none) return noSecrets;
    const source = await loadSecrets({ env: this.env as Record<string, string | undefined>, file: opts.file, repoRoot: repo?.root, cwd: this.opts.cwd });
    if (opts.hide !== false) this.addSecrets(source.values());
    return source;
  }

  /**
   * The SDX client for a fleet, the same from every entry: the operator's URL, the token, retries,
   * rate limit, stop signal. Before the client is handed over, one request checks that the URL
   * reaches SDX and that the token is accepted (SdxClient.checkAccess): a wrong URL or token stops
   * the run before anything is sent (SdxAccessError, exit 3), in one request, instead of every
   * change failing after minutes of retries. The daemon reports it and retries on its own schedule.
   */
  sdxFactory(): (fleet: FleetDefaults) => Promise<SdxClient> {
    const build = this.sdxBuilder(); // refused here, before anything starts, when the URL or token cannot be used
    return async (fleet) => {
      const client = await build(this.tuning.RGO_RATE_LIMIT ?? fleet.rate_limit);
      try {
        await client.checkAccess();
      } catch (e) {
        await client.close();
        throw e;
      }
      return client;
    };
  }

  /** An SDX client outside a fleet (`sites`, `init`): the rate limit is RGO_RATE_LIMIT, else 60 a minute. */
  sdxClient(): Promise<SdxClient> {
    return this.sdxBuilder()(this.tuning.RGO_RATE_LIMIT ?? FLEET_DEFAULTS.rate_limit);
  }

  /** The operator's URL and the token, checked; a function that builds a client with a rate limit. */
  private sdxBuilder(): (requestsPerMinute: number) => Promise<SdxClient> {
    const apiUrl = this.apiUrl;
    const value = this.sdxToken();
    const maxRetries = this.tuning.RGO_SDX_MAX_RETRIES ?? SDX_MAX_RETRIES;
    return async (requestsPerMinute) => {
      // Loaded here, not with this module: undici and the reply schemas are most of what a CLI start
      // would compile, and plan never needs them (issue 18).
      const { createSdxClient } = await import('../sdx/client.js');
      this.logger.debug(
        { event: 'sdx-client', api_url: displayApiUrl(apiUrl.url), max_retries: maxRetries, requests_per_minute: requestsPerMinute },
        'SDX client',
      );
      return createSdxClient({
        baseUrl: apiUrl.url,
        token: value,
        requestsPerMinute,
        // A change that cannot be sent blocks its site until the next run: retry transient faults
        // generously (each retry reuses the idempotency key, so none can create a second job).
        maxRetries,
        logger: this.logger,
        signal: this.opts.signal,
        // Template secrets too (loaded before any job is made), before an SDX message is cut.
        redact: (t) => this.redact()(t),
      });
    };
  }

  /** The SDX token, checked (set, long enough to be hidden) and added to what every output scrubs. */
  private sdxToken(): string {
    const token = this.opts.sdxToken ?? { value: this.env.SDX_API_TOKEN, source: 'SDX_API_TOKEN' };
    const file = token.source.startsWith('input') ? `(${token.source})` : '(environment)';
    if (!token.value) {
      throw new InputError({
        file,
        message: `${token.source} is not set: reaching SDX needs an API token`,
        hint: token.source.startsWith('input')
          ? 'store the token as a repository secret and pass it: "sdx-api-token: ${{ secrets.SDX_API_TOKEN }}"'
          : 'export SDX_API_TOKEN=<your token>; to rehearse without an account, run `routeros-gitops sandbox` and point SDX_API_URL at it',
      });
    }
    const value = token.value;
    if (value.trim().length < MIN_SECRET_LENGTH) {
      throw new InputError({
        file,
        message: `${token.source} is ${value.trim().length} characters long: too short to be an SDX token, and to be hidden from every output`,
        hint: 'set it to the SDX API token (a JWT or an alto_sk_... key)',
      });
    }
    this.addSecrets([value]);
    return value;
  }

  /** How jobs are followed: first poll and longest interval (RGO_POLL_INITIAL_MS, RGO_POLL_MAX_MS). */
  poll(): { pollInitialMs?: number; pollMaxMs?: number } {
    return { pollInitialMs: this.tuning.RGO_POLL_INITIAL_MS, pollMaxMs: this.tuning.RGO_POLL_MAX_MS };
  }

  parseCache(repo: GitRepo) {
    return openParseCache(repo.gitDir);
  }

  /**
   * Issue 18: what plan and apply check scripts with: the installation's checks, their results
   * kept in the clone's check cache, and worker threads for plans with many scripts to read
   * (RGO_WORKERS: 0 none; N exactly N, whenever there is a script to read; unset: one per spare core
   * when there are enough scripts).
   */
  planChecks(repo: GitRepo): { lint: LintFn; workers?: RenderWorkers; checkCache: { save(): Promise<void> } } {
    const cache = openCheckCache(repo.gitDir, commandDataPath());
    const threads = this.tuning.RGO_WORKERS;
    const workers =
      threads === 0 ? undefined : createRenderPool({ root: repo.root, threads, forced: threads !== undefined, checks: cache, logger: this.logger });
    return { lint: cachedChecks(lintHook, cache), workers, checkCache: cache };
  }

  /** The plan snapshot of this clone; undefined when RGO_INCREMENTAL is false (every plan is then a full one). */
  planSnapshot(repo: GitRepo): SnapshotStore | undefined {
    return this.tuning.RGO_INCREMENTAL ? openPlanSnapshot(repo.gitDir) : undefined;
  }
}
