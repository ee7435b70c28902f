// The read-only commands: plan, validate, status, schema. Each builds adapters through Context,
// calls the core and prints; none of them sends a job or writes the state.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Context } from './context.js';
import { parseOptions, type Parsed } from '../wiring/options.js';
import { PLAN_SPEC, RULES_SPEC, SCHEMA_SPEC, STATUS_SPEC, VALIDATE_SPEC } from './option-specs.js';
import { makePlan } from '../core/engine.js';
import { planDiffs } from '../core/diff.js';
import { planToJson, planToMarkdown, planToText } from '../report/plan-report.js';
import { statusRows } from '../report/status.js';

export { statusRows, type SiteStatusRow } from '../report/status.js';
import { formatProblem, InputError, type Problem } from '../core/errors.js';
import { commandTarget, type FileFinding } from '../wiring/checks.js';
import { fileFindings, modelFindings } from './validate-files.js';
import { checkPackageName, PACKAGES_HINT, type LintTarget } from '../core/routeros-target.js';
import { parseRouterOsVersion } from '../lint/routeros-version.js';
import { DATA_NEWEST } from '../lint/routeros-data-summary.js';
import { RULES } from '../lint/index.js';
import { MappedList } from '../report/mapped-list.js';
import { checkFleetApiUrl, displayApiUrl } from '../core/api-url.js';
import { secretsKeyProblems } from '../apply/reconcile.js';
import { judgePlan, refusalHeadline, type PlanVerdict } from '../core/verdict.js';
import { matchSites } from '../core/site-filter.js';
import type { Plan } from '../core/plan.js';
import type { GitRepo } from '../git/repo.js';

type Opts = Parsed<typeof VALIDATE_SPEC>;

export async function planCommand(ctx: Context, raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(PLAN_SPEC, raw);
  // Terraform's detailed exit codes: 2 means "jobs to send", so an invalid input is 1 there.
  if (opts.detailedExitcode) ctx.invalidExitCode = 1;
  // The URL apply would send to: the operator's, named in the plan.
  const apiUrl = ctx.runtime.apiUrl;
  const target = { url: displayApiUrl(apiUrl.url), source: apiUrl.source };
  const repo = await ctx.repo(opts);
  // Read for what they change (a rotated secret is a change), not hidden in the output: nothing in a
  // plan holds a secret's value, and hiding text that equals one would single it out (an oracle).
  const secrets = await ctx.secrets(repo, opts, false);
  const store = await ctx.stateStore(repo, opts);
  try {
    const diffs = opts.format === 'markdown' || (opts.format === 'text' && opts.diff);
    const { plan, desired, state, warnings, incremental } = await makePlan({
      reader: repo,
      state: store,
      ref: opts.ref,
      sitesDir: opts.sites,
      secrets,
      ...ctx.runtime.planChecks(repo),
      retryFailed: opts.retryFailed,
      keep: { display: diffs, body: false },
      cache: await ctx.parseCache(repo),
      snapshot: ctx.planSnapshot(repo),
      sitePatterns: opts.site,
    });
    if (incremental)
      ctx.logger.debug(incremental, `incremental plan: ${incremental.from_snapshot} sites unchanged since the last plan, ${incremental.read} read`);
    // apply would refuse a fleet file that names another SDX URL: so does its preview.
    await checkFleetApiUrl(repo, desired, apiUrl);
    // And secrets supplied without their key, or under another key than the state's: plan tells the
    // truth about apply (without any secret value, a plan needs no key).
    const keyProblems = secrets.values().length ? secretsKeyProblems({ secrets }, { desired, state }) : [];
    if (keyProblems.length) throw new InputError(keyProblems);
    // What apply (with the same options) would do with this plan: refuse, block, or send.
    const verdict = judgePlan(plan, { allowCheckErrors: opts.allowCheckErrors, allowLockout: opts.allowLockout });
    const extras = { verdict, uncommitted: await uncommittedFiles(ctx, repo, opts.sites) };
    if (opts.format === 'json') writeJson((s) => ctx.out(s), planToJson(plan, warnings, target, extras));
    else if (opts.format === 'markdown') ctx.out(planToMarkdown(plan, { ...extras, diffs: await planDiffs(repo, plan, desired), warnings, target }));
    else {
      const shown = diffs ? await planDiffs(repo, plan, desired, TEXT_DIFFS) : undefined;
      ctx.out(planToText(plan, warnings, ctx.style, target, { ...extras, diffs: shown, verbose: opts.verbose }));
    }
    return planExit(ctx, plan, verdict, opts.detailedExitcode);
  } finally {
    await store.close();
  }
}

