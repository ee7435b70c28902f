// The daemon's counters and gauges, and their Prometheus text exposition (format 0.0.4). Small on
// purpose: a few families with fixed label sets, no client library.
import type { ApplyEvent, Outcome } from '../core/outcome.js';
import type { SdxClient, SdxStats } from '../core/jobs.js';

/** How one reconcile ended (the `result` label of routeros_gitops_reconciles_total). */
export type RunResult = 'succeeded' | 'failed' | 'pending' | 'invalid' | 'error' | 'interrupted';

export const RUN_RESULTS: readonly RunResult[] = ['succeeded', 'failed', 'pending', 'invalid', 'error', 'interrupted'];
const OUTCOMES: readonly Outcome[] = ['succeeded', 'failed', 'timed_out', 'queued', 'lost', 'cancelled', 'blocked', 'skipped', 'stale'];

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'summary';
  samples: Array<{ suffix?: string; labels?: Labels; value: number }>;
}

export class DaemonMetrics {
  private readonly reconciles = new Map<RunResult, number>(RUN_RESULTS.map((r) => [r, 0]));
  private readonly jobs = new Map<string, number>(OUTCOMES.map((o) => [o, 0]));
  private readonly jobsCreated = { new: 0, reused: 0 };
  private readonly fetches = { ok: 0, error: 0 };
  private durationSum = 0;
  private durationCount = 0;
  /** SDX stats of clients that were closed, summed. */
  private readonly sdxDone: SdxStats = { requests: 0, retries: 0, byStatus: {}, retriesByCause: {} };
  /** Clients of the run in progress: read live at each scrape. */
  private readonly sdxLive = new Set<SdxClient>();

  ready = false;
  /** Runs in progress (they overlap while an older one follows its jobs). */
  private runs = 0;

  get reconciling(): boolean {
    return this.runs > 0;
  }

  reconcileBegins(): void {
    this.runs++;
  }

  reconcileEnds(): void {
    this.runs = Math.max(0, this.runs - 1);
  }
  pendingJobs = 0;
  /** Committer time (epoch seconds) of the last commit whose reconcile succeeded. */
  lastAppliedCommitTime: number | null = null;
  /** End time (epoch seconds) of the last reconcile, whatever its result. */
  lastReconcileTime: number | null = null;

  constructor(private readonly info: Labels) {}

  /** An ApplyEvent sink: jobs by outcome and jobs created. */
  readonly onEvent = (e: ApplyEvent): void => {
    if (e.type === 'result') this.jobs.set(e.result.outcome, (this.jobs.get(e.result.outcome) ?? 0) + 1);
    if (e.type === 'job-created') this.jobsCreated[e.reused ? 'reused' : 'new']++;
  };

  recordReconcile(result: RunResult, durationMs: number, endedAt: Date): void {
    this.reconciles.set(result, (this.reconciles.get(result) ?? 0) + 1);
    this.durationSum += durationMs / 1000;
    this.durationCount++;
    this.lastReconcileTime = endedAt.getTime() / 1000;
  }

  recordFetch(ok: boolean): void {
    this.fetches[ok ? 'ok' : 'error']++;
  }

  /** Count a client's requests: live while it is open, summed in once it is closed. */
  trackClient(client: SdxClient): SdxClient {
    this.sdxLive.add(client);
    return {
      createJob: (r) => client.createJob(r),
      listJobs: (s) => client.listJobs(s),
      getJob: (s, j) => client.getJob(s, j),
      cancelJob: (s, j) => client.cancelJob(s, j),
      getSite: (s) => client.getSite(s),
      listSites: () => client.listSites(),
      checkAccess: () => client.checkAccess(),
      stats: () => client.stats(),
      close: async () => {
        if (this.sdxLive.delete(client)) addStats(this.sdxDone, client.stats());
        await client.close();
      },
    };
  }

  reconcileCount(result: RunResult): number {
    return this.reconciles.get(result) ?? 0;
  }

  /** The Prometheus text exposition of every family. */
  render(): string {
    const sdx: SdxStats = { requests: 0, retries: 0, byStatus: {}, retriesByCause: {} };
    addStats(sdx, this.sdxDone);
    for (const c of this.sdxLive) addStats(sdx, c.stats());
    return [...this.runFamilies(), ...this.jobFamilies(), ...sdxFamilies(sdx), ...this.gitAndTimeFamilies()].map(renderFamily).join('');
  }

