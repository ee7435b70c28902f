// Builds the real adapters for a command: the git repository, the state store, secrets, a logger
// and output streams that never carry a secret.
import pino from 'pino';
import type { CliIo, OutStream } from './io.js';
import type { Logger } from '../core/logger.js';
import { envSecrets, makeRedactor, type Redact } from '../core/redact.js';
import { makeStyle, type Style } from '../report/style.js';
import { openRepo, type GitRepo } from '../git/repo.js';
import { openStateStore } from '../state/open-store.js';
import type { StateStore } from '../core/ports.js';
import { loadSecrets } from '../secrets/secret-source.js';
import { openPlanSnapshot } from '../cache/plan-snapshot.js';
import { openParseCache } from '../cache/parse-cache.js';
import type { SecretSource } from '../core/model.js';

export interface CommonOptions {
  cwd?: string;
  sites: string;
  ref: string;
  stateFile?: string;
  stateRemote?: string;
  stateRef?: string;
  secretsFile?: string;
  logLevel?: string;
  logFormat?: 'json' | 'pretty';
}

export class Context {
  readonly io: CliIo;
  redact: Redact;
  readonly style: Style;
  readonly logger: Logger;
  private secretValues: string[] = [];

  constructor(io: CliIo, opts: { logLevel?: string }) {
    this.io = io;
    this.redact = makeRedactor(envSecrets(io.env));
    this.style = makeStyle({ isTTY: !!io.stdout.isTTY, env: io.env });
    const level = opts.logLevel ?? io.env.RGO_LOG_LEVEL ?? (io.stderr.isTTY ? 'warn' : 'info');
    this.logger = pino(
      { level, base: { name: 'routeros-gitops' }, timestamp: pino.stdTimeFunctions.isoTime },
      { write: (s: string) => void io.stderr.write(this.redact(s)) },
    ) as unknown as Logger;
  }

  out(text: string): void {
    this.io.stdout.write(this.redact(text));
  }

  err(text: string): void {
    this.io.stderr.write(this.redact(text));
  }

  get stdout(): OutStream {
    return { write: (s: string) => this.out(s), isTTY: this.io.stdout.isTTY, columns: this.io.stdout.columns };
  }

  get stderr(): OutStream {
    return { write: (s: string) => this.err(s), isTTY: this.io.stderr.isTTY, columns: this.io.stderr.columns };
  }

  /** Remember more secret values to scrub (template secrets, once loaded). */
  addSecrets(values: string[]): void {
    this.secretValues.push(...values);
    this.redact = makeRedactor([...envSecrets(this.io.env), ...this.secretValues]);
  }

  async repo(opts: CommonOptions): Promise<GitRepo> {
    return openRepo(opts.cwd ? resolveFrom(this.io.cwd, opts.cwd) : this.io.cwd, { logger: this.logger });
  }

  async stateStore(repo: GitRepo, opts: CommonOptions): Promise<StateStore> {
    return openStateStore({
      cwd: repo.root,
      repo,
      stateFile: opts.stateFile ? resolveFrom(this.io.cwd, opts.stateFile) : undefined,
      stateRemote: opts.stateRemote,
      stateRef: opts.stateRef,
      logger: this.logger,
      redact: () => this.redact,
    });
  }

  /** Parsed settings files kept in the git directory between runs (see src/cache). */
  parseCache(repo: GitRepo) {
    return openParseCache(repo.gitDir);
  }

  /** What the last plan found unchanged, kept in the git directory (see src/cache). */
  planSnapshot(repo: GitRepo) {
    return openPlanSnapshot(repo.gitDir);
  }

  async secrets(repo: GitRepo | null, opts: CommonOptions): Promise<SecretSource> {
    const source = await loadSecrets({ env: this.io.env, file: opts.secretsFile, repoRoot: repo?.root, cwd: this.io.cwd });
    this.addSecrets(source.values());
    return source;
  }
}

function resolveFrom(base: string, p: string): string {
  return p.startsWith('/') ? p : `${base.replace(/\/+$/, '')}/${p}`;
}