/** How many changes the text plan shows a diff for (the Markdown plan, 200). */
const TEXT_DIFFS = 50;

/** Files under the sites directory the working tree has changed: a plan reads the commit (none when git cannot say). */
async function uncommittedFiles(ctx: Context, repo: GitRepo, sites: string): Promise<string[]> {
  try {
    return await repo.workingTreeChanges(sites);
  } catch (e) {
    ctx.logger.debug({ err: (e as Error).message }, 'could not list uncommitted files');
    return [];
  }
}

/**
 * plan's exit code: the one apply would end with (0; 1 changes blocked or history missing; 2 the
 * commit refused), or with --detailed-exitcode Terraform's (0 nothing to send, 1 error or anything
 * apply would refuse or block, 2 jobs to send). Why it is not 0 goes to stderr.
 */
function planExit(ctx: Context, plan: Plan, verdict: PlanVerdict, detailed: boolean): number {
  if (plan.missing_history.length) ctx.err(`error: ${plan.sites.find((x) => x.status === 'unknown-history')?.reason ?? 'history is missing'}\n`);
  if (verdict.refused) ctx.err(`error: ${refusalHeadline(verdict, true)}\n`);
  else if (verdict.exitCode === 1 && !plan.missing_history.length) ctx.err('error: apply would not send every change of this plan (see "blocked" above)\n');
  if (!detailed) return verdict.exitCode;
  if (verdict.exitCode !== 0) return 1;
  return verdict.toSend > 0 ? 2 : 0;
}

export async function validateCommand(ctx: Context, raw: Record<string, unknown>, files: string[]): Promise<number> {
  const opts = parseOptions(VALIDATE_SPEC, raw);
  const override = validateTarget(opts);
  let findings: FileFinding[];
  let note: string | undefined;
  if (files.length) {
    const checked = await fileFindings(ctx, opts, files, override);
    findings = checked.findings;
    const target = commandTarget(override);
    note = !target
      ? `RouterOS ${override?.routeros} is not checked against a command tree (the data set starts at RouterOS 7).`
      : override || !checked.alone
        ? undefined
        : `Commands were checked against RouterOS ${DATA_NEWEST}, the newest version known; --routeros VERSION checks another.`;
  } else {
    const repo = await ctx.repo(opts);
    findings = await modelFindings(repo, await repo.resolveCommit(opts.ref), opts.sites, override);
  }
  return reportFindings(ctx, findings, { json: opts.format === 'json', note, allowLockout: opts.allowLockout });
}

/** `--routeros` and `--packages` of validate, checked; undefined when neither is given. */
function validateTarget(opts: Opts): LintTarget | undefined {
  if (opts.routeros === undefined && opts.packages === undefined) return undefined;
  const problems: Problem[] = [];
  if (opts.routeros !== undefined && !parseRouterOsVersion(opts.routeros))
    problems.push({ file: '--routeros', message: `"${opts.routeros}" is not a RouterOS version`, hint: 'write it as 7.16.2, 7.16 or 7.23rc1' });
  const packages =
    opts.packages === undefined
      ? undefined
      : opts.packages
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);
  for (const name of packages ?? []) {
    const wrong = checkPackageName(name);
    if (wrong) problems.push({ file: '--packages', message: wrong, hint: PACKAGES_HINT });
  }
  if (problems.length) throw new InputError(problems);
  const out: LintTarget = {};
  if (opts.routeros !== undefined) out.routeros = opts.routeros;
  if (packages) out.packages = packages;
  return out;
}

/**
 * validate's report: each finding with its level, then the counts. Exit 2 when apply would refuse
 * the scripts: an error-level finding, or a lockout-level one (unless --allow-lockout), so a
 * pre-commit hook never passes what apply refuses.
 */
