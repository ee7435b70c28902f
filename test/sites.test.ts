// `routeros-gitops sites`, the client's listSites and the sandbox's site endpoints (issue 14):
// the SDX sites with their RouterOS version, model, online flag and last-seen time, read only.
import { describe, expect, it } from 'vitest';
import { createSdxClient } from '../src/sdx/client.js';
import { sanitizeSiteName, siteFolders } from '../src/core/site-folders.js';
import { cli } from './helpers/cli.js';
import { sandboxEnv, useLifecycle } from './helpers/lifecycle.js';
import { createSpecValidator, startRawServer } from './helpers/sandbox.js';

const life = useLifecycle();

const HQ = '3f1c2a9e-7b4d-4c8e-9a61-2d5e8f0b7c13';
const LISBON = '6d2f8a41-0c3b-4e5f-8a9d-1b2c3d4e5f60';
const OLD = '8e4b1c7d-2f6a-4b3c-9d8e-7f6a5b4c3d21';

const SITES = [
  { id: HQ, name: 'HQ core', model: 'CCR2004-1G-12S+2XS', softwareVersion: '7.20.8' },
  { id: LISBON, name: 'Branch Lisbon', model: 'RB5009UG+S+', softwareVersion: '7.19.4' },
  { id: OLD, name: 'Depot (old)', model: 'hAP ac2', softwareVersion: '7.12.1', online: false, lastSeenAt: '2025-01-02T03:04:05Z' },
];

describe('the sandbox lists its sites', () => {
  it('GET /site-minimal answers every site as the spec says; versions, models, names and online flags can be set', async () => {
    const validator = await createSpecValidator();
    const sb = await life.sandbox({ sites: SITES, autoSites: false, inspectRequest: (r) => validator.inspect(r) });
    const get = async (path: string) => {
      const res = await fetch(`${sb.url}${path}`, { headers: { authorization: `Bearer ${sb.token}` } });
      return { status: res.status, json: (await res.json()) as unknown };
    };
    const list = await get('/site-minimal');
    expect(list.status).toBe(200);
    expect(validator.checkResponse('GET', '/site-minimal', 200, list.json)).toEqual([]);
    expect(list.json).toEqual([
      expect.objectContaining({ id: HQ, name: 'HQ core', has_pulse: true, software_version: '7.20.8' }),
      expect.objectContaining({ id: LISBON, name: 'Branch Lisbon', has_pulse: true, software_version: '7.19.4' }),
      expect.objectContaining({ id: OLD, name: 'Depot (old)', has_pulse: false, software_version: '7.12.1' }),
    ]);
    const old = await get(`/sites/${OLD}`);
    expect(old.json).toMatchObject({ model: 'hAP ac2', has_pulse: false, last_seen_at: '2025-01-02T03:04:05.000Z' });

    // In-process and through the admin endpoint (a sandbox in another process).
    sb.updateSite(LISBON, { softwareVersion: '7.20.8' });
    const admin = await fetch(`${sb.url}/_sandbox/sites/${OLD}`, { method: 'POST', body: JSON.stringify({ online: true, model: 'hAP ax2', name: 'Depot' }) });
    expect(admin.status).toBe(200);
    expect(await (await fetch(`${sb.url}/_sandbox/sites/${OLD}`, { method: 'POST', body: '{"model": 3}' })).json()).toEqual({
      message: 'model must be a string',
    });
    const after = (await get('/site-minimal')).json as Array<{ id: string; software_version: string; has_pulse: boolean; name: string }>;
    expect(after.find((s) => s.id === LISBON)!.software_version).toBe('7.20.8');
    expect(after.find((s) => s.id === OLD)).toMatchObject({ has_pulse: true, name: 'Depot' });
    expect((await get(`/sites/${OLD}`)).json).toMatchObject({ model: 'hAP ax2' });
    // A reset keeps what was changed (the site's settings), as it keeps configured sites.
    sb.reset();
    expect(((await get('/site-minimal')).json as Array<{ id: string; name: string }>).find((s) => s.id === OLD)!.name).toBe('Depot');
    expect(validator.violations).toEqual([]);
  });
});

