// One apply through each entry point (the CLI in-process, the Action's committed bundle, the daemon
// as a child process) against the sandbox, with the same fleet, environment and faults. The three
// build their SDX client in one place (src/wiring/runtime.ts), so they must behave alike: the same
// client settings, the same retries and requests, the same poll settings honoured, and the same
// redaction of a token that an error carries.
//
// In front of the sandbox, a gateway answers the first job POSTs with a 500 that quotes the request's
// Authorization header (as a misconfigured proxy might) and Retry-After: 0, so that the retries are
// immediate. The sandbox's routers run on a manual clock that moves only when a job has been polled
// POLLS_TO_FINISH times: so the number of polls (and of requests) does not depend on timing, and a job
// finishes within the run's timeout only when the poll settings are honoured.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createManualClock, type Sandbox, startSandbox } from '../src/sandbox/sandbox.js';
import { checkout, pushEvent, runActionBundle } from './helpers/action-runner.js';
import { cli, fleetFiles, SITE_IDS } from './helpers/cli.js';
import { ensureBuilt, type LogLine, spawnDaemon } from './daemon-harness.js';
import { useLifecycle } from './helpers/lifecycle.js';

const TOKEN = 'sdx-Entry-Token-7c41e9b2d5';
/** The job POSTs the gateway fails: one more than the client's 8 retries, so the first change gives up. */
const GATEWAY_FAULTS = 9;
const RATE_LIMIT = 40;
const POLL_MS = 100;
/**
 * A job finishes at its 6th poll. With the poll settings honoured (every 100 ms) that is ~0.6 s in;
 * with the defaults (first poll after 3 s), or without the 100 ms ceiling (100, 200, 400, 800 ms...),
 * the 3 s timeout comes first and the job is timed_out.
 */
const POLLS_TO_FINISH = 6;
const TIMEOUT_S = 3;

const ENV = {
  SDX_API_TOKEN: TOKEN,
  RGO_RATE_LIMIT: String(RATE_LIMIT),
  RGO_POLL_INITIAL_MS: String(POLL_MS),
  RGO_POLL_MAX_MS: String(POLL_MS),
  RGO_LOG_LEVEL: 'debug',
};

interface Seen {
  method: string;
  path: string;
  key?: string;
  at: number;
  /** Answered by the gateway's fault, not by the sandbox. */
  fault: boolean;
}

interface Rig {
  url: string;
  sandbox: Sandbox;
  /** Every request, in arrival order. */
  seen: Seen[];
  close(): Promise<void>;
}

/** The sandbox (routers on a manual clock) behind the faulty gateway. */
async function startRig(): Promise<Rig> {
  const clock = createManualClock(Date.now());
  const polls = new Map<string, number>();
  const sandbox = await startSandbox({
    autoSites: true,
    token: TOKEN,
    checkinIntervalMs: 1000,
    expressDelayMs: 10,
    runMs: 10,
    clock,
    inspectRequest: (req) => {
      const job = /^\/site\/[^/]+\/job\/([^/]+)$/.exec(req.path)?.[1];
      if (req.method !== 'GET' || !job) return;
      const n = (polls.get(job) ?? 0) + 1;
      polls.set(job, n);
      // The router checks in, runs the job and reports, before this poll is answered.
      if (n === POLLS_TO_FINISH) clock.advance(60_000);
    },
  });
  const seen: Seen[] = [];
  let faults = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const key = req.headers['x-idempotency-key'] as string | undefined;
      const fault = req.method === 'POST' && /^\/site\/[^/]+\/job$/.test(path) && faults < GATEWAY_FAULTS;
      seen.push({ method: req.method!, path, key, at: performance.now(), fault });
      if (fault) {
        faults++;
        res.writeHead(500, { 'content-type': 'application/json', 'retry-after': '0' });
        res.end(
          JSON.stringify({
            type: 'api_error',
            code: 'internal_server_error',
            message: `upstream refused the request (authorization: ${req.headers.authorization})`,
          }),
        );
        return;
      }
      forward(sandbox.url, req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sandbox,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await sandbox.close();
    },
  };
}