function reportFindings(ctx: Context, findings: FileFinding[], opts: { json: boolean; note?: string; allowLockout: boolean }): number {
  // Input problems that are not script findings keep their own words: error, or warning.
  const label = (f: FileFinding) => (f.rule === 'input' ? f.severity : f.level);
  const count = (l: string) => findings.filter((f) => label(f) === l).length;
  const lockouts = count('lockout');
  const refused = count('error') + (opts.allowLockout ? 0 : lockouts);
  if (opts.json) {
    ctx.out(`${JSON.stringify({ findings: findings.map(({ site: _site, ...f }) => f) }, null, 2)}\n`);
    return refused ? 2 : 0;
  }
  const colour = { error: ctx.style.red, lockout: ctx.style.red, advice: ctx.style.yellow, warning: ctx.style.yellow };
  for (const f of findings) {
    const site = f.site && f.rule === 'input' ? ` (site ${f.site})` : '';
    ctx.out(
      `${f.path}${f.line ? `:${f.line}:${f.column}` : ''}:${site} ${colour[label(f)](label(f))} ${f.message}${f.rule !== 'input' ? ctx.style.dim(` [${f.rule}]`) : ''}\n`,
    );
    if (f.hint) ctx.out(`  hint: ${f.hint}\n`);
  }
  const counted = (n: number, one: string, many: string) => (n ? [`${n} ${n === 1 ? one : many}`] : []);
  const held = opts.allowLockout ? ' (--allow-lockout)' : ' (apply refuses them until each is acknowledged)';
  const parts = [
    ...counted(count('error'), 'error', 'errors'),
    ...counted(lockouts, `lockout risk${held}`, `lockout risks${held}`),
    ...counted(count('advice'), 'advice', 'advice'),
    ...counted(count('warning'), 'warning', 'warnings'),
  ];
  ctx.out(findings.length ? `${parts.join(', ')}\n` : 'No problems found.\n');
  if (opts.note) ctx.out(`${ctx.style.dim(opts.note)}\n`);
  return refused ? 2 : 0;
}

export async function statusCommand(ctx: Context, raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(STATUS_SPEC, raw);
  const repo = await ctx.repo(opts);
  const store = await ctx.stateStore(repo, opts);
  try {
    const all = statusRows(await store.load());
    // --site: those sites only; a pattern that matches none names the closest (exit 2).
    const only = opts.site && all.length ? matchSites([...new Set(all.map((r) => r.site))], opts.site) : null;
    const rows = only ? all.filter((r) => only.has(r.site)) : all;
    if (opts.format === 'json') {
      ctx.out(`${JSON.stringify({ state: store.describe(), sites: rows }, null, 2)}\n`);
      return 0;
    }
    if (!rows.length) {
      ctx.out(`Nothing has been applied yet (state: ${store.describe()}).\n`);
      return 0;
    }
    const w = Math.max(4, ...rows.map((r) => r.site.length));
    const v = Math.max(8, ...rows.map((r) => r.routeros?.version.length ?? 1));
    ctx.out(`${ctx.style.bold(`${'SITE'.padEnd(w)}  LAST COMMIT  OUTCOME    ${'ROUTEROS'.padEnd(v)}  WHEN`)}\n`);
    for (const r of rows) {
      const colour = r.outcome === 'succeeded' ? ctx.style.green : r.outcome === 'failed' ? ctx.style.red : ctx.style.yellow;
      ctx.out(
        `${r.site.padEnd(w)}  ${(r.last_commit?.slice(0, 7) ?? '-').padEnd(11)}  ${colour(r.outcome.padEnd(9))}  ${(r.routeros?.version ?? '-').padEnd(v)}  ${r.at ?? '-'}\n`,
      );
      for (const s of r.scripts.filter((x) => x.phase !== 'succeeded'))
        ctx.out(
          `${ctx.style.dim(`${''.padEnd(w)}    ${s.path}: ${s.phase}${s.part ? ` at part ${s.part.part}/${s.part.of}` : ''}${s.job_id ? ` (job ${s.job_id})` : ''}`)}\n`,
        );
    }
    return 0;
  } finally {
    await store.close();
  }
}

