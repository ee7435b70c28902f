// What a step hands back to main.ts: the Action's outputs, and whether the step failed.
export interface StepOutcome {
  /** Changes in the plan (added, modified, removed). */
  changes: number;
  /** Jobs the plan sends (or sent). */
  toSend: number;
  failedSites: string[];
  pendingSites: string[];
  /** Path of the full Markdown report, and of the JSON one. */
  report: string;
  reportJson: string;
  commentUrl: string | null;
  /** Set when the step must fail: the message. */
  failure: string | null;
}

/** Outputs as action.yml declares them. */
export function outputsOf(o: StepOutcome): Record<string, string> {
  return {
    changes: String(o.changes),
    'to-send': String(o.toSend),
    'failed-sites': o.failedSites.join(','),
    'pending-sites': o.pendingSites.join(','),
    report: o.report,
    'report-json': o.reportJson,
    'comment-url': o.commentUrl ?? '',
  };
}