function forward(base: string, req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
  const headers = { ...req.headers };
  delete headers.host;
  delete headers.connection;
  const up = http.request(`${base}${req.url}`, { method: req.method, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  up.on('error', () => {
    res.writeHead(502);
    res.end();
  });
  up.end(body);
}

/** What one entry did, in terms every entry shares. */
interface Observation {
  /** The debug line the runtime logs when it builds the SDX client. */
  client: { api_url: unknown; max_retries: unknown; requests_per_minute: unknown };
  /** The client's retry warnings: attempt and cause. */
  retries: string[];
  /** The requests the gateway received, job POSTs by site and idempotency key (keys numbered in order of appearance), job polls by job. */
  requests: string[];
  /** Polls of each job, in order. */
  pollsPerJob: number[];
  /** The gaps between a job's POST and its polls, and between its polls, shortest first. */
  shortestPollGapMs: number;
  summary: Record<string, number>;
  /** The number of SDX requests the entry itself reports. */
  reportedRequests: unknown;
}

function observe(rig: Rig, logs: LogLine[], summary: Record<string, number>, reportedRequests: unknown): Observation {
  const client = logs.find((l) => l.event === 'sdx-client');
  expect(client, 'the sdx-client debug line').toBeDefined();
  const apiUrl = client!.api_url === rig.url ? '(the gateway)' : client!.api_url;
  const keys = new Map<string, number>();
  const jobs = new Map<string, number>();
  const site = (p: string) => `site-${SITE_IDS.indexOf(p.split('/')[2]!) + 1}`;
  const requests = rig.seen.map((r) => {
    if (r.method === 'POST') {
      if (!keys.has(r.key!)) keys.set(r.key!, keys.size + 1);
      return `POST ${site(r.path)} key#${keys.get(r.key!)}${r.fault ? ' (fault)' : ''}`;
    }
    const job = /\/job\/([^/]+)$/.exec(r.path)?.[1];
    if (r.method === 'GET' && job) {
      if (!jobs.has(job)) jobs.set(job, jobs.size + 1);
      return `GET ${site(r.path)} job#${jobs.get(job)}`;
    }
    return `${r.method} ${r.path}`;
  });
  // Gaps: before each poll, from the job's POST or its previous poll.
  const jobOf = (r: Seen) => (r.method === 'GET' ? /\/job\/([^/]+)$/.exec(r.path)?.[1] : undefined);
  const gaps = rig.seen.flatMap((r, i) => {
    const before = rig.seen[i - 1];
    const job = jobOf(r);
    if (!job || !before) return [];
    return (before.method === 'POST' && !before.fault) || jobOf(before) === job ? [r.at - before.at] : [];
  });
  return {
    client: { api_url: apiUrl, max_retries: client!.max_retries, requests_per_minute: client!.requests_per_minute },
    retries: logs.filter((l) => l.msg === 'sdx request failed; retrying').map((l) => `attempt ${String(l.attempt)} ${String(l.cause)}`),
    requests,
    pollsPerJob: [...jobs.keys()].map((j) => rig.seen.filter((r) => r.method === 'GET' && r.path.endsWith(`/job/${j}`)).length),
    shortestPollGapMs: Math.min(...gaps),
    summary: Object.fromEntries(Object.entries(summary).filter(([, n]) => n > 0)),
    reportedRequests,
  };
}

/** The Action's log lines ("message  key=value ...", debug lines as ::debug::) as LogLines. */
function actionLogLines(stdout: string): LogLine[] {
  const out: LogLine[] = [];
  for (const raw of stdout.split('\n')) {
    const line = raw.replace(/^::debug::/, '').replace(/^warning: /, '');
    const m = /^(.*?) {2}(\w+=.*)$/.exec(line);
    if (!m) continue;
    const fields: LogLine = { msg: m[1] };
    for (const f of m[2]!.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
      const v = f[2]!;
      fields[f[1]!] = v.startsWith('"') ? JSON.parse(v) : /^\d+$/.test(v) ? Number(v) : v;
    }
    out.push(fields);
  }
  return out;
}

const ndjson = (text: string): LogLine[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

describe('the CLI, the Action and the daemon build the same runtime', () => {
  const life = useLifecycle();

  it('apply: the same SDX client, retries, requests, poll settings and redaction from every entry', async () => {
    ensureBuilt();
    const files = fleetFiles(2);
    const outputs: Record<string, string> = {};
    const seen: Record<string, Observation> = {};

    // The CLI, in-process.
    {
      const rig = await startRig();
      life.defer(() => rig.close());
      const r = await life.repo(files);
      const run = await cli(['apply', '--format', 'json', '--concurrency', '1', '--timeout', String(TIMEOUT_S)], {
        cwd: r.dir,
        env: { ...ENV, SDX_API_URL: rig.url },
      });
      expect(run.code, run.stderr).toBe(1);
      const json = run.json<{ summary: Record<string, number>; requests: number }>();
      outputs.cli = run.stdout + run.stderr;
      seen.cli = observe(rig, ndjson(run.stderr), json.summary, json.requests);
    }

    // The Action's bundle, on a push to main.
    {
      const rig = await startRig();
      life.defer(() => rig.close());
      const remote = await life.remote();
      const work = await remote.clone();
      const sha = await work.commit(files, 'fleet');
      await work.git(['push', '-q', 'origin', 'main']);
      const ws = await checkout(remote, sha, life.defer);
      const run = await runActionBundle({
        workspace: ws,
        event: 'push',
        payload: pushEvent('0'.repeat(40), sha),
        sha,
        inputs: { command: 'apply', 'sdx-api-token': TOKEN, concurrency: '1', timeout: String(TIMEOUT_S), statuses: 'false' },
        env: { ...ENV, SDX_API_URL: rig.url },
        defer: life.defer,
      });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      const report = JSON.parse(await readFile(run.outputs['report-json']!, 'utf8')) as { summary: Record<string, number>; requests: number };
      outputs.action = await run.everything();
      seen.action = observe(rig, actionLogLines(run.stdout), report.summary, report.requests);
    }

    // The daemon, as a child process following the repository's branch; one run, then SIGTERM.
    {
      const rig = await startRig();
      life.defer(() => rig.close());
      const r = await life.repo(files);
      const d = spawnDaemon(['--concurrency', '1', '--timeout', String(TIMEOUT_S), '--interval', '1h', '--retry-interval', '1h'], {
        cwd: r.dir,
        env: { ...ENV, SDX_API_URL: rig.url },
      });
      life.defer(() => d.stop());
      const finished = await d.waitFor((l) => l.event === 'reconcile-finished', { timeoutMs: 30_000, what: 'the first run' });
      expect(await d.stop()).toBe(0);
      outputs.daemon = [...d.logs.map((l) => JSON.stringify(l)), ...d.text].join('\n');
      seen.daemon = observe(rig, d.logs, finished.summary as Record<string, number>, finished.requests);
    }

    if (process.env.SHOW_ENTRIES) console.log(JSON.stringify(seen, null, 1));
    // What every entry must show.
    const expected: Observation = {
      client: { api_url: '(the gateway)', max_retries: 8, requests_per_minute: RATE_LIMIT },
      retries: Array.from({ length: 8 }, (_, i) => `attempt ${i + 1} http_500`),
      requests: [
        // The SDX check before anything is sent; its answer also gives the RouterOS versions (issue 16).
        'GET /site-minimal',
        ...Array.from({ length: GATEWAY_FAULTS }, () => 'POST site-1 key#1 (fault)'),
        'POST site-2 key#2',
        ...Array.from({ length: POLLS_TO_FINISH }, () => 'GET site-2 job#1'),
        'POST site-2 key#3',
        ...Array.from({ length: POLLS_TO_FINISH }, () => 'GET site-2 job#2'),
      ],
      pollsPerJob: [POLLS_TO_FINISH, POLLS_TO_FINISH],
      shortestPollGapMs: expect.any(Number),
      summary: { succeeded: 2, failed: 1, blocked: 1 },
      reportedRequests: GATEWAY_FAULTS + 2 * (1 + POLLS_TO_FINISH),
    };
    for (const entry of ['cli', 'action', 'daemon']) {
      expect(seen[entry], entry).toEqual(expected);
      // Never sooner than RGO_POLL_INITIAL_MS after the job's POST, nor RGO_POLL_MAX_MS... apart (timers may fire a millisecond early).
      expect(seen[entry]!.shortestPollGapMs, entry).toBeGreaterThanOrEqual(POLL_MS - 2);
      // The gateway's message carried the token: every entry shows it only as ***.
      expect(outputs[entry]!.includes(TOKEN), `${entry} shows the token`).toBe(false);
      expect(outputs[entry], entry).toContain('authorization: Bearer ***');
    }
  }, 90_000);
});
