// Renderings of a plan: a table per site for people, JSON for tools (the stable interface of
// product.md), Markdown for pull requests. Pure: data in, text out.
import { MappedList } from './mapped-list.js';
import type { Plan, PlannedChange } from '../core/plan.js';
import type { SiteRouterOs } from '../core/routeros-target.js';
import { NEWEST_CHECKED_VERSION } from '../core/routeros-target.js';
import type { Problem } from '../core/errors.js';
import { formatProblem } from '../core/errors.js';
import { plainStyle, type Style } from './style.js';
import { judgePlan, type PlanVerdict } from '../core/verdict.js';
import { acknowledgeHow, blockedNote, compactDiff, entrySites, lockoutBlockText, lockoutEntries, uncommittedNote, verdictTail } from './plan-verdict.js';

const SIGN: Record<string, string> = { added: '+', modified: '~', removed: '-' };

/** Where an apply of this plan would send its jobs: the operator's SDX API URL (no credentials) and where it was set. */
export interface PlanTarget {
  url: string;
  source: string;
}

/** What `plan` adds besides the plan: apply's verdict on it, and the files it did not read. */
export interface PlanExtras {
  /** What apply would do (default: judgePlan with apply's defaults). */
  verdict?: PlanVerdict;
  /** Files under the sites directory that differ from the commit (the working tree). */
  uncommitted?: readonly string[];
}

/** The JSON object `plan --format json` prints. */
export function planToJson(plan: Plan, warnings: Problem[] = [], target?: PlanTarget, extras: PlanExtras = {}): object {
  const v = extras.verdict ?? judgePlan(plan);
  return {
    ...(target ? { sdx_api_url: target.url } : {}),
    ref: plan.ref,
    commit: plan.commit.sha,
    subject: plan.commit.subject,
    sites_dir: plan.sites_dir,
    summary: plan.summary,
    sites: plan.sites.map((s) => ({
      site: s.site,
      site_id: s.site_id,
      status: s.status,
      reason: s.reason,
      last_commit: s.last_commit,
      renamed_from: s.renamed_from,
      removed: s.removed,
      changes: s.changes.length,
      routeros: s.routeros,
    })),
    // Issue 14: what apply would do with this plan, each change's part of it, and the lockout risks.
    apply: { refused: v.refused, exit_code: v.exitCode, to_send: v.toSend, blocked: v.blocked.size },
    lockouts: lockoutEntries(v).map((e) => ({ sites: e.sites, path: e.path, line: e.line, column: e.column, rule: e.rule, message: e.message })),
    ...(plan.only ? { only: plan.only } : {}),
    ...(extras.uncommitted ? { uncommitted: extras.uncommitted } : {}),
    changes: new MappedList(plan.changes, (c) => ({ ...changeToJson(c), blocked_by: v.blocked.get(c) ?? null })),
    moves: plan.moves,
    missing_history: plan.missing_history,
    warnings: warnings.map((w) => ({ ...w })),
  };
}

export function changeToJson(c: PlannedChange): Record<string, unknown> {
  return {
    site: c.site,
    site_id: c.site_id,
    path: c.path,
    kind: c.kind,
    action: c.action,
    idempotency_key: c.idempotency_key,
    description: c.description,
    fingerprint: c.fingerprint,
    previous_fingerprint: c.previous_fingerprint,
    commit: c.commit,
    file: c.file,
    previous_path: c.previous_path,
    generation: c.generation,
    parts: c.parts ? c.parts.map((p) => ({ part: p.index + 1, size: p.size, idempotency_key: p.key, lines: p.lines })) : null,
    from_part: c.parts ? c.from_part + 1 : undefined,
    job_id: c.job_id,
    supersedes: c.supersedes,
    group: c.group,
    secrets: c.secrets,
    secrets_missing: c.secrets_missing,
    findings: c.findings,
  };
}

/** Changes of one shared script, grouped: `sites/_groups/branch/20-firewall.rsc -> 48 sites`. */
export function sharedGroups(plan: Plan): Array<{ path: string; kind: string; sites: string[] }> {
  const groups = new Map<string, { path: string; kind: string; sites: string[] }>();
  for (const c of plan.changes) {
    if (!c.group || c.action === 'stale') continue;
    const k = `${c.kind}\0${c.path}`;
    if (!groups.has(k)) groups.set(k, { path: c.path, kind: c.kind, sites: [] });
    groups.get(k)!.sites.push(c.site);
  }
  return [...groups.values()];
}

