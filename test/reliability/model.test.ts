// A model-based test of the promise: a seeded random sequence of what a real fleet goes through
// (edits, reverts, removals, re-adds, renamed folders, changed site ids, rotated secrets, SIGKILL in
// the middle of an apply, a second clone applying an older or newer commit at the same time, jobs
// cancelled or forgotten by SDX, a sandbox restart, routers offline, injected faults), with, at every
// quiet point, three invariants checked against what the simulated routers ran:
//   1. the last body each router executed per script equals HEAD's rendering;
//   2. no intended send executed twice (no key created twice; no body run twice in a row without
//      the script having left the repository in between);
//   3. no older commit's body executed after a newer one's, for the same script.
// The seed and the step count come from RGO_MODEL_SEED and RGO_MODEL_STEPS (CI: a fixed seed, 500
// steps); `npm run test:model` runs a longer sequence with a random seed. The seed is printed.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.js';
import { startSandbox, type Sandbox, type SandboxJob } from '../../src/sandbox/sandbox.js';
import { CLI, ensureBuilt } from '../daemon-harness.js';
import { cli } from '../helpers/cli.js';
import { createBareRemote, type BareRemote, type TempRepo } from '../helpers/git-repo.js';

const SEED = process.env.RGO_MODEL_SEED === 'random' ? Date.now() % 1_000_000_000 : Number(process.env.RGO_MODEL_SEED ?? 20261130);
const STEPS = Number(process.env.RGO_MODEL_STEPS ?? 500);
const SITES = 6;
const SECRETS_KEY = 'model-test-secrets-key-0123456789';
const ID_POOL = Array.from({ length: 12 }, (_, i) => `bbbbbbbb-cccc-4ddd-8eee-${(i + 1).toString(16).padStart(12, '0')}`);
const NAME_POOL = ['hq', 'lisbon', 'porto', 'madrid', 'paris', 'rome', 'oslo', 'bern', 'riga', 'kyiv', 'lima', 'quito', 'doha', 'baku'];
const SECRET_POOL = ['pass-alpha', 'pass-bravo', 'pass-charlie'];
const DESCRIPTION = /^gitops \S+: (?:\S+\/)?([^/\s]+) @([0-9a-f]{7})$/;

interface SiteModel {
  /** Index of the site in the model (stable across renames and id changes). */
  n: number;
  name: string;
  id: string;
  /** file -> content (templates), for the scripts present now. */
  scripts: Map<string, string>;
  /** file -> contents it had, for reverts and re-adds. */
  history: Map<string, string[]>;
}

interface Execution {
  id: string;
  key: string;
  file: string;
  step: number;
  script: string;
}

interface Figures {
  steps: number;
  applies: number;
  kills: number;
  concurrent: number;
  cancelled: number;
  forgotten: number;
  restarts: number;
  faulty: number;
  offline: number;
  daemons: number;
  quietPoints: number;
  checks: number;
  violations: string[];
}

