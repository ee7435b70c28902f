// The read-only commands: plan, validate, status, schema. Each builds adapters through Context,
// calls the core and prints; none of them sends a job or writes the state.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Context } from './context.js';
import { parseOptions, type Parsed } from '../wiring/options.js';
import { PLAN_SPEC, RULES_SPEC, SCHEMA_SPEC, STATUS_SPEC, VALIDATE_SPEC } from './option-specs.js';
import { makePlan } from '../core/engine.js';
import { planDiffs } from '../core/diff.js';
import { planToJson, planToMarkdown, planToText } from '../report/plan-report.js';
import { readFleet } from '../core/model.js';
import { renderFleet } from '../core/render-fleet.js';
import { emptyState } from '../core/state.js';
import { statusRows } from '../report/status.js';

export { statusRows, type SiteStatusRow } from '../report/status.js';
import { formatProblem, InputError, type Problem } from '../core/errors.js';
import { commandTarget, lintFiles, lintHook, type FileFinding } from '../wiring/checks.js';
import { checkPackageName, PACKAGES_HINT, type LintTarget } from '../core/routeros-target.js';
import { DATA_NEWEST } from '../lint/routeros-data-summary.js';
import { parseRouterOsVersion } from '../lint/routeros-version.js';
import { RULES } from '../lint/index.js';
import { MappedList } from '../report/mapped-list.js';
import { checkFleetApiUrl, displayApiUrl } from '../core/api-url.js';
import { secretsKeyProblems } from '../apply/reconcile.js';

type Opts = Parsed<typeof VALIDATE_SPEC>;

export async function planCommand(ctx: Context, raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(PLAN_SPEC, raw);
  // The URL apply would send to: the operator's, named in the plan.
  const apiUrl = ctx.runtime.apiUrl;
  const target = { url: displayApiUrl(apiUrl.url), source: apiUrl.source };
  const repo = await ctx.repo(opts);
  const secrets = await ctx.secrets(repo, opts);
  const store = await ctx.stateStore(repo, opts);
  try {
    const markdown = opts.format === 'markdown';
    const { plan, desired, state, warnings, incremental } = await makePlan({
      reader: repo,
      state: store,
      ref: opts.ref,
      sitesDir: opts.sites,
      secrets,
      ...ctx.runtime.planChecks(repo),
      retryFailed: opts.retryFailed,
      keep: { display: markdown, body: false },
      cache: await ctx.parseCache(repo),
      snapshot: ctx.planSnapshot(repo),
    });
    if (incremental)
      ctx.logger.debug(incremental, `incremental plan: ${incremental.from_snapshot} sites unchanged since the last plan, ${incremental.read} read`);
    // apply would refuse a fleet file that names another SDX URL: so does its preview.
    await checkFleetApiUrl(repo, desired, apiUrl);
    // And secrets supplied without their key, or under another key than the state's: plan tells the
    // truth about apply (without any secret value, a plan needs no key).
    const keyProblems = secrets.values().length ? secretsKeyProblems({ secrets }, { desired, state }) : [];
    if (keyProblems.length) throw new InputError(keyProblems);
    if (opts.format === 'json') writeJson((s) => ctx.out(s), planToJson(plan, warnings, target));
    else if (opts.format === 'markdown') ctx.out(planToMarkdown(plan, { diffs: await planDiffs(repo, plan, desired), warnings, target }));
    else ctx.out(planToText(plan, warnings, ctx.style, target));
    // History the state was applied from is gone: say it loudly, as apply would refuse.
    if (plan.missing_history.length) {
      ctx.err(`error: ${plan.sites.find((x) => x.status === 'unknown-history')?.reason ?? 'history is missing'}\n`);
      return 1;
    }
    return 0;
  } finally {
    await store.close();
  }
}

