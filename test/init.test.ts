// `routeros-gitops init` (issue 14): a fleet repository from the SDX sites, read only towards SDX,
// never overwriting a file or a git hook; its workflow and hook are the README's, and the hook works.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { preCommitHook, WORKFLOW } from '../src/core/scaffold.js';
import { cli } from './helpers/cli.js';
import { sandboxEnv, useLifecycle } from './helpers/lifecycle.js';
import { CLI, ensureBuilt } from './daemon-harness.js';

const exec = promisify(execFile);
const life = useLifecycle();
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const SITES = [
  { id: '3f1c2a9e-7b4d-4c8e-9a61-2d5e8f0b7c13', name: 'HQ core', model: 'CCR2004-1G-12S+2XS', softwareVersion: '7.20.8' },
  { id: '6d2f8a41-0c3b-4e5f-8a9d-1b2c3d4e5f60', name: 'hq.core', model: 'RB5009UG+S+', softwareVersion: '7.19.4' },
  { id: '8e4b1c7d-2f6a-4b3c-9d8e-7f6a5b4c3d21', name: 'Depot', model: 'hAP ac2', softwareVersion: '6.49.10', online: false },
];

async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'rgo-init-'));
  life.defer(() => rm(d, { recursive: true, force: true }));
  return d;
}

const git = async (cwd: string, ...args: string[]) =>
  (await exec('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid', ...args], { cwd })).stdout.trim();

