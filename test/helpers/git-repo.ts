// Real git repositories in temporary folders for tests (never git mocks): a fixed identity,
// no automatic gc, no signing, branch `main`. Shared by every suite that needs a repository.
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type FileContent = string | Buffer;

export interface TempRepo {
  /** The working tree (the repository root). */
  readonly dir: string;
  /**
   * Write (or, with null, delete) files in the working tree and commit everything.
   * Returns the new commit's sha. An empty `files` makes an empty commit.
   */
  commit(files: Record<string, FileContent | null>, message?: string): Promise<string>;
  /** Run git in the repository; returns stdout with the final newline removed. Throws on failure. */
  git(args: readonly string[], options?: { input?: string | Buffer }): Promise<string>;
  /** Remove the folder. */
  cleanup(): Promise<void>;
}

export interface BareRemote {
  /** The bare repository's folder, usable as a remote URL. */
  readonly dir: string;
  git(args: readonly string[], options?: { input?: string | Buffer }): Promise<string>;
  /** A working clone of this remote (its `origin`), configured like createTempRepo's. */
  clone(): Promise<TempRepo>;
  cleanup(): Promise<void>;
}

const IDENTITY = { name: 'Test Author', email: 'test@example.invalid' };

// Tests must not depend on the machine's git configuration or on a surrounding hook's variables.
function testEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  return { ...env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' };
}

/** Run git in `cwd`; returns stdout without the final newline. */
export function runGitIn(cwd: string, args: readonly string[], options: { input?: string | Buffer } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', [...args], { cwd, env: testEnv(), encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`git ${args.join(' ')} failed in ${cwd}: ${err.message}\n${stderr.toString('utf8')}`));
      else resolve(stdout.toString('utf8').replace(/\n$/, ''));
    });
    child.stdin?.on('error', () => {}); // git may exit without reading stdin
    child.stdin?.end(options.input ?? '');
  });
}

async function configure(dir: string): Promise<void> {
  const git = (args: string[]) => runGitIn(dir, args);
  await git(['config', 'user.name', IDENTITY.name]);
  await git(['config', 'user.email', IDENTITY.email]);
  await git(['config', 'gc.auto', '0']);
  await git(['config', 'commit.gpgsign', 'false']);
  await git(['config', 'core.autocrlf', 'false']);
}

function wrap(dir: string): TempRepo {
  const git = (args: readonly string[], options?: { input?: string | Buffer }) => runGitIn(dir, args, options);
  return {
    dir,
    git,
    async commit(files, message = 'test commit') {
      for (const [rel, content] of Object.entries(files)) {
        const file = path.join(dir, rel);
        if (content === null) await rm(file, { force: true, recursive: true });
        else {
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(file, content);
        }
      }
      await git(['add', '-A', '--', '.']);
      await git(['commit', '-q', '--allow-empty', '--no-verify', '-m', message]);
      return git(['rev-parse', 'HEAD']);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A fresh repository (branch main); with `files`, they are committed as its first commit. */
export async function createTempRepo(options: { files?: Record<string, FileContent> } = {}): Promise<TempRepo> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rgo-repo-'));
  await runGitIn(dir, ['init', '-q', '-b', 'main']);
  await configure(dir);
  const repo = wrap(dir);
  if (options.files) await repo.commit(options.files, 'initial commit');
  return repo;
}

/** An empty bare repository to push to and clone from. */
export async function createBareRemote(): Promise<BareRemote> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rgo-remote-'));
  await runGitIn(dir, ['init', '-q', '--bare', '-b', 'main']);
  await runGitIn(dir, ['config', 'gc.auto', '0']);
  const clones: TempRepo[] = [];
  return {
    dir,
    git: (args, options) => runGitIn(dir, args, options),
    async clone() {
      const parent = await mkdtemp(path.join(tmpdir(), 'rgo-clone-'));
      const target = path.join(parent, 'repo');
      await runGitIn(parent, ['clone', '-q', dir, target]);
      await configure(target);
      const repo = wrap(target);
      const c = { ...repo, cleanup: () => rm(parent, { recursive: true, force: true }) };
      clones.push(c);
      return c;
    },
    async cleanup() {
      await Promise.all(clones.map((c) => c.cleanup()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