describe('the client lists the sites', () => {
  it('reads the plain array, and follows pages should the API page (never to another server)', async () => {
    const page = (n: number) => ({ id: `00000000-0000-4000-8000-00000000000${n}`, name: `s${n}`, has_pulse: n % 2 === 0, software_version: '7.16' });
    const raw = await life.sandbox(); // only for a second origin below
    const server = await startRawServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/api/site-minimal')
        return res.end(JSON.stringify({ data: [page(1), page(2)], links: { next: `${server.url}/api/site-minimal?page=2` } }));
      if (req.url === '/api/site-minimal?page=2') return res.end(JSON.stringify({ data: [page(3)], next_page_url: null }));
      if (req.url === '/bad/site-minimal') return res.end(JSON.stringify({ data: [page(1)], links: { next: `${raw.url}/site-minimal` } }));
      res.statusCode = 404;
      res.end('{}');
    });
    life.defer(() => server.close());
    const c = createSdxClient({ baseUrl: `${server.url}/api`, token: 'tok-1234567', requestsPerMinute: 0 });
    life.defer(() => c.close());
    expect((await c.listSites()).map((s) => [s.name, s.has_pulse])).toEqual([
      ['s1', false],
      ['s2', true],
      ['s3', false],
    ]);
    const bad = createSdxClient({ baseUrl: `${server.url}/bad`, token: 'tok-1234567', requestsPerMinute: 0 });
    life.defer(() => bad.close());
    await expect(bad.listSites()).rejects.toThrow(/next page is on another server/);
    expect(raw.stats().requests).toBe(0);
  });
});

describe('folder names from SDX names', () => {
  it('makes valid site names, and tells two names that make the same folder apart the same way every time', () => {
    expect(sanitizeSiteName('HQ core')).toBe('hq-core');
    expect(sanitizeSiteName('  Zürich / Büro #2 ')).toBe('zurich-buro-2');
    expect(sanitizeSiteName('___')).toBe('');
    expect(sanitizeSiteName('x'.repeat(100))).toHaveLength(63);
    const sites = [
      { id: 'bbbbbbbb-0000-4000-8000-000000000000', name: 'hq.core' },
      { id: 'aaaaaaaa-0000-4000-8000-000000000000', name: 'HQ core' },
      { id: 'cccccccc-0000-4000-8000-000000000000', name: '***' },
    ];
    const folders = siteFolders(sites);
    expect(folders.map((f) => [f.name, f.folder, f.collision?.with])).toEqual([
      ['***', 'site-cccccccc', undefined],
      ['HQ core', 'hq-core', undefined],
      ['hq.core', 'hq-core-bbbbbbbb', 'HQ core'],
    ]);
    expect(siteFolders([...sites].reverse())).toEqual(folders);
  });
});

describe('routeros-gitops sites', () => {
  it('lists name, folder, id, RouterOS version, model, online and last seen; --format json; sends no job', async () => {
    const sb = await life.sandbox({ sites: SITES, autoSites: false });
    const dir = (await life.repo()).dir;
    const text = await cli(['sites'], { cwd: dir, env: sandboxEnv(sb) });
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME +FOLDER +ID +ROUTEROS +MODEL +ONLINE +LAST SEEN$/);
    expect(lines[1]).toMatch(new RegExp(`^Branch Lisbon +branch-lisbon +${LISBON} +7\\.19\\.4 +RB5009UG\\+S\\+ +yes +\\d{4}-\\d\\d-\\d\\dT`));
    expect(lines[2]).toMatch(new RegExp(`^Depot \\(old\\) +depot-old +${OLD} +7\\.12\\.1 +hAP ac2 +no +2025-01-02T03:04:05Z \\(\\d+ days ago\\)$`));
    expect(lines[3]).toMatch(/^HQ core +hq-core +/);
    expect(text.stdout).toContain(`3 sites (2 online) at ${sb.url}`);

    const json = await cli(['sites', '--format', 'json'], { cwd: dir, env: sandboxEnv(sb) });
    expect(json.json()).toEqual({
      sdx_api_url: sb.url,
      sites: [
        {
          id: LISBON,
          name: 'Branch Lisbon',
          folder: 'branch-lisbon',
          software_version: '7.19.4',
          model: 'RB5009UG+S+',
          has_pulse: true,
          last_seen_at: expect.any(String),
        },
        {
          id: OLD,
          name: 'Depot (old)',
          folder: 'depot-old',
          software_version: '7.12.1',
          model: 'hAP ac2',
          has_pulse: false,
          last_seen_at: '2025-01-02T03:04:05.000Z',
        },
        {
          id: HQ,
          name: 'HQ core',
          folder: 'hq-core',
          software_version: '7.20.8',
          model: 'CCR2004-1G-12S+2XS',
          has_pulse: true,
          last_seen_at: expect.any(String),
        },
      ],
    });
    // --no-details: one request, no model or last-seen time.
    const before = sb.requests().length;
    const brief = await cli(['sites', '--no-details', '--format', 'json'], { cwd: dir, env: sandboxEnv(sb) });
    expect(brief.json<{ sites: Array<{ model: unknown }> }>().sites.map((s) => s.model)).toEqual([null, null, null]);
    expect(
      sb
        .requests()
        .slice(before)
        .map((r) => `${r.method} ${r.path}`),
    ).toEqual(['GET /site-minimal']);
    // Read only: GETs, never a job.
    expect(sb.requests().every((r) => r.method === 'GET')).toBe(true);
    expect(sb.stats().jobsCreated).toBe(0);
  });
});