export async function validateCommand(ctx: Context, raw: Record<string, unknown>, files: string[]): Promise<number> {
  const opts = parseOptions(VALIDATE_SPEC, raw);
  const override = validateTarget(opts);
  let findings: FileFinding[];
  let note: string | undefined;
  if (files.length) {
    findings = await lintFiles(files, opts.cwd ? resolve(ctx.io.cwd, opts.cwd) : ctx.io.cwd, async (p) => readFile(p), override);
    const target = commandTarget(override);
    note = !target
      ? `RouterOS ${override?.routeros} is not checked against a command tree (the data set starts at RouterOS 7).`
      : override
        ? undefined
        : `Commands were checked against RouterOS ${DATA_NEWEST}, the newest version known; --routeros VERSION checks another.`;
  } else {
    const repo = await ctx.repo(opts);
    const commit = await repo.resolveCommit(opts.ref);
    const model = await readFleet(repo, commit, opts.sites);
    // --routeros checks every site against that version, whatever its settings say.
    if (override) for (const site of model.sites) site.lintTarget = { ...site.lintTarget, ...override };
    const desired = await renderFleet(repo, model, emptyState(), { readAll: true, lint: lintHook });
    findings = [
      ...desired.problems.map((p) => problemFinding(p, 'error')),
      ...desired.warnings.map((p) => problemFinding(p, 'warning')),
      ...desired.sites.flatMap((s) =>
        s.scripts.flatMap((sc) =>
          sc.findings.map((f) => ({ path: sc.path, line: f.line, column: f.column, severity: f.severity, rule: f.rule, message: f.message, site: s.name })),
        ),
      ),
    ];
    // A shared script is checked once per site; report each finding once.
    const seen = new Set<string>();
    findings = findings.filter((f) => {
      const k = `${f.path}:${f.line}:${f.column}:${f.rule}:${f.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    findings.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line || a.column - b.column));
  }
  const errors = findings.filter((f) => f.severity === 'error').length;
  if (opts.format === 'json') {
    ctx.out(`${JSON.stringify({ findings: findings.map(({ site: _site, ...f }) => f) }, null, 2)}\n`);
  } else {
    for (const f of findings) {
      const sev = f.severity === 'error' ? ctx.style.red('error') : ctx.style.yellow('warning');
      const site = f.site && f.rule === 'input' ? ` (site ${f.site})` : '';
      ctx.out(`${f.path}${f.line ? `:${f.line}:${f.column}` : ''}:${site} ${sev} ${f.message}${f.rule !== 'input' ? ctx.style.dim(` [${f.rule}]`) : ''}\n`);
      if (f.hint) ctx.out(`  hint: ${f.hint}\n`);
    }
    const warnings = findings.length - errors;
    ctx.out(errors || warnings ? `${errors} errors, ${warnings} warnings\n` : 'No problems found.\n');
    if (note) ctx.out(`${ctx.style.dim(note)}\n`);
  }
  return errors ? 2 : 0;
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

function problemFinding(p: Problem, severity: 'error' | 'warning'): FileFinding {
  return { path: p.file, line: p.line ?? 0, column: p.column ?? 0, severity, rule: 'input', message: p.message, hint: p.hint, site: p.site };
}

export async function statusCommand(ctx: Context, raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(STATUS_SPEC, raw);
  const repo = await ctx.repo(opts);
  const store = await ctx.stateStore(repo, opts);
  try {
    const rows = statusRows(await store.load());
    if (opts.format === 'json') {
      ctx.out(`${JSON.stringify({ state: store.describe(), sites: rows }, null, 2)}\n`);
      return 0;
    }
    if (!rows.length) {
      ctx.out(`Nothing has been applied yet (state: ${store.describe()}).\n`);
      return 0;
    }
    const w = Math.max(4, ...rows.map((r) => r.site.length));
    ctx.out(`${ctx.style.bold(`${'SITE'.padEnd(w)}  LAST COMMIT  OUTCOME    WHEN`)}\n`);
    for (const r of rows) {
      const colour = r.outcome === 'succeeded' ? ctx.style.green : r.outcome === 'failed' ? ctx.style.red : ctx.style.yellow;
      ctx.out(`${r.site.padEnd(w)}  ${(r.last_commit?.slice(0, 7) ?? '-').padEnd(11)}  ${colour(r.outcome.padEnd(9))}  ${r.at ?? '-'}\n`);
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
  for (const r of RULES) ctx.out(`${r.id.padEnd(w)}  ${r.defaultSeverity.padEnd(7)}  ${r.description}\n`);
  ctx.out(
    '\nSet a rule with lint.rules in routeros-gitops.yaml or site.yaml ("error", "warning" or "off"); acknowledge a finding with "# routeros-gitops: allow <rule>" on the line above the command or at the top of the file.\n',
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