function actionNote(c: PlannedChange): string {
  const note = actionWords(c);
  if (!c.parts || (c.action !== 'create' && c.action !== 'follow')) return note;
  const n = c.parts.length;
  const parts = c.from_part > 0 ? `sent as ${n} jobs, resuming at part ${c.from_part + 1}/${n}` : `sent as ${n} jobs`;
  return note ? `${parts}; ${note}` : parts;
}

function actionWords(c: PlannedChange): string {
  switch (c.action) {
    case 'follow':
      return `follow job ${c.job_id} (created by an earlier run)`;
    case 'skip-failed':
      return 'failed before with this content; not sent again (use --retry-failed)';
    case 'stale':
      return 'not sent (site is stale)';
    case 'none':
      return c.supersedes ? 'no job is sent; its pending job is cancelled' : 'no job is sent for a removed script';
    default:
      return c.supersedes ? `replaces pending job ${c.supersedes.job_id ?? c.supersedes.key}` : '';
  }
}

/** How the text plan is shown. */
export interface TextPlanOptions extends PlanExtras {
  /** Unified diffs by `${site_id}\0${path}` (core/diff.ts), shown compact under each change. */
  diffs?: ReadonlyMap<string, string>;
  /** Show each change's idempotency key (labelled). Default false. */
  verbose?: boolean;
}

export function planToText(plan: Plan, warnings: Problem[] = [], style: Style = plainStyle, target?: PlanTarget, opts: TextPlanOptions = {}): string {
  const v = opts.verdict ?? judgePlan(plan);
  const out: string[] = [];
  const sha = plan.commit.sha.slice(0, 7);
  out.push(style.bold(`Plan for ${plan.ref} at ${sha}`) + style.dim(` "${plan.commit.subject}"`) + style.dim(` (sites directory: ${plan.sites_dir || '.'})`));
  if (plan.only)
    out.push(style.dim(`Only the sites matching ${plan.only.patterns.join(', ')}: ${plan.sites.filter((s) => !s.removed).length} of ${plan.only.of}`));
  if (target) out.push(style.dim(`SDX API: ${target.url} (${target.source})`));
  const note = uncommittedNote(opts.uncommitted ?? []);
  if (note) out.push(style.yellow(`note: ${note}`));
  out.push('');
  out.push(...lockoutBlockText(v, style));
  const shared = sharedGroups(plan);
  const compact = new Set(shared.filter((g) => g.sites.length > 1).map((g) => `${g.kind}\0${g.path}`));
  if (compact.size) {
    out.push(style.bold('Shared scripts'));
    for (const g of shared.filter((x) => compact.has(`${x.kind}\0${x.path}`))) {
      const names = g.sites.length <= 6 ? `: ${g.sites.join(', ')}` : '';
      out.push(`  ${colourKind(g.kind, style)} ${g.path} -> ${g.sites.length} sites${names}`);
      const first = plan.changes.find((c) => c.group && c.path === g.path && c.kind === g.kind);
      if (first) out.push(...changeDetails(first, v, style, opts));
    }
    out.push('');
  }
  const width = Math.min(70, Math.max(20, ...plan.changes.map((c) => c.path.length)));
  for (const site of plan.sites) {
    const own = site.changes.filter((c) => !(c.group && compact.has(`${c.kind}\0${c.path}`)));
    const sharedCount = site.changes.length - own.length;
    const head = `${style.bold(site.site)} ${style.dim(site.site_id)}`;
    if (site.status !== 'ok') {
      out.push(`${head}  ${style.yellow(site.status)}: ${site.reason}`);
      continue;
    }
    if (!site.changes.length) {
      out.push(`${head}  ${style.dim(`no changes (${site.scripts} scripts)`)}`);
      continue;
    }
    out.push(head + (sharedCount ? style.dim(`  (+${sharedCount} shared)`) : '') + (site.routeros ? style.dim(`  ${routerOsWords(site.routeros)}`) : ''));
    for (const c of own) {
      const blocked = blockedNote(c, v);
      const note = blocked ? style.red(blocked) : actionNote(c) ? style.yellow(actionNote(c)) : '';
      out.push(`  ${colourKind(c.kind, style)} ${note ? `${c.path.padEnd(width)}  ${note}` : c.path}`);
      out.push(...changeDetails(c, v, style, opts));
    }
  }
  if (plan.moves.length) {
    out.push('', style.bold('Moved, nothing to send (the same site id, file name and rendering)'));
    for (const m of plan.moves) out.push(`  ${style.dim('> moved')} ${m.from} -> ${m.to}`);
  }
  out.push('');
  for (const w of warnings) out.push(style.yellow('warning: ') + formatProblem(w));
  if (warnings.length) out.push('');
  out.push(summaryLine(plan, v));
  return `${out.join('\n')}\n`;
}

