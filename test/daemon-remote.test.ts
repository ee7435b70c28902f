// The daemon in remote mode: a commit pushed by someone else is fetched on the next poll and
// applied; the daemon's own branch and working tree are left alone. Also: bad options exit 2.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BareRemote, TempRepo } from './helpers/git-repo.js';
import { cli, fleetFiles } from './helpers/cli.js';
import { recordPosts, sandboxEnv, useLifecycle } from './helpers/lifecycle.js';
import type { Sandbox } from '../src/sandbox/sandbox.js';
import { ensureBuilt, eventually, spawnDaemon, type DaemonProcess } from './daemon-harness.js';

const life = useLifecycle('all');
const { posts, inspect } = recordPosts();
let sandbox: Sandbox;
let remote: BareRemote;
let pusher: TempRepo;
let clone: TempRepo;
let daemon: DaemonProcess | undefined;
const env = () => sandboxEnv(sandbox);

beforeAll(async () => {
  ensureBuilt();
  sandbox = await life.sandbox({ inspectRequest: inspect });
  remote = await life.remote();
  pusher = await remote.clone();
  await pusher.commit(fleetFiles(2), 'fleet');
  await pusher.git(['push', '-q', 'origin', 'main']);
  clone = await remote.clone();
  life.defer(async () => {
    if (daemon) expect(await daemon.stop()).toBe(0);
  });
});

describe('watch --remote', () => {
  it('applies a pushed commit on the next poll, and shares the state through the remote', async () => {
    const first = await pusher.git(['rev-parse', 'HEAD']);
    daemon = spawnDaemon(['--remote', 'origin', '--interval', '1s', '--listen', '127.0.0.1:0'], { cwd: clone.dir, env: env() });
    const d = daemon;
    expect((await d.waitFor((l) => l.event === 'reconcile-finished' && l.commit === first, { what: 'the first run' })).result).toBe('succeeded');
    expect(sandbox.stats().jobsCreated).toBe(4);

    const mark = d.logs.length;
    await pusher.commit({ 'sites/site-2/10-dns.rsc': '/ip dns set servers=192.0.2.53\n' }, 'site-2: new resolver');
    await pusher.git(['push', '-q', 'origin', 'main']);
    const pushedAt = performance.now();
    const second = await pusher.git(['rev-parse', 'HEAD']);
    const post = await eventually(() => posts.find((p) => p.body.includes('192.0.2.53')), 5000, 'the POST of the pushed commit');
    const done = await d.waitFor((l) => l.event === 'reconcile-finished' && l.commit === second, { from: mark, what: 'the run of the pushed commit' });
    expect(done.result).toBe('succeeded');
    // One interval (1 s, ±10 %) plus a run.
    console.log(`remote mode: push-to-job ${Math.round(post.at - pushedAt)} ms with --interval 1s`);
    expect(post.at - pushedAt).toBeLessThan(3000);
    expect(sandbox.stats().jobsCreated).toBe(5);

    // The daemon reads refs/remotes/origin/main; the clone's own branch is not moved.
    expect(await clone.git(['rev-parse', 'main'])).toBe(first);
    expect(await clone.git(['rev-parse', 'refs/remotes/origin/main'])).toBe(second);
    // The applied state went to the remote, where CI or a laptop sees it.
    const status = await cli(['status', '--format', 'json'], { cwd: pusher.dir });
    expect(status.json<{ sites: Array<{ site: string; last_commit: string }> }>().sites.find((s) => s.site === 'site-2')!.last_commit).toBe(second);

    const metrics = await (await fetch(`${await d.url()}/metrics`)).text();
    expect(Number(/^routeros_gitops_git_fetches_total\{result="ok"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(metrics).toContain('routeros_gitops_info{mode="remote"');
  });

  it('refuses bad options with exit 2 and a message naming the option, before starting anything', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--interval', 'soon'], /--interval "soon" is not a duration/],
      [['--retry-interval', '0'], /--retry-interval "0" is not a duration/],
      [['--jitter', '150'], /--jitter "150" is not a whole number from 0 to 99/],
      [['--listen', 'localhost'], /--listen "localhost" is not host:port/],
      [['--remote', 'upstream'], /no such remote \(it has origin\)/],
      [['--branch', 'main'], /--branch needs --remote/],
      [['--ref', 'no-such-branch'], /no commit named 'no-such-branch'/],
    ];
    for (const [args, message] of cases) {
      const res = await cli(['watch', ...args], { cwd: clone.dir, env: env() });
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr, args.join(' ')).toMatch(message);
    }
    const noToken = await cli(['watch'], { cwd: clone.dir, env: { SDX_API_URL: sandbox.url } });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('SDX_API_TOKEN is not set');
  });
});
