// With GITHUB_TOKEN and GITHUB_REPOSITORY set, the daemon writes each run's outcomes as commit
// statuses on the commits they belong to (a GitHub double over loopback records them).
import { beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TempRepo } from './helpers/git-repo.js';
import { fleetFiles } from './helpers/cli.js';
import { sandboxEnv, useLifecycle } from './helpers/lifecycle.js';
import type { Sandbox } from '../src/sandbox/sandbox.js';
import { ensureBuilt, spawnDaemon, type DaemonProcess } from './daemon-harness.js';

interface Posted {
  sha: string;
  state: string;
  context: string;
  description: string;
  auth: string;
}

const life = useLifecycle('all');
let sandbox: Sandbox;
let repo: TempRepo;
let daemon: DaemonProcess;
let github: http.Server;
const posted: Posted[] = [];

beforeAll(async () => {
  ensureBuilt();
  sandbox = await life.sandbox();
  github = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const status = /^\/repos\/acme\/net\/commits\/([0-9a-f]+)\/status/.exec(req.url ?? '');
      const post = /^\/repos\/acme\/net\/statuses\/([0-9a-f]+)$/.exec(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && status) return res.end(JSON.stringify({ state: 'pending', sha: status[1], total_count: 0, statuses: [] }));
      if (req.method === 'POST' && post) {
        const b = JSON.parse(body) as Omit<Posted, 'sha' | 'auth'>;
        posted.push({ sha: post[1]!, state: b.state, context: b.context, description: b.description, auth: String(req.headers.authorization) });
        res.statusCode = 201;
        return res.end(JSON.stringify({ id: posted.length, ...b }));
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ message: 'Not Found' }));
    });
  });
  await new Promise<void>((r) => github.listen(0, '127.0.0.1', r));
  life.defer(() => new Promise((r) => github.close(r)));
  repo = await life.repo(fleetFiles(1));
  life.defer(async () => {
    if (daemon) expect(await daemon.stop()).toBe(0);
  });
  daemon = spawnDaemon([], {
    cwd: repo.dir,
    env: sandboxEnv(sandbox, {
      GITHUB_TOKEN: 'ghs_daemonTestToken123',
      GITHUB_REPOSITORY: 'acme/net',
      GITHUB_API_URL: `http://127.0.0.1:${(github.address() as AddressInfo).port}`,
    }),
  });
});

const final = (sha: string) => {
  const last = new Map<string, string>();
  for (const p of posted.filter((x) => x.sha === sha)) last.set(p.context, p.state);
  return Object.fromEntries(last);
};

describe('watch with GitHub commit statuses', () => {
  it('writes pending, then the outcome, per site and for the fleet, on the commit each run applied', async () => {
    const first = await repo.git(['rev-parse', 'HEAD']);
    await daemon.waitFor((l) => l.event === 'statuses' && l.commit === first, { timeoutMs: 15_000, what: 'the statuses of the first run' });
    expect(posted.filter((p) => p.sha === first).map((p) => [p.context, p.state])).toContainEqual(['routeros-gitops', 'pending']);
    expect(final(first)).toEqual({ 'routeros-gitops': 'success', 'routeros-gitops/site-1': 'success' });

    const mark = daemon.logs.length;
    await repo.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers=broken\n:error "sandbox-fail"\n' }, 'a script the router rejects');
    const second = await repo.git(['rev-parse', 'HEAD']);
    await daemon.waitFor((l) => l.event === 'statuses' && l.commit === second, { from: mark, timeoutMs: 15_000, what: 'the statuses of the second run' });
    expect(final(second)).toEqual({ 'routeros-gitops': 'failure', 'routeros-gitops/site-1': 'failure' });
    expect(final(first)).toEqual({ 'routeros-gitops': 'success', 'routeros-gitops/site-1': 'success' });

    expect(posted.every((p) => p.auth.includes('ghs_daemonTestToken123'))).toBe(true);
    expect(JSON.stringify(daemon.logs) + daemon.text.join('\n')).not.toContain('ghs_daemonTestToken123');
  });
});
