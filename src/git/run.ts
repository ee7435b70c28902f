// Runs git as a child process with a clean, deterministic environment. Every git process of the
// adapter goes through here, so that errors, logging and credential redaction are done once.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { GitError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { redactCredentials } from '../core/redact.js';

// git gets only the environment it needs (issue 13): a child process must never see
// SDX_API_TOKEN, GITHUB_TOKEN, RGO_SECRET_* or anything else of ours, since a credential helper, an
// ssh command or a hook it runs may print or ship its environment. What is kept: how to find
// programs and the user's configuration, the credentials channels git itself uses (credential
// helpers read HOME/XDG_CONFIG_HOME; actions/checkout's extraheader lives in the repository's
// config; SSH needs SSH_AUTH_SOCK), proxies and TLS settings, and on Windows what processes need.
const KEPT_VARS = new Set(
  [
    'PATH',
    'HOME',
    'USER',
    'LOGNAME',
    'SHELL',
    'TMPDIR',
    'TMP',
    'TEMP',
    'TZ',
    'XDG_CONFIG_HOME',
    'SSH_AUTH_SOCK',
    'SSH_AGENT_PID',
    'SSH_ASKPASS',
    'DISPLAY',
    'GNUPGHOME',
    'GPG_AGENT_INFO',
    'http_proxy',
    'https_proxy',
    'no_proxy',
    'all_proxy',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'NO_PROXY',
    'ALL_PROXY',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
    'CURL_CA_BUNDLE',
    'LD_LIBRARY_PATH',
    // Windows
    'SYSTEMROOT',
    'SYSTEMDRIVE',
    'WINDIR',
    'COMSPEC',
    'PATHEXT',
    'USERPROFILE',
    'HOMEDRIVE',
    'HOMEPATH',
    'APPDATA',
    'LOCALAPPDATA',
    'PROGRAMDATA',
    'PROGRAMFILES',
  ].map((k) => k.toUpperCase()),
);

// GIT_* variables a user sets on purpose to reach a remote or to debug git; every other GIT_*
// variable (GIT_DIR, GIT_INDEX_FILE, GIT_WORK_TREE... as set inside hooks) is dropped so that the
// adapter always talks to the repository it was opened on.
const KEPT_GIT_VARS =
  /^GIT_(SSH|SSH_COMMAND|SSH_VARIANT|ASKPASS|PROXY_COMMAND|HTTP_PROXY_AUTHMETHOD|SSL_NO_VERIFY|SSL_CAINFO|SSL_CAPATH|SSL_CERT|SSL_KEY|SSL_CERT_PASSWORD_PROTECTED|CONFIG_GLOBAL|CONFIG_NOSYSTEM|CONFIG_COUNT|CONFIG_KEY_\d+|CONFIG_VALUE_\d+|EXEC_PATH|TRACE\w*)$/;

/** Is this variable passed on to git? (LANG and LC_* are, but gitEnv sets them to C anyway.) */
export function keptForGit(name: string): boolean {
  const upper = name.toUpperCase();
  if (upper.startsWith('GIT_')) return KEPT_GIT_VARS.test(upper);
  return KEPT_VARS.has(upper) || upper === 'LANG' || upper.startsWith('LC_');
}

/** The environment every git process runs with: only what git needs, C locale, no prompts, no pager, literal pathspecs. */
export function gitEnv(extra: Readonly<Record<string, string>> = {}, from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(from)) {
    if (v !== undefined && keptForGit(k)) env[k] = v;
  }
  return {
    ...env,
    LC_ALL: 'C',
    LANG: 'C',
    LANGUAGE: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    GIT_LITERAL_PATHSPECS: '1',
    // Reads must not take the index lock that a concurrent `git status` would otherwise refresh.
    GIT_OPTIONAL_LOCKS: '0',
    ...extra,
  };
}

/** `git <args>` as shown in messages and logs, credentials removed. */
export function formatCommand(args: readonly string[]): string {
  return redactCredentials(['git', ...args].map((a) => (/^[\w@%+=:,./^{}-]+$/.test(a) ? a : JSON.stringify(a))).join(' '));
}

/** A GitError for a failed command; the message quotes git's own explanation (redacted). */
export function gitError(args: readonly string[], exitCode: number | null, stderr: string, cause?: unknown): GitError {
  const command = formatCommand(args);
  const detail = redactCredentials(stderr)
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '')
    .slice(0, 8)
    .join('\n');
  const how = exitCode === null ? 'was killed' : `failed (exit ${exitCode})`;
  return new GitError(`${command} ${how}${detail ? `: ${detail}` : ''}`, command, exitCode, cause === undefined ? undefined : { cause });
}

export interface RunOptions {
  cwd: string;
  /** Written to the process's stdin, which is then closed. */
  input?: Buffer | string;
  /** Added to the clean environment (see gitEnv). */
  env?: Readonly<Record<string, string>>;
  /** Exit codes that are answers rather than failures (0 always is). Default: none. */
  okCodes?: readonly number[];
  logger?: Logger;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

/** Start `git <args>` with piped stdio; the caller streams. A missing git binary becomes a GitError. */
export function spawnGit(args: readonly string[], opts: Pick<RunOptions, 'cwd' | 'env'>): ChildProcessWithoutNullStreams {
  return spawn('git', ['--no-pager', ...args], { cwd: opts.cwd, env: gitEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
}

/** The error to raise when spawn itself fails (ENOENT: no git on PATH, bad cwd). */
export function spawnError(args: readonly string[], err: NodeJS.ErrnoException, cwd: string): GitError {
  if (err.code === 'ENOENT') {
    return new GitError(`git was not found on PATH (or the directory ${cwd} does not exist); install git 2.30 or later`, formatCommand(args), null, {
      cause: err,
    });
  }
  return new GitError(`${formatCommand(args)} could not start: ${err.message}`, formatCommand(args), null, { cause: err });
}

/** Run `git <args>` to completion and return its output; a non-zero exit not in okCodes throws GitError. */
export function runGit(args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawnGit(args, opts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let spawnFailure: NodeJS.ErrnoException | undefined;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => (spawnFailure = e));
    // git may exit before reading all of stdin (e.g. on a bad argument); that is reported by its
    // exit code, not by EPIPE.
    child.stdin.on('error', () => {});
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8');
      opts.logger?.debug({ command: formatCommand(args), exitCode: code, ms: Math.round(performance.now() - started) }, 'git');
      if (spawnFailure) return reject(spawnError(args, spawnFailure, opts.cwd));
      if (code === 0 || (code !== null && opts.okCodes?.includes(code))) {
        return resolve({ stdout: Buffer.concat(out), stderr, exitCode: code ?? 0 });
      }
      reject(gitError(args, code, stderr));
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** runGit returning stdout as text with the trailing newline removed. */
export async function gitText(args: readonly string[], opts: RunOptions): Promise<string> {
  const { stdout } = await runGit(args, opts);
  return stdout.toString('utf8').replace(/\n$/, '');
}
