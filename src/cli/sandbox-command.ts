// `sandbox`: the local double of the SDX jobs API, for rehearsing a change with no account; and
// `demo`: the quick start, a whole reconcile of sites.example against an in-process sandbox.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from './context.js';
import { EXAMPLE_SITES, parseSandboxOptions, startSandbox, type SandboxOptions } from '../sandbox/sandbox.js';
import { parseListen } from '../core/listen.js';
import { InputError } from '../core/errors.js';
import type { CliIo } from './io.js';
import { gitEnv } from '../git/run.js';
import { opt, parseOptions, type Spec } from '../wiring/options.js';

const exec = promisify(execFile);

const SANDBOX_SPEC = {
  listen: opt.stringOr('127.0.0.1:8787'),
  config: opt.string(),
  token: opt.string(),
  autoSites: opt.bool(true),
  checkinMs: opt.int(0, 86_400_000),
  logLevel: opt.string(),
} satisfies Spec;
const DEMO_SPEC = { keep: opt.bool() } satisfies Spec;

export async function sandboxCommand(ctx: Context, raw: Record<string, unknown>, _args?: string[]): Promise<number> {
  const opts = parseOptions(SANDBOX_SPEC, raw);
  let options: SandboxOptions = {};
  if (opts.config) {
    let text: string;
    try {
      text = await readFile(resolve(ctx.io.cwd, opts.config), 'utf8');
    } catch {
      throw new InputError({ file: opts.config, message: 'cannot read the sandbox settings file', hint: 'pass --config with a JSON file of sandbox settings' });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new InputError({ file: opts.config, message: `is not valid JSON (${(e as Error).message})` });
    }
    options = parseSandboxOptions(doc, opts.config);
  }
  const listen = parseListen(opts.listen ?? '127.0.0.1:8787');
  const checkin = opts.checkinMs;
  const sandbox = await startSandbox({
    ...options,
    // Something for `sites` and `init` to list: the routers of sites.example, unless the settings name sites.
    sites: options.sites ?? EXAMPLE_SITES,
    host: listen.host,
    port: listen.port,
    ...(opts.token && { token: opts.token }),
    ...(opts.autoSites !== false && options.sites === undefined && options.autoSites === undefined && { autoSites: true }),
    ...(checkin !== undefined && { checkinIntervalMs: checkin }),
    logger: ctx.logger,
  });
  ctx.out(`SDX sandbox listening on ${sandbox.url}\n`);
  ctx.out(`  export SDX_API_URL=${sandbox.url}\n  export SDX_API_TOKEN=${opts.token ? '<the token you passed>' : sandbox.token}\n`);
  if (!options.sites)
    ctx.out(`Sites: the ${EXAMPLE_SITES.length} routers of sites.example (routeros-gitops sites lists them); any other UUID is a site too.\n`);
  ctx.out(`Admin: GET ${sandbox.url}/_sandbox/jobs, GET /_sandbox/stats, POST /_sandbox/reset. Stop with Ctrl-C.\n`);
  await new Promise<void>((resolve) => {
    if (!ctx.io.signal || ctx.io.signal.aborted) return resolve();
    ctx.io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await sandbox.close();
  ctx.out('sandbox stopped\n');
  return 0;
}

/** Find sites.example next to this module (source or bundle). */
export function exampleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'sites.example');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('sites.example was not found next to routeros-gitops');
}

type RunFn = (argv: readonly string[], io: CliIo) => Promise<number>;

/** The quick start: reconcile sites.example in a temporary repository against an in-process sandbox. */
export async function demoCommand(ctx: Context, raw: Record<string, unknown>, _args: string[], runCli: RunFn): Promise<number> {
  const opts = parseOptions(DEMO_SPEC, raw);
  const dir = await mkdtemp(join(tmpdir(), 'routeros-gitops-demo-'));
  const git = (...args: string[]) =>
    exec('git', args, {
      cwd: dir,
      // Only what git needs (see gitEnv): never the demo's token or secret.
      env: gitEnv({
        GIT_AUTHOR_NAME: 'Demo',
        GIT_AUTHOR_EMAIL: 'demo@example.invalid',
        GIT_COMMITTER_NAME: 'Demo',
        GIT_COMMITTER_EMAIL: 'demo@example.invalid',
      }),
    });
  const sandbox = await startSandbox({ autoSites: true, checkinIntervalMs: 400, expressDelayMs: 100, runMs: 150, latencyMs: 5 });
  const step = (title: string) => ctx.out(`\n${ctx.style.bold(ctx.style.cyan(`== ${title}`))}\n`);
  const env = {
    ...ctx.io.env,
    SDX_API_URL: sandbox.url,
    SDX_API_TOKEN: sandbox.token,
    // The example's one secret, supplied the way a real run gets it: from the environment.
    RGO_SECRET_PPPOE_PASSWORD: 'demo-pppoe-password',
    // Secrets need their key (it makes the digests in the state unguessable): a demo one.
    RGO_SECRETS_KEY: 'demo-secrets-key-not-for-real-use',
    RGO_POLL_INITIAL_MS: '300',
    RGO_POLL_MAX_MS: '1000',
    RGO_RATE_LIMIT: '0',
    RGO_LOG_LEVEL: ctx.io.env.RGO_LOG_LEVEL ?? 'warn',
  };
  const cli = (...argv: string[]) => runCli(argv, { ...ctx.io, cwd: dir, env });
  try {
    await git('init', '-q', '-b', 'main');
    await cp(exampleDir(), join(dir, 'sites'), { recursive: true });
    await git('add', '-A');
    await git('commit', '-q', '-m', 'Fleet: hq-core and three branch offices');
    ctx.out(`A temporary configuration repository: ${dir}\nThe SDX sandbox (a local double of the API, simulated routers): ${sandbox.url}\n`);

    step('routeros-gitops validate');
    await cli('validate');
    step('routeros-gitops plan');
    await cli('plan');
    step('routeros-gitops apply');
    const first = await cli('apply');
    step('routeros-gitops apply (again: nothing changed, nothing is sent)');
    await cli('apply');

    const queues = join(dir, 'sites/hq-core/40-queues.rsc');
    await writeFile(queues, (await readFile(queues, 'utf8')).replace('max-limit=50M/50M', 'max-limit=80M/80M'));
    await git('commit', '-q', '-am', 'hq-core: raise the guest queue to 80M');
    step('one-script commit: routeros-gitops plan');
    await cli('plan');
    step('routeros-gitops apply');
    const second = await cli('apply');
    step('routeros-gitops status');
    await cli('status');

    const stats = sandbox.stats();
    const once = sandbox.createdCounts().every((c) => c.count === 1);
    if (first || second || !stats.jobsCreated || !once) {
      ctx.err(
        `\nThe demo did not go as it should: apply exited ${first} and ${second}, ${stats.jobsCreated} jobs were created${once ? '' : ', some twice'}. Run it again with RGO_LOG_LEVEL=info to see why.\n`,
      );
      return first || second || 1;
    }
    ctx.out(`\nThe sandbox received ${stats.requests} API requests and created ${stats.jobsCreated} jobs (one per change, none twice).\n`);
    return 0;
  } finally {
    await sandbox.close();
    if (opts.keep) ctx.out(`The repository is kept at ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  }
}
