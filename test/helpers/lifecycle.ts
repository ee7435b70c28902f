// One setup for the suites that run routeros-gitops against the sandbox: temporary repositories
// with files, a sandbox whose routers answer in milliseconds, the environment that points the CLI
// (or the daemon) at it, and cleanup registered once, run newest first after each test (or after
// the file). Suites differ only in their files and the sandbox settings they need.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions, type SandboxRequest } from '../../src/sandbox/sandbox.js';
import { createBareRemote, createTempRepo, type BareRemote, type FileContent, type TempRepo } from './git-repo.js';

/** Routers that check in every 20 ms and run a job in 5: a whole apply takes milliseconds. */
export const FAST_SANDBOX: SandboxOptions = { autoSites: true, checkinIntervalMs: 20, expressDelayMs: 5, runMs: 5 };

export type Env = Record<string, string>;

/**
 * The environment that points the CLI at a sandbox: its URL and token, polling every 20 to 50 ms,
 * no client-side rate limit. `extra` adds or overrides variables.
 */
export function sandboxEnv(sb: Pick<Sandbox, 'url' | 'token'>, extra: Env = {}): Env {
  return { SDX_API_URL: sb.url, SDX_API_TOKEN: sb.token, RGO_POLL_INITIAL_MS: '20', RGO_POLL_MAX_MS: '50', RGO_RATE_LIMIT: '0', ...extra };
}

export interface Fleet {
  r: TempRepo;
  sb: Sandbox;
  env: Env;
}

export interface Lifecycle {
  /** Run `fn` at cleanup time (cleanups run newest first; one failing does not stop the others). */
  defer(fn: () => unknown): void;
  /** A temporary repository; with `files`, committed as its first commit. */
  repo(files?: Record<string, FileContent>): Promise<TempRepo>;
  /** An empty bare repository (and its clones) to push to. */
  remote(): Promise<BareRemote>;
  /** A sandbox with FAST_SANDBOX settings, overridden by `options`. */
  sandbox(options?: SandboxOptions): Promise<Sandbox>;
  /** A repository with `files`, a sandbox, and the environment to point the CLI at it (sandboxEnv plus `env`). */
  fleet(files: Record<string, FileContent>, options?: SandboxOptions, env?: Env): Promise<Fleet>;
}

/** Resources made in a test (scope 'each', the default) or in the file's beforeAll ('all') are cleaned up after it. */
export function useLifecycle(scope: 'each' | 'all' = 'each'): Lifecycle {
  const cleanups: Array<() => unknown> = [];
  const cleanup = async () => {
    const errors: unknown[] = [];
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length) throw errors[0];
  };
  if (scope === 'each') afterEach(cleanup);
  else afterAll(cleanup);

  const life: Lifecycle = {
    defer: (fn) => void cleanups.push(fn),
    async repo(files) {
      const r = await createTempRepo(files ? { files } : {});
      cleanups.push(() => r.cleanup());
      return r;
    },
    async remote() {
      const r = await createBareRemote();
      cleanups.push(() => r.cleanup());
      return r;
    },
    async sandbox(options = {}) {
      const sb = await startSandbox({ ...FAST_SANDBOX, ...options });
      cleanups.push(() => sb.close());
      return sb;
    },
    async fleet(files, options = {}, env = {}) {
      const r = await life.repo(files);
      const sb = await life.sandbox(options);
      return { r, sb, env: sandboxEnv(sb, env) };
    },
  };
  return life;
}

export interface SharedSandbox {
  /** The sandbox (started before the file's first test). */
  readonly sb: Sandbox;
  /** sandboxEnv of it. */
  env(extra?: Env): Env;
}

/** One sandbox for every test of the file: started before the first, closed after the last. */
export function sharedSandbox(options: SandboxOptions = {}): SharedSandbox {
  let sb: Sandbox | undefined;
  beforeAll(async () => {
    sb = await startSandbox({ ...FAST_SANDBOX, ...options });
  });
  afterAll(() => sb?.close());
  const started = () => {
    if (!sb) throw new Error('the shared sandbox is not started (use it inside a test or a hook)');
    return sb;
  };
  return {
    get sb() {
      return started();
    },
    env: (extra) => sandboxEnv(started(), extra),
  };
}

export interface PostLog {
  /** Every POST the sandbox received, in order: when (performance.now()), to which site, with which script. */
  readonly posts: Array<{ at: number; site: string; body: string }>;
  /** Give to the sandbox's inspectRequest. */
  readonly inspect: (req: SandboxRequest) => void;
}

/** Records the POSTs a sandbox receives, with the time each arrived. */
export function recordPosts(): PostLog {
  const posts: PostLog['posts'] = [];
  return {
    posts,
    inspect: (req) => {
      if (req.method === 'POST') posts.push({ at: performance.now(), site: req.path.split('/')[2]!, body: req.body });
    },
  };
}