describe(`model-based: ${STEPS} random steps over ${SITES} sites (seed ${SEED})`, () => {
  let remote: BareRemote;
  let a: TempRepo;
  let b: TempRepo;
  let sb: Sandbox;
  /** Jobs of the sandbox before each restart (a restart forgets them). */
  const archived: SandboxJob[] = [];
  let posts = 0;

  beforeAll(async () => {
    ensureBuilt();
    sb = await startSandbox({
      autoSites: true,
      checkinIntervalMs: 15,
      expressDelayMs: 5,
      runMs: 3,
      inspectRequest: (r) => void (r.method === 'POST' && posts++),
    });
    remote = await createBareRemote();
  });
  afterAll(async () => {
    await sb?.close();
    await remote?.cleanup();
  });

  it('keeps the three invariants at every quiet point', { timeout: 1_800_000 }, async () => {
    const random = seededRandom(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const chance = (p: number) => random() < p;
    console.log(`model-based test: seed ${SEED}, ${STEPS} steps (RGO_MODEL_SEED=${SEED} RGO_MODEL_STEPS=${STEPS} to replay)`);
    a = await remote.clone();
    b = await remote.clone();
    const env = (extra: Record<string, string> = {}) => ({
      SDX_API_URL: sb.url,
      SDX_API_TOKEN: sb.token,
      RGO_POLL_INITIAL_MS: '10',
      RGO_POLL_MAX_MS: '40',
      RGO_RATE_LIMIT: '0',
      RGO_SECRETS_KEY: SECRETS_KEY,
      RGO_SECRET_PW: secret,
      ...extra,
    });
    let secret = SECRET_POOL[0]!;
    let counter = 0;
    const sites: SiteModel[] = [];
    const usedIds = new Set<string>();
    const usedNames = new Set<string>();
    for (let n = 0; n < SITES; n++) {
      const site: SiteModel = { n, name: NAME_POOL[n]!, id: ID_POOL[n]!, scripts: new Map(), history: new Map() };
      usedIds.add(site.id);
      usedNames.add(site.name);
      setScript(site, '00-id.rsc', '/system identity set name=${{ site.name }}\n');
      setScript(site, '10-dns.rsc', `/ip dns set servers=10.0.${n}.${counter++}\n`);
      if (n % 2 === 0) setScript(site, '20-pw.rsc', '/ppp secret set [find name=isp] password="${{ secrets.pw }}"\n');
      sites.push(site);
    }
    function setScript(site: SiteModel, file: string, content: string) {
      site.scripts.set(file, content);
      const h = site.history.get(file) ?? [];
      if (!h.includes(content)) h.push(content);
      site.history.set(file, h);
    }
    const files = (): Record<string, string> => {
      const out: Record<string, string> = {};
      for (const s of sites) {
        out[`sites/${s.name}/site.yaml`] = `id: ${s.id}\n`;
        for (const [f, c] of s.scripts) out[`sites/${s.name}/${f}`] = c;
      }
      return out;
    };
    // The commits, in order: sha -> step (for invariant 3).
    const commitStep = new Map<string, number>();
    let step = 0;
    const commit = async (message: string) => {
      await a.git(['rm', '-r', '-q', '--ignore-unmatch', 'sites']);
      const sha = await a.commit(files(), message);
      commitStep.set(sha.slice(0, 7), step);
      await a.git(['push', '-q', 'origin', 'main']);
      return sha;
    };
    await commit('the fleet');

    const fig: Figures = {
      steps: 0,
      applies: 0,
      kills: 0,
      concurrent: 0,
      cancelled: 0,
      forgotten: 0,
      restarts: 0,
      faulty: 0,
      offline: 0,
      daemons: 0,
      quietPoints: 0,
      checks: 0,
      violations: [],
    };
    const offline = new Set<string>();
    const apply = async (repo: TempRepo, extra: string[] = [], extraEnv: Record<string, string> = {}) => {
      fig.applies++;
      return cli(['apply', '--format', 'json', '--lease-timeout', '120', ...extra], { cwd: repo.dir, env: env(extraEnv) });
    };
    const timeoutArgs = () => (offline.size ? ['--timeout', '1'] : ['--timeout', '20']);

    const ops: Array<[number, string, () => Promise<void>]> = [
      [
        14,
        'edit',
        async () => {
          const s = pick(sites);
          setScript(s, '10-dns.rsc', `/ip dns set servers=10.0.${s.n}.${counter++}\n`);
          await commit(`edit ${s.name}`);
        },
      ],
      [
        6,
        'revert',
        async () => {
          const s = pick(sites);
          const h = s.history.get('10-dns.rsc') ?? [];
          if (!h.length) return;
          setScript(s, '10-dns.rsc', pick(h));
          await commit(`revert ${s.name}`);
        },
      ],
      [
        4,
        'remove',
        async () => {
          const s = pick(sites);
          const f = pick(['10-dns.rsc', '20-pw.rsc']);
          if (!s.scripts.delete(f)) return;
          await commit(`remove ${s.name}/${f}`);
        },
      ],
      [
        4,
        're-add',
        async () => {
          const s = pick(sites);
          const f = pick(['10-dns.rsc', '20-pw.rsc']);
          if (s.scripts.has(f)) return;
          const h = s.history.get(f) ?? [];
          setScript(
            s,
            f,
            h.length && chance(0.7)
              ? pick(h)
              : f === '20-pw.rsc'
                ? '/ppp secret set [find name=isp] password="${{ secrets.pw }}"\n'
                : `/ip dns set servers=10.0.${s.n}.${counter++}\n`,
          );
          await commit(`re-add ${s.name}/${f}`);
        },
      ],
      [
        3,
        'rename',
        async () => {
          const s = pick(sites);
          const free = NAME_POOL.filter((n) => !usedNames.has(n));
          const next = chance(0.5) && s.n < NAME_POOL.length && !usedNames.has(NAME_POOL[s.n]!) ? NAME_POOL[s.n]! : pick(free);
          if (!next) return;
          usedNames.delete(s.name);
          usedNames.add(next);
          s.name = next;
          await commit(`rename to ${next}`);
        },
      ],
      [
        2,
        'change id',
        async () => {
          const s = pick(sites);
          const free = ID_POOL.filter((id) => !usedIds.has(id));
          // Often back to its first id, or to a new router.
          const next = !usedIds.has(ID_POOL[s.n]!) && chance(0.5) ? ID_POOL[s.n]! : pick(free);
          if (!next) return;
          usedIds.delete(s.id);
          usedIds.add(next);
          s.id = next;
          await commit(`${s.name} is now ${next.slice(-4)}`);
        },
      ],
      [
        4,
        'rotate secret',
        async () => {
          secret = pick(SECRET_POOL.filter((v) => v !== secret));
        },
      ],
      [
        16,
        'apply',
        async () => {
          await apply(a, timeoutArgs());
        },
      ],
      [
        3,
        'apply with faults',
        async () => {
          fig.faulty++;
          sb.configure({
            faults: {
              probability: 0.15,
              seed: Math.floor(random() * 1e6),
              kinds: ['error500', 'unavailable503', 'resetBefore', 'lostAfter', 'throttle429NoRetryAfter'],
            },
          });
          try {
            await apply(a, timeoutArgs());
          } finally {
            sb.configure({ faults: undefined });
          }
        },
      ],
      [
        3,
        'router offline',
        async () => {
          const s = pick(sites);
          fig.offline++;
          if (offline.has(s.id) || chance(0.3)) {
            sb.setOnline(s.id, true);
            offline.delete(s.id);
          } else {
            sb.setOnline(s.id, false);
            offline.add(s.id);
          }
        },
      ],
      [
        3,
        'SIGKILL mid-apply',
        async () => {
          fig.kills++;
          const before = posts;
          const after = Math.floor(random() * 6);
          const child = spawn(process.execPath, [CLI, 'apply', '-C', a.dir, '--lease-timeout', '120', ...timeoutArgs()], {
            env: { ...process.env, ...env(), RGO_LOG_LEVEL: 'error' },
            stdio: 'ignore',
          });
          const exited = new Promise<void>((res) => child.on('exit', () => res()));
          const deadline = Date.now() + 4000;
          while (posts - before < after && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
          child.kill('SIGKILL');
          await exited;
        },
      ],
      [
        3,
        'concurrent apply from a second clone',
        async () => {
          fig.concurrent++;
          await b.git(['fetch', '-q', 'origin', 'main']);
          const log = (await b.git(['rev-list', '--max-count=12', 'origin/main'])).split('\n');
          const target = chance(0.5) ? log[0]! : pick(log);
          await Promise.all([apply(a, timeoutArgs()), apply(b, ['--ref', target, ...timeoutArgs()])]);
        },
      ],
      [
        3,
        'daemon following commits',
        async () => {
          // The watch daemon on clone a while commits land: its runs overlap (a newer commit's run
          // takes sites over from an older one still following its jobs). Slower routers make the
          // overlap likely; each commit gets its own order (a fraction of this step) for invariant 3.
          fig.daemons++;
          sb.configure({ runMs: 30 + Math.floor(random() * 300), checkinIntervalMs: 20 + Math.floor(random() * 150) });
          const child = spawn(process.execPath, [CLI, 'watch', '-C', a.dir, '--retry-interval', '1s'], {
            env: { ...process.env, ...env(), RGO_LOG_LEVEL: 'error' },
            stdio: 'ignore',
          });
          const exited = new Promise<void>((res) => child.on('exit', () => res()));
          const base = step;
          const commits = 2 + Math.floor(random() * 5);
          try {
            for (let i = 1; i <= commits; i++) {
              await new Promise((r) => setTimeout(r, Math.floor(random() * 400)));
              step = base + i / 10;
              const s = pick(sites);
              const h = s.history.get('10-dns.rsc') ?? [];
              setScript(s, '10-dns.rsc', h.length && chance(0.3) ? pick(h) : `/ip dns set servers=10.0.${s.n}.${counter++}\n`);
              await commit(`daemon edit ${s.name}`);
              observe();
            }
            await new Promise((r) => setTimeout(r, Math.floor(random() * 1500)));
          } finally {
            step = base;
            child.kill(chance(0.2) ? 'SIGKILL' : 'SIGTERM');
            const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
            await exited;
            clearTimeout(killer);
            sb.configure({ runMs: 3, checkinIntervalMs: 15 });
          }
        },
      ],
      [
        2,
        'job cancelled in SDX',
        async () => {
          const queued = sb.jobs().filter((j) => j.started_at === null && !j.cancelled && !j.forgotten);
          if (!queued.length) return;
          fig.cancelled++;
          sb.cancelJob(pick(queued).id);
        },
      ],
      [
        1,
        'job forgotten by SDX',
        async () => {
          const queued = sb.jobs().filter((j) => j.started_at === null && !j.cancelled && !j.forgotten);
          if (!queued.length) return;
          fig.forgotten++;
          sb.forgetJob(pick(queued).id);
        },
      ],
      [
        1,
        'SDX loses its queue',
        async () => {
          // A server that forgets: every job not started yet is gone (404, key free); what ran stays.
          fig.restarts++;
          for (const j of sb.jobs()) if (j.started_at === null && !j.cancelled && !j.forgotten) sb.forgetJob(j.id);
        },
      ],
    ];
    const total = ops.reduce((x, [w]) => x + w, 0);
    const draw = () => {
      let r = random() * total;
      for (const op of ops) {
        r -= op[0];
        if (r < 0) return op;
      }
      return ops[0]!;
    };

    const executions = (): Map<string, Execution[]> => {
      const out = new Map<string, Execution[]>();
      for (const j of [...archived, ...sb.jobs()]) {
        if (j.started_at === null) continue;
        const m = DESCRIPTION.exec(j.description);
        if (!m) throw new Error(`unreadable description ${j.description}`);
        const k = `${j.site_id.toLowerCase()}|${m[1]}`;
        const list = out.get(k) ?? [];
        list.push({ id: j.id, key: j.idempotency_key, file: m[1]!, step: commitStep.get(m[2]!) ?? -1, script: j.script });
        out.set(k, list);
      }
      return out;
    };
    const render = (s: SiteModel, content: string) => content.replace('${{ site.name }}', s.name).replace('${{ secrets.pw }}', secret);
    // What HEAD renders for every router and script over time, and the step each job was created
    // at: a router may run the same body twice in a row only if, in between, the script rendered
    // differently (or was absent) at some point, so that another send was intended.
    const renderHistory = new Map<string, Array<{ step: number; body: string | null }>>();
    const jobStep = new Map<string, number>();
    const observe = () => {
      for (const id of ID_POOL) {
        const site = sites.find((x) => x.id === id);
        for (const f of ['00-id.rsc', '10-dns.rsc', '20-pw.rsc']) {
          const c = site?.scripts.get(f);
          const body = site && c !== undefined ? render(site, c) : null;
          const k = `${id}|${f}`;
          const h = renderHistory.get(k) ?? [];
          if (!h.length || h[h.length - 1]!.body !== body) h.push({ step, body });
          renderHistory.set(k, h);
        }
      }
      for (const j of sb.jobs()) if (!jobStep.has(j.id)) jobStep.set(j.id, step);
    };

    const quiet = async () => {
      fig.quietPoints++;
      for (const id of offline) sb.setOnline(id, true);
      offline.clear();
      sb.configure({ faults: undefined });
      let last = await apply(a);
      observe();
      for (let i = 0; i < 6 && (last.code !== 0 || last.json<{ results: unknown[] }>().results.length); i++) {
        last = await apply(a);
        observe();
      }
      expect(last.code, `${last.stdout}\n${last.stderr}`).toBe(0);
      expect(last.json<{ results: unknown[] }>().results).toEqual([]);
      check();
    };
    const violation = (what: string) => {
      fig.violations.push(`step ${step}: ${what}`);
    };
    const check = () => {
      const runs = executions();
      // 1. The last body each router executed, per script, is HEAD's rendering.
      for (const s of sites) {
        for (const [f, c] of s.scripts) {
          fig.checks++;
          const list = runs.get(`${s.id}|${f}`);
          const lastBody = list?.[list.length - 1]?.script;
          if (lastBody !== render(s, c))
            violation(`${s.name} (${s.id.slice(-4)}) ${f}: the router last ran ${JSON.stringify(lastBody)}, HEAD renders ${JSON.stringify(render(s, c))}`);
        }
      }
      // 2. No intended send executed twice.
      for (const c of sb.createdCounts()) {
        fig.checks++;
        if (c.count > 1) violation(`key ${c.idempotencyKey} created ${c.count} jobs`);
      }
      for (const [k, list] of runs) {
        const keys = new Set<string>();
        for (let i = 0; i < list.length; i++) {
          fig.checks += 2;
          const e = list[i]!;
          if (keys.has(e.key)) violation(`${k}: key ${e.key} executed twice`);
          keys.add(e.key);
          const prev = list[i - 1];
          if (prev && prev.script === e.script) {
            const from = jobStep.get(prev.id) ?? 0;
            const to = jobStep.get(e.id) ?? step;
            const other = (renderHistory.get(k) ?? []).some((h) => h.step > from && h.step <= to && h.body !== e.script);
            if (!other) violation(`${k}: the same body ran twice in a row (jobs of steps ${from} and ${to}) with nothing else intended in between`);
          }
          // 3. Never an older commit's body after a newer one's.
          if (prev && e.step < prev.step) violation(`${k}: a body of step ${e.step} ran after one of step ${prev.step}`);
        }
      }
    };

    observe();
    const trace = !!process.env.RGO_MODEL_TRACE;
    for (step = 1; step <= STEPS; step++) {
      const [, name, run] = draw();
      if (trace) console.log(`step ${step}: ${name}`);
      await run();
      observe();
      fig.steps++;
      if (step % 50 === 0 || step === STEPS) await quiet();
    }
    const jobs = [...archived, ...sb.jobs()].length;
    console.log(
      `model-based test (seed ${SEED}): ${fig.steps} steps, ${fig.applies} applies, ${jobs} jobs, ${fig.kills} SIGKILLs, ${fig.concurrent} concurrent applies from a second clone, ` +
        `${fig.cancelled} jobs cancelled and ${fig.forgotten} forgotten by SDX, ${fig.restarts} queues lost by SDX, ${fig.faulty} applies with faults, ${fig.offline} routers taken offline or back, ${fig.daemons} daemons following commits, ` +
        `${fig.quietPoints} quiet points, ${fig.checks} invariant checks, ${fig.violations.length} violations`,
    );
    expect(fig.violations).toEqual([]);
  });
});