async function files(dir: string, base = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, base), { withFileTypes: true })) {
    if (e.name === '.git') continue;
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await files(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

/** The fenced block of the README that starts with `first`. */
async function readmeBlock(first: string): Promise<string> {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${first}`);
  expect(start, first).toBeGreaterThan(0);
  return readme.slice(start + 1, readme.indexOf('\n```', start) + 1);
}

describe('routeros-gitops init', () => {
  it('makes a repository from the SDX sites: folders, settings, schemas, the README workflow and hook, installed; read only', async () => {
    const sb = await life.sandbox({ sites: SITES, autoSites: false });
    const dir = await tempDir();
    const res = await cli(['init', 'fleet'], { cwd: dir, env: sandboxEnv(sb) });
    expect(res.code, res.stderr).toBe(0);
    const root = path.join(dir, 'fleet');
    expect(res.stdout).toContain(`Read 3 sites from SDX at ${sb.url} (read only: no job was sent).`);
    expect(res.stdout).toContain(`Initialised a git repository in ${root} (branch main`);
    expect(res.stdout).toContain('Note: "hq.core" and "HQ core" both make the folder name hq-core; "hq.core" is in hq-core-6d2f8a41.');
    expect(await git(root, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(await files(root)).toEqual([
      '.githooks/pre-commit',
      '.github/workflows/routeros-gitops.yml',
      'schema/routeros-gitops.schema.json',
      'schema/site.schema.json',
      'sites/README.md',
      'sites/depot/site.yaml',
      'sites/hq-core-6d2f8a41/site.yaml',
      'sites/hq-core/site.yaml',
      'sites/routeros-gitops.yaml',
    ]);
    expect(await readFile(path.join(root, 'sites/hq-core/site.yaml'), 'utf8')).toBe(
      '# yaml-language-server: $schema=../../schema/site.schema.json\n# HQ core (CCR2004-1G-12S+2XS, RouterOS 7.20.8) in SDX.\nid: 3f1c2a9e-7b4d-4c8e-9a61-2d5e8f0b7c13\n# Its scripts are checked against this RouterOS version: change it when the router is upgraded.\nrouteros: "7.20.8"\n',
    );
    expect(await readFile(path.join(root, 'sites/routeros-gitops.yaml'), 'utf8')).toMatch(
      /^# yaml-language-server: \$schema=\.\.\/schema\/routeros-gitops\.schema\.json\n/,
    );
    expect(JSON.parse(await readFile(path.join(root, 'schema/site.schema.json'), 'utf8')).title).toBe('site.yaml');
    const readme = await readFile(path.join(root, 'sites/README.md'), 'utf8');
    expect(readme).toContain('every script must be safe to run twice');
    expect(readme).toMatch(/remove \[find comment="gitops"\]/);
    expect(readme).toMatch(/:if \(\[:len \[find name=bridge-lan\]\] = 0\)/);
    // The workflow and the hook are the README's, and the hook is installed where git runs it.
    expect(await readFile(path.join(root, '.github/workflows/routeros-gitops.yml'), 'utf8')).toBe(WORKFLOW);
    expect(WORKFLOW).toBe(await readmeBlock('# .github/workflows/routeros-gitops.yml'));
    expect(preCommitHook()).toBe(await readmeBlock('#!/bin/sh\n# routeros-gitops pre-commit hook'));
    expect(await readFile(path.join(root, '.git/hooks/pre-commit'), 'utf8')).toBe(preCommitHook());
    expect((await stat(path.join(root, '.git/hooks/pre-commit'))).mode & 0o111).not.toBe(0);
    expect(res.stdout).toContain('Installed the pre-commit hook in .git/hooks/pre-commit');
    // Read only: the site list and each site, never a job.
    expect(sb.requests().every((q) => q.method === 'GET')).toBe(true);
    expect(sb.stats().jobsCreated).toBe(0);
    // The repository it made is valid as it is.
    await git(root, 'add', '-A');
    await git(root, 'commit', '-q', '--no-verify', '-m', 'init');
    const validate = await cli(['validate'], { cwd: root });
    expect(validate.stdout).toBe('No problems found.\n');
    const plan = await cli(['plan', '--format', 'json'], { cwd: root, env: sandboxEnv(sb) });
    expect(plan.code).toBe(0);
    expect(plan.json<{ changes: unknown[] }>().changes).toEqual([]);
  });

  it('never overwrites: lists the files that exist and writes nothing; --force overwrites them but never a hook', async () => {
    const sb = await life.sandbox({ sites: SITES.slice(0, 1), autoSites: false });
    const root = await tempDir();
    await git(root, 'init', '-q', '-b', 'main');
    await mkdir(path.join(root, 'sites/hq-core'), { recursive: true });
    await writeFile(path.join(root, 'sites/hq-core/site.yaml'), 'id: mine\n');
    await writeFile(path.join(root, '.git/hooks/pre-commit'), '#!/bin/sh\necho my hook\n');
    await chmod(path.join(root, '.git/hooks/pre-commit'), 0o755);
    const refused = await cli(['init'], { cwd: root, env: sandboxEnv(sb) });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('error: init never overwrites a file, and 1 of the 7 it writes exist; nothing was written:\n  sites/hq-core/site.yaml\n');
    expect(await files(root)).toEqual(['sites/hq-core/site.yaml']);
    expect(await readFile(path.join(root, 'sites/hq-core/site.yaml'), 'utf8')).toBe('id: mine\n');

    const forced = await cli(['init', '--force'], { cwd: root, env: sandboxEnv(sb) });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`Using the git repository at ${root}.`);
    expect(forced.stdout).toContain('Wrote (1 overwritten, --force):');
    expect(await readFile(path.join(root, 'sites/hq-core/site.yaml'), 'utf8')).toContain('id: 3f1c2a9e-');
    expect(await readFile(path.join(root, '.git/hooks/pre-commit'), 'utf8')).toBe('#!/bin/sh\necho my hook\n');
    expect(forced.stdout).toContain('Kept the existing pre-commit hook .git/hooks/pre-commit');
  });

  it('refuses a folder inside another repository, and takes --sites', async () => {
    const sb = await life.sandbox({ sites: SITES.slice(0, 1), autoSites: false });
    const root = await tempDir();
    await git(root, 'init', '-q', '-b', 'main');
    await mkdir(path.join(root, 'net'));
    const inside = await cli(['init', 'net'], { cwd: root, env: sandboxEnv(sb) });
    expect(inside.code).toBe(2);
    expect(inside.stderr).toContain(`is inside the git repository at ${root}, not its root`);
    expect(inside.stderr).toContain(`routeros-gitops init ${root} --sites net/sites`);
    const nested = await cli(['init', '--sites', 'net/sites'], { cwd: root, env: sandboxEnv(sb) });
    expect(nested.code).toBe(0);
    expect(await readFile(path.join(root, 'net/sites/hq-core/site.yaml'), 'utf8')).toMatch(
      /^# yaml-language-server: \$schema=\.\.\/\.\.\/\.\.\/schema\/site\.schema\.json\n/,
    );
    expect(await readFile(path.join(root, '.github/workflows/routeros-gitops.yml'), 'utf8')).toMatch(/command: plan\n {10}sites: net\/sites\n/);
    await git(root, 'add', '-A');
    await git(root, 'commit', '-q', '--no-verify', '-m', 'init');
    expect((await cli(['validate', '--sites', 'net/sites'], { cwd: root })).stdout).toBe('No problems found.\n');
  });

  it('the installed hook refuses a commit with a bad site.yaml or script, and lets a good one through', async () => {
    ensureBuilt();
    const sb = await life.sandbox({ sites: SITES.slice(0, 1), autoSites: false });
    const root = await tempDir();
    expect((await cli(['init'], { cwd: root, env: sandboxEnv(sb) })).code).toBe(0);
    // routeros-gitops on PATH, as an installed one would be.
    const bin = await tempDir();
    await writeFile(path.join(bin, 'routeros-gitops'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    await chmod(path.join(bin, 'routeros-gitops'), 0o755);
    const commit = (msg: string) =>
      exec('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid', 'commit', '-q', '-m', msg], {
        cwd: root,
        env: { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME },
      }).then(
        () => ({ ok: true, stderr: '', stdout: '' }),
        (e: { stdout: string; stderr: string }) => ({ ok: false, stdout: e.stdout, stderr: e.stderr }),
      );
    await git(root, 'add', '-A');
    expect((await commit('init')).ok).toBe(true);
    await writeFile(path.join(root, 'sites/hq-core/site.yaml'), 'id: nope\n');
    await git(root, 'add', '-A');
    const bad = await commit('bad id');
    expect(bad.ok).toBe(false);
    expect(bad.stdout + bad.stderr).toContain('sites/hq-core/site.yaml:1:5: error "id": the SDX site id is a UUID');
    await git(root, 'checkout', '--', '.');
    await git(root, 'reset', '-q', '--hard');
    await writeFile(path.join(root, 'sites/hq-core/10-dns.rsc'), '/ip dns set servers=${{ vars.dns }}\n');
    await git(root, 'add', '-A');
    const undefinedVar = await commit('dns');
    expect(undefinedVar.ok).toBe(false);
    expect(undefinedVar.stdout + undefinedVar.stderr).toMatch(/sites\/hq-core\/10-dns\.rsc:1:\d+: \(site hq-core\) error .*"dns"/);
    await writeFile(path.join(root, 'sites/hq-core/10-dns.rsc'), '/ip dns set servers=1.1.1.1\n');
    await git(root, 'add', '-A');
    expect(await commit('dns, fixed')).toMatchObject({ ok: true });
  });
});
