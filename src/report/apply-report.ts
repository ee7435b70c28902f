// Renderings of an apply: JSON for tools (product.md: `results` with job_id and outcome), a table
// per site for people, Markdown for step summaries.
import { MappedList } from './mapped-list.js';
import type { ApplyResult, ChangeResult } from '../core/outcome.js';
import { formatProblem, type Problem } from '../core/errors.js';
import { changeToJson, escapeMd } from './plan-report.js';
import { plainStyle, type Style } from './style.js';

export function resultToJson(r: ChangeResult): Record<string, unknown> {
  return {
    ...changeToJson(r.change),
    job_id: r.job_id,
    outcome: r.outcome,
    log_url: r.log_url,
    reason: r.reason,
    reused: r.reused,
    finished_at: r.finished_at,
    part: r.part ? { part: r.part.index + 1, of: r.part.count } : undefined,
  };
}

export function applyToJson(a: ApplyResult, warnings: Problem[] = []): object {
  return {
    ref: a.plan.ref,
    commit: a.plan.commit.sha,
    subject: a.plan.commit.subject,
    summary: a.summary,
    exit_code: a.exitCode,
    interrupted: a.interrupted,
    requests: a.requests,
    retries: a.retries,
    results: new MappedList(a.results, resultToJson),
    warnings: warnings.map((w) => ({ ...w })),
  };
}

export function summaryText(a: ApplyResult): string {
  const s = a.summary;
  if (!a.results.length) return `No changes: nothing was sent (${a.plan.summary.sites} sites up to date).`;
  const parts = Object.entries(s)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k.replace('_', ' ')}`);
  const retried = Object.values(a.retries).reduce((x, y) => x + y, 0);
  return `Apply at ${a.plan.commit.sha.slice(0, 7)}: ${parts.join(', ')}. ${a.requests} SDX requests${
    retried
      ? `, ${retried} retried (${Object.entries(a.retries)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`
      : ''
  }.${a.interrupted ? ' The run was stopped early.' : ''}`;
}

export function colourOutcome(o: string, style: Style): string {
  const label = o.padEnd(9);
  if (o === 'succeeded') return style.green(label);
  if (o === 'failed' || o === 'blocked' || o === 'timed_out') return style.red(label);
  return style.yellow(label);
}

export function applyToText(a: ApplyResult, warnings: Problem[] = [], style: Style = plainStyle): string {
  const out: string[] = [];
  const bySite = new Map<string, ChangeResult[]>();
  for (const r of a.results) {
    if (!bySite.has(r.change.site)) bySite.set(r.change.site, []);
    bySite.get(r.change.site)!.push(r);
  }
  const width = Math.min(70, Math.max(20, ...a.results.map((r) => r.change.path.length)));
  for (const [site, rows] of bySite) {
    out.push(`${style.bold(site)} ${style.dim(rows[0]!.change.site_id)}`);
    for (const r of rows) {
      out.push(`  ${colourOutcome(r.outcome, style)} ${r.change.path.padEnd(width)}  ${r.job_id ? style.dim(`job ${r.job_id}`) : ''}`);
      if (r.reason && r.outcome !== 'succeeded') out.push(style.dim(`      ${r.reason}`));
      if (r.log_url && r.outcome === 'failed') out.push(style.dim(`      log: ${r.log_url}`));
    }
  }
  if (out.length) out.push('');
  for (const w of warnings) out.push(style.yellow('warning: ') + formatProblem(w));
  out.push(summaryText(a));
  return `${out.join('\n')}\n`;
}

export function applyToMarkdown(a: ApplyResult, marker?: string): string {
  const out: string[] = [];
  if (marker) out.push(marker);
  out.push(`### routeros-gitops apply at \`${a.plan.commit.sha.slice(0, 7)}\``, '', summaryText(a), '');
  if (a.results.length) {
    out.push('| site | script | outcome | job |', '|---|---|---|---|');
    for (const r of a.results) {
      const job = r.job_id ? (r.log_url ? `[${r.job_id.slice(0, 8)}](${r.log_url})` : r.job_id.slice(0, 8)) : '';
      out.push(
        `| ${escapeMd(r.change.site)} | \`${r.change.path}\` | ${r.outcome}${r.reason && r.outcome !== 'succeeded' ? `: ${escapeMd(r.reason)}` : ''} | ${job} |`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}
