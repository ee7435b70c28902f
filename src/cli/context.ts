// What a CLI command has: its streams (every text scrubbed of secrets), colours for people, and the
// runtime (src/wiring), which builds every adapter the command uses.
import type { Logger } from '../core/logger.js';
import type { SecretSource } from '../core/model.js';
import type { StateStore } from '../core/ports.js';
import type { Redact } from '../core/redact.js';
import type { GitRepo } from '../git/repo.js';
import { makeStyle, type Style } from '../report/style.js';
import { parseOptions, RUN_OPTIONS, type LogLevel, type RunOptions } from '../wiring/options.js';
import { Runtime } from '../wiring/runtime.js';
import type { CliIo, OutStream } from './io.js';

export type CommonOptions = RunOptions;

export class Context {
  readonly io: CliIo;
  readonly style: Style;
  readonly runtime: Runtime;
  /** The exit code of an invalid input (InputError): 2, or 1 under plan --detailed-exitcode (Terraform's codes). */
  invalidExitCode = 2;

  /**
   * `raw` gives the log level and the SDX URL flag (read before the command parses its own options,
   * so that every message of the command is logged and scrubbed the same way); `defaultLevel` is the
   * command's (the daemon logs at info even on a terminal).
   */
  constructor(io: CliIo, raw: { logLevel?: unknown; apiUrl?: unknown }, defaultLevel?: LogLevel, opts: { hideTemplateSecrets?: boolean } = {}) {
    this.io = io;
    this.style = makeStyle({ isTTY: !!io.stdout.isTTY, env: io.env });
    const { logLevel } = parseOptions({ logLevel: RUN_OPTIONS.logLevel }, raw);
    const envLevel = RUN_OPTIONS.logLevel(io.env.RGO_LOG_LEVEL, 'RGO_LOG_LEVEL', []);
    this.runtime = new Runtime({
      env: io.env,
      cwd: io.cwd,
      log: { kind: 'ndjson', write: (s) => void io.stderr.write(s) },
      logLevel: logLevel ?? envLevel ?? defaultLevel ?? (io.stderr.isTTY ? 'warn' : 'info'),
      apiUrl: [
        { source: '--api-url', value: typeof raw.apiUrl === 'string' ? raw.apiUrl : undefined },
        { source: 'SDX_API_URL', value: io.env.SDX_API_URL },
      ],
      signal: io.signal,
      hideTemplateSecrets: opts.hideTemplateSecrets,
    });
  }

  get logger(): Logger {
    return this.runtime.logger;
  }

  get redact(): Redact {
    return this.runtime.redact();
  }

  out(text: string): void {
    this.io.stdout.write(this.runtime.redact()(text));
  }

  err(text: string): void {
    this.io.stderr.write(this.runtime.redact()(text));
  }

  get stdout(): OutStream {
    return { write: (s: string) => this.out(s), isTTY: this.io.stdout.isTTY, columns: this.io.stdout.columns };
  }

  get stderr(): OutStream {
    return { write: (s: string) => this.err(s), isTTY: this.io.stderr.isTTY, columns: this.io.stderr.columns };
  }

  /** Remember more secret values to scrub. */
  addSecrets(values: string[]): void {
    this.runtime.addSecrets(values);
  }

  repo(opts: Pick<RunOptions, 'cwd'>): Promise<GitRepo> {
    return this.runtime.openRepo(opts.cwd);
  }

  stateStore(repo: GitRepo, opts: Pick<RunOptions, 'stateFile' | 'stateRef' | 'stateRemote'>): Promise<StateStore> {
    return this.runtime.openState(repo, opts);
  }

  parseCache(repo: GitRepo) {
    return this.runtime.parseCache(repo);
  }

  planSnapshot(repo: GitRepo) {
    return this.runtime.planSnapshot(repo);
  }

  /** `hide`: see Runtime.loadSecrets (false for plan only). */
  secrets(repo: GitRepo | null, opts: Pick<RunOptions, 'secretsFile'>, hide = true): Promise<SecretSource> {
    return this.runtime.loadSecrets(repo, { file: opts.secretsFile, hide });
  }
}
