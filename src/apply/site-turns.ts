// Overlapping runs in one process (the daemon applying a new commit while an earlier run still
// follows its jobs): which run may write to each site. A newer run takes a site's turn from the
// older one; the older one hands it over at once, or, when it is in the middle of a write to that
// site (a POST or a DELETE on the wire), as soon as that write ends. From then on the older run
// sends nothing more to the site (its unsent changes are the newer run's: their intents are in the
// state the newer run planned from, and their keys are deterministic), but it goes on following
// the jobs it created, and records and reports their outcomes on its own commit.
//
// Runs of different processes never overlap: the lease keeps them apart. This is only the order
// of writes inside one process, so that per site a job of older content is never created after
// one of newer content.

/** One run's hold on one site. */
export interface SiteTurn {
  /** The run (a commit, shortened) that took the site over, or null while this run holds it. */
  readonly handedTo: string | null;
  /** Run `write` (one POST or DELETE to the site): the site is not handed over in the middle of it. */
  write<T>(write: () => Promise<T>): Promise<T>;
  /** This run will write to the site no more (its lane ended): a newer run need not wait. */
  done(): void;
}

class Turn implements SiteTurn {
  handedTo: string | null = null;
  /** The order in which the runs began: a run never takes a site from a newer one. */
  constructor(
    readonly run: number,
    readonly label: string,
  ) {
    this.freed = new Promise((resolve) => (this.free = resolve));
  }
  private writes = 0;
  private finished = false;
  private readonly freed: Promise<void>;
  private free!: () => void;

  async write<T>(write: () => Promise<T>): Promise<T> {
    this.writes++;
    try {
      return await write();
    } finally {
      this.writes--;
      this.settle();
    }
  }

  done(): void {
    this.finished = true;
    this.settle();
  }

  /** The run this turn was taken from has no write on the wire any more. */
  after: Promise<void> = Promise.resolve();

  /** Hand the site over to `by`; resolves once no write of this run (nor of the one it took over from) is on the wire. */
  handOver(by: string): Promise<void> {
    this.handedTo ??= by;
    this.settle();
    return Promise.all([this.after, this.freed]).then(() => {});
  }

  private settle(): void {
    if (this.finished || (this.handedTo !== null && this.writes === 0)) this.free();
  }
}

/** One run's view of the turns. */
export interface RunTurns {
  /** This run (its commit, shortened). */
  readonly label: string;
  take(siteId: string): Promise<SiteTurn>;
  noteSuperseded(jobId: string): void;
  supersededBy(jobId: string): string | undefined;
}

export class SiteTurns {
  private readonly turns = new Map<string, Turn>();
  private runs = 0;
  /** Jobs a run of this process cancelled to send newer content: job id -> that run. */
  private readonly superseded = new Map<string, string>();

  /** A new run (runs are ordered by when they begin: call this when the run begins). */
  begin(label: string): RunTurns {
    const run = ++this.runs;
    return {
      label,
      take: (siteId) => this.take(siteId, run, label),
      noteSuperseded: (jobId) => this.noteSuperseded(jobId, label),
      supersededBy: (jobId) => this.supersededBy(jobId),
    };
  }

  /**
   * Take `siteId`'s turn for run `run`: an older run holding it hands it over (after its write on
   * the wire, if any). When a newer run already holds it, the turn comes back handed over to that
   * run: an older run never writes after a newer one.
   */
  private async take(siteId: string, run: number, label: string): Promise<SiteTurn> {
    const mine = new Turn(run, label);
    const previous = this.turns.get(siteId);
    if (previous && previous.run > run) {
      void mine.handOver(previous.label);
      return mine;
    }
    this.turns.set(siteId, mine);
    if (previous) {
      mine.after = previous.handOver(label);
      await mine.after;
    }
    return mine;
  }

  /** Note that run `by` cancelled `jobId` to send newer content (its follower then knows why it was cancelled). */
  private noteSuperseded(jobId: string, by: string): void {
    this.superseded.set(jobId, by);
    // Bounded: only the jobs followed while runs overlap matter.
    if (this.superseded.size > 10_000) this.superseded.delete(this.superseded.keys().next().value!);
  }

  /** The run that cancelled `jobId` to send newer content, if a run of this process did. */
  private supersededBy(jobId: string): string | undefined {
    return this.superseded.get(jobId);
  }
}