export async function schemaCommand(ctx: Context, raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(SCHEMA_SPEC, raw);
  const schemas = (await import('../core/settings-schema.js')).jsonSchemas();
  if (opts.write) {
    const dir = resolve(ctx.io.cwd, opts.write);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'routeros-gitops.schema.json'), `${JSON.stringify(schemas.fleet, null, 2)}\n`);
    await writeFile(join(dir, 'site.schema.json'), `${JSON.stringify(schemas.site, null, 2)}\n`);
    ctx.out(`wrote ${relative(ctx.io.cwd, dir) || '.'}/routeros-gitops.schema.json and site.schema.json\n`);
    return 0;
  }
  ctx.out(`${JSON.stringify(opts.file === 'site' ? schemas.site : schemas.fleet, null, 2)}\n`);
  return 0;
}

export async function rulesCommand(ctx: Context, raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(RULES_SPEC, raw);
  if (opts.format === 'json') {
    ctx.out(`${JSON.stringify({ rules: RULES }, null, 2)}\n`);
    return 0;
  }
  const w = Math.max(...RULES.map((r) => r.id.length));
  for (const r of RULES) ctx.out(`${r.id.padEnd(w)}  ${r.defaultLevel.padEnd(7)}  ${r.description}\n`);
  ctx.out(
    '\nLevels: error (never sent), lockout (can cut management access: apply refuses it until the script acknowledges it, or --allow-lockout), advice (shown, never blocks).' +
      '\nSet a rule with lint.rules in routeros-gitops.yaml or site.yaml ("error", "lockout", "advice" or "off"); acknowledge a finding with "# routeros-gitops: allow <rule>" on the line above the command or at the top of the file.\n',
  );
  return 0;
}

/**
 * JSON.stringify(value, null, 2) written piece by piece: the elements of top-level arrays one at a
 * time, so a plan of 50,000 changes is never one 30 MB string (and each piece is redacted as it goes).
 */
export function writeJson(out: (s: string) => void, value: object): void {
  // Pieces are gathered and written about a megabyte at a time: one write (and one redaction pass)
  // per element would cost more than making the text.
  let pending: string[] = [];
  let size = 0;
  const write = (s: string) => {
    pending.push(s);
    size += s.length;
    if (size >= 1 << 20) flush();
  };
  const flush = () => {
    if (!pending.length) return;
    out(pending.join(''));
    pending = [];
    size = 0;
  };
  writeJsonPieces(write, value);
  flush();
}

/** Elements of a top-level array made into text at once (see writeJsonPieces). */
const JSON_BATCH = 256;

function writeJsonPieces(write: (s: string) => void, value: object): void {
  const entries = Object.entries(value).map(([k, v]) => [k, v instanceof MappedList ? v.items : v] as const);
  const mappers = new Map(
    Object.entries(value)
      .filter(([, v]) => v instanceof MappedList)
      .map(([k, v]) => [k, (v as MappedList<unknown>).map]),
  );
  if (!entries.length) {
    write('{}\n');
    return;
  }
  write('{\n');
  entries.forEach(([k, v], i) => {
    const comma = i < entries.length - 1 ? ',' : '';
    if (Array.isArray(v) && v.length) {
      write(`  ${JSON.stringify(k)}: [\n`);
      const map = mappers.get(k) ?? ((x: unknown) => x);
      // A few hundred elements at a time, by JSON.stringify itself: nested one level deeper, its
      // elements come out indented as they stand here (issue 18: no re-indenting pass per element).
      for (let j = 0; j < v.length; j += JSON_BATCH) {
        const text = JSON.stringify([v.slice(j, j + JSON_BATCH).map(map)], null, 2);
        write(`${text.slice(6, -6)}${j + JSON_BATCH < v.length ? ',\n' : '\n'}`);
      }
      write(`  ]${comma}\n`);
    } else write(`  ${JSON.stringify(k)}: ${JSON.stringify(v, null, 2).replaceAll('\n', '\n  ')}${comma}\n`);
  });
  write('}\n');
}

export { formatProblem, InputError };