  private runFamilies(): Family[] {
    return [
      { name: 'routeros_gitops_info', help: 'Version and mode of this daemon (always 1).', type: 'gauge', samples: [{ labels: this.info, value: 1 }] },
      { name: 'routeros_gitops_ready', help: '1 when the daemon is ready (see /healthz), else 0.', type: 'gauge', samples: [{ value: this.ready ? 1 : 0 }] },
      { name: 'routeros_gitops_reconciling', help: '1 while a reconcile runs.', type: 'gauge', samples: [{ value: this.reconciling ? 1 : 0 }] },
      {
        name: 'routeros_gitops_reconciles_total',
        help: 'Reconciles, by result (succeeded, failed, pending, invalid, error, interrupted).',
        type: 'counter',
        samples: [...this.reconciles].map(([result, value]) => ({ labels: { result }, value })),
      },
      {
        name: 'routeros_gitops_reconcile_duration_seconds',
        help: 'Time spent in reconciles.',
        type: 'summary',
        samples: [
          { suffix: '_sum', value: round(this.durationSum) },
          { suffix: '_count', value: this.durationCount },
        ],
      },
    ];
  }

  private jobFamilies(): Family[] {
    return [
      {
        name: 'routeros_gitops_jobs_total',
        help: 'Changes reconciled, by outcome (succeeded, failed, timed_out, queued, lost, cancelled, blocked, skipped, stale).',
        type: 'counter',
        samples: [...this.jobs].map(([outcome, value]) => ({ labels: { outcome }, value })),
      },
      {
        name: 'routeros_gitops_jobs_created_total',
        help: 'SDX jobs created (reused="true": an existing job was found by its idempotency key or followed).',
        type: 'counter',
        samples: [
          { labels: { reused: 'false' }, value: this.jobsCreated.new },
          { labels: { reused: 'true' }, value: this.jobsCreated.reused },
        ],
      },
      {
        name: 'routeros_gitops_pending_jobs',
        help: 'Jobs whose outcome is not known yet (queued or running) after the last reconcile.',
        type: 'gauge',
        samples: [{ value: this.pendingJobs }],
      },
    ];
  }

  private gitAndTimeFamilies(): Family[] {
    return [
      {
        name: 'routeros_gitops_git_fetches_total',
        help: 'git fetches of the followed remote (remote mode), by result.',
        type: 'counter',
        samples: [
          { labels: { result: 'ok' }, value: this.fetches.ok },
          { labels: { result: 'error' }, value: this.fetches.error },
        ],
      },
      {
        name: 'routeros_gitops_last_applied_commit_timestamp_seconds',
        help: 'Committer time of the last commit whose reconcile succeeded.',
        type: 'gauge',
        samples: this.lastAppliedCommitTime === null ? [] : [{ value: this.lastAppliedCommitTime }],
      },
      {
        name: 'routeros_gitops_last_reconcile_timestamp_seconds',
        help: 'When the last reconcile ended, whatever its result.',
        type: 'gauge',
        samples: this.lastReconcileTime === null ? [] : [{ value: round(this.lastReconcileTime) }],
      },
    ];
  }
}

/** The SDX client families, from the summed stats of every client. */
function sdxFamilies(sdx: SdxStats): Family[] {
  const byStatus = Object.entries(sdx.byStatus).sort(([a], [b]) => (a < b ? -1 : 1));
  return [
    {
      name: 'routeros_gitops_sdx_requests_total',
      help: 'SDX API requests (retries included), by HTTP status ("network" when no answer came).',
      type: 'counter',
      samples: byStatus.map(([status, value]) => ({ labels: { status }, value })),
    },
    {
      name: 'routeros_gitops_sdx_request_errors_total',
      help: 'SDX API requests answered with 4xx or 5xx, or lost to a network error, by status.',
      type: 'counter',
      samples: byStatus.filter(([status]) => status === 'network' || Number(status) >= 400).map(([status, value]) => ({ labels: { status }, value })),
    },
    {
      name: 'routeros_gitops_sdx_retries_total',
      help: 'SDX API requests retried, by cause.',
      type: 'counter',
      samples: Object.entries(sdx.retriesByCause).map(([cause, value]) => ({ labels: { cause }, value })),
    },
  ];
}

function renderFamily(f: Family): string {
  let out = `# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${f.name} ${f.type}\n`;
  for (const s of f.samples) out += `${f.name}${s.suffix ?? ''}${renderLabels(s.labels)} ${s.value}\n`;
  return out;
}

function renderLabels(labels: Labels | undefined): string {
  if (!labels || !Object.keys(labels).length) return '';
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  return `{${parts.join(',')}}`;
}

function addStats(into: SdxStats, s: SdxStats): void {
  into.requests += s.requests;
  into.retries += s.retries;
  for (const [k, v] of Object.entries(s.byStatus)) into.byStatus[k] = (into.byStatus[k] ?? 0) + v;
  for (const [k, v] of Object.entries(s.retriesByCause)) into.retriesByCause[k] = (into.retriesByCause[k] ?? 0) + v;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