/** "RouterOS 7.16.2 (setting)", "RouterOS 7.15.1 (reported by SDX)", "RouterOS unknown (checked against 7.21)". */
export function routerOsWords(r: SiteRouterOs): string {
  if (r.source === 'setting') return `RouterOS ${r.version} (routeros: setting)`;
  if (r.source === 'sdx') return `RouterOS ${r.version} (reported by SDX)`;
  return `RouterOS unknown (checked against ${NEWEST_CHECKED_VERSION}, the newest known)`;
}

/** Under a change in the text plan: its key (--verbose), secrets, findings with their level, and its diff. */
function changeDetails(c: PlannedChange, v: PlanVerdict, style: Style, opts: TextPlanOptions): string[] {
  const out: string[] = [];
  if (opts.verbose && c.idempotency_key) out.push(style.dim(`      key: ${c.idempotency_key}`));
  if (c.secrets.length)
    out.push(style.dim(`      secrets: ${c.secrets.join(', ')}${c.secrets_missing.length ? ` (not supplied: ${c.secrets_missing.join(', ')})` : ''}`));
  for (const f of c.findings) {
    const colour = f.level === 'advice' ? style.yellow : style.red;
    // Lockout risks are shown in full at the top; here, where they are.
    const message = f.level === 'lockout' && !v.gate.allowLockout ? 'lockout risk (see above)' : f.message;
    out.push(`      ${colour(f.level)} ${c.path}:${f.line}:${f.column} ${message} ${style.dim(`[${f.rule}]`)}`);
  }
  const d = c.kind !== 'removed' ? opts.diffs?.get(`${c.site_id}\0${c.path}`) : undefined;
  if (d) out.push(...compactDiff(d, style));
  return out;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function summaryLine(plan: Plan, verdict?: PlanVerdict): string {
  const v = verdict ?? judgePlan(plan);
  const s = plan.summary;
  const missing = plan.sites.filter((x) => x.status === 'unknown-history').length;
  const stale = s.stale_sites - missing;
  const notes = [
    stale ? `${plural(stale, 'site')} not applied (stale: never backwards)` : '',
    missing ? `${plural(missing, 'site')} not applied (history missing)` : '',
  ].filter(Boolean);
  const tail = notes.length ? `; ${notes.join('; ')}` : '';
  if (!plan.changes.length) return `No changes. ${plural(s.sites, 'site')} ${s.sites === 1 ? 'is' : 'are'} up to date${tail}.`;
  const parts = [`${s.added} to add`, `${s.modified} to modify`, `${s.removed} removed`];
  return `Plan: ${parts.join(', ')} on ${s.sites_changed} of ${plural(s.sites, 'site')}; ${verdictTail(v)}${tail}.`;
}

function colourKind(kind: string, style: Style): string {
  const label = `${SIGN[kind] ?? '?'} ${kind.padEnd(8)}`;
  return kind === 'added' ? style.green(label) : kind === 'removed' ? style.red(label) : style.yellow(label);
}

export interface MarkdownOptions extends PlanExtras {
  /** Unified diffs by `${site_id}\0${path}`, against the last-applied rendering. */
  diffs?: ReadonlyMap<string, string>;
  /** Hidden marker placed first, for sticky pull-request comments. */
  marker?: string;
  warnings?: Problem[];
  /** Where an apply would send the jobs. */
  target?: PlanTarget;
  /** The option apply takes to send lockout risks anyway, as the reader knows it. Default `--allow-lockout`. */
  allowLockoutFlag?: string;
}

export function planToMarkdown(plan: Plan, opts: MarkdownOptions = {}): string {
  const v = opts.verdict ?? judgePlan(plan);
  const out: string[] = [];
  if (opts.marker) out.push(opts.marker);
  const sha = plan.commit.sha.slice(0, 7);
  out.push(`### routeros-gitops plan for \`${sha}\``);
  out.push('');
  out.push(summaryLine(plan, v));
  out.push('');
  if (plan.only) out.push(`Only the sites matching ${plan.only.patterns.map((p) => codeSpan(p)).join(', ')}.`, '');
  if (opts.target) out.push(`SDX API: \`${opts.target.url}\` (${escapeMd(opts.target.source)})`, '');
  const note = uncommittedNote(opts.uncommitted ?? []);
  if (note) out.push(`> ${escapeMd(note)}`, '');
  out.push(...lockoutBlockMarkdown(v, opts.allowLockoutFlag ?? '--allow-lockout'));
  if (plan.changes.length) {
    out.push('| site | script | change | action |', '|---|---|---|---|');
    const shared = sharedGroups(plan).filter((g) => g.sites.length > 1);
    const compact = new Set(shared.map((g) => `${g.kind}\0${g.path}`));
    for (const g of shared) out.push(`| ${g.sites.length} sites | ${codeSpan(g.path)} | ${g.kind} | shared script |`);
    for (const c of plan.changes) {
      if (c.group && compact.has(`${c.kind}\0${c.path}`)) continue;
      const blocked = blockedNote(c, v);
      out.push(`| ${escapeMd(c.site)} | ${codeSpan(c.path)} | ${c.kind} | ${blocked ? `**${escapeMd(blocked)}**` : escapeMd(actionNote(c) || c.action)} |`);
    }
    out.push('');
  }
  if (plan.moves.length) {
    out.push('#### Moved, nothing to send', '');
    for (const m of plan.moves) out.push(`- ${codeSpan(m.from)} -> ${codeSpan(m.to)}`);
    out.push('');
  }
  for (const site of plan.sites.filter((s) => s.status !== 'ok'))
    out.push(`> **${escapeMd(site.site)}** is ${site.status}: ${escapeMd(site.reason ?? '')}`, '');
  const findings = plan.changes.flatMap((c) => c.findings.map((f) => ({ c, f })));
  if (findings.length) {
    out.push('#### Script checks', '');
    const seen = new Set<string>();
    for (const { c, f } of findings) {
      const line = `- **${f.level}** ${codeSpan(`${c.path}:${f.line}:${f.column}`)} ${escapeMd(f.message)} (\`${f.rule}\`)`;
      if (!seen.has(line)) out.push(line);
      seen.add(line);
    }
    out.push('');
  }
  if (opts.diffs?.size) {
    out.push('#### Changes', '');
    const shown = new Set<string>();
    for (const c of plan.changes) {
      const d = opts.diffs.get(`${c.site_id}\0${c.path}`);
      if (d === undefined) continue;
      // A shared script whose diff is the same on every site is shown once.
      const dedupe = `${c.path}\0${d}`;
      if (shown.has(dedupe)) continue;
      shown.add(dedupe);
      out.push(
        `<details><summary>${escapeMd(c.group ? `${c.path} (shared)` : `${c.site}: ${c.path}`)} (${c.kind})</summary>`,
        '',
        `${fenceFor(d)}diff`,
        d.trimEnd(),
        fenceFor(d),
        '',
        '</details>',
        '',
      );
    }
  }
  for (const w of opts.warnings ?? []) out.push(`- warning: ${escapeMd(formatProblem(w))}`);
  return `${out.join('\n').trimEnd()}\n`;
}

/** The lockout block of the Markdown plan (pull-request comments): first, before the changes. */
function lockoutBlockMarkdown(v: PlanVerdict, flag: string): string[] {
  const entries = lockoutEntries(v);
  if (!entries.length) return [];
  const out = [
    v.gate.allowLockout
      ? `#### Lockout risks: ${entries.length}, sent anyway (${escapeMd(flag)})`
      : `#### Lockout risks: ${entries.length}, apply refuses to send anything until each is acknowledged`,
    '',
    '| site | script | rule | risk |',
    '|---|---|---|---|',
  ];
  for (const e of entries) out.push(`| ${escapeMd(entrySites(e))} | ${codeSpan(`${e.path}:${e.line}:${e.column}`)} | \`${e.rule}\` | ${escapeMd(e.message)} |`);
  out.push('');
  if (!v.gate.allowLockout)
    out.push(
      escapeMd(
        acknowledgeHow(
          entries.map((e) => e.rule),
          flag,
        ),
      ),
      '',
    );
  return out;
}

export function escapeMd(s: string): string {
  return s.replace(/[|<>]/g, (ch) => ({ '|': '\\|', '<': '&lt;', '>': '&gt;' })[ch]!);
}

/**
 * A code fence no line of `text` can close: longer than any run of backticks in it (a script line
 * holding ``` would otherwise end the diff and let what follows render as Markdown or HTML).
 */
export function fenceFor(text: string): string {
  let longest = 0;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return '`'.repeat(Math.max(3, longest + 1));
}

/** An inline code span of `text`, whatever backticks it holds (a file name may have some), with | escaped for tables. */
export function codeSpan(text: string): string {
  let longest = 0;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const tick = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${tick}${pad}${text.replace(/\|/g, '\\|')}${pad}${tick}`;
}
