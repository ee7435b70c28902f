// Rendering the fleet: every site's scripts, made from their templates, variables and secrets, then
// checked, measured, split into parts when over max_script_size, and fingerprinted. Reading is
// incremental: a script whose source blob and render inputs are the ones recorded in the applied
// state is not read again (it has nothing to send).
import type { Problem } from './errors.js';
import { fingerprint, secretDigest, sha256 } from './keys.js';
import {
  join,
  noSecrets,
  type DesiredFleet,
  type DesiredScript,
  type DesiredSite,
  type FleetModel,
  type LintFn,
  type RenderOptions,
  type ScriptSource,
  type SecretSource,
  type SiteModel,
} from './model.js';
import type { RepoReader } from './ports.js';
import { renderScript } from './render-script.js';
import { routerOsWarnings, withReportedVersions } from './routeros-target.js';
import { FLEET_FILE } from './settings.js';
import type { AppliedState, ScriptRecord, SiteState } from './state.js';
import { compileTemplate, type CompiledTemplate } from './template.js';
import { codePointLength } from './code-points.js';
import { splitScript, type ScriptPart } from '../lint/split.js';

/** The largest script file read at all (a split script is sent as parts; this bounds the parts to ~400). */
export const MAX_SCRIPT_BYTES = 4 * 1024 * 1024;

type Uses = { vars: string[]; secrets: string[] };
type Digests = { digests: Record<string, string>; missing: string[] };

/** Render every site's scripts; unchanged ones (same blob, same inputs as recorded) are not read. */
export async function renderFleet(reader: RepoReader, model: FleetModel, state: AppliedState, opts: RenderOptions = {}): Promise<DesiredFleet> {
  const secrets = opts.secrets ?? noSecrets;
  // A site without a routeros: setting is checked against the version SDX last reported for it.
  withReportedVersions(model.sites, state);
  model.problems.push(...secretScopeClashes(model, secrets));
  const { toRead, reuse } = sortReads(model, state, secrets, opts);
  // The scripts to read, rendered a chunk of whole sites at a time (issue 18: over worker threads
  // when there are enough of them, see RenderWorkers); then put together in site order, so that the
  // result, problems and warnings included, is the same however the work was shared.
  const env: ChunkEnv = {
    sitesDir: model.sitesDir,
    fleetFile: model.fleetFile,
    maxScriptSize: model.fleet.max_script_size,
    keep: opts.keep,
    varsUnknown: !!model.unreadSettings,
  };
  const deps: RenderDeps = { secrets, lint: opts.lint };
  const outcomes = await renderShared(reader, env, deps, opts.workers, toRead.length, (size) => chunksOf(model, state, reuse, size));
  // Scripts a worker left to this thread (they use secrets, which workers never hold): read at once.
  const left = model.sites.flatMap((site) => readScripts(site, reuse).filter((_, i) => outcomes.get(site.id)![i] === DEFERRED));
  const leftTexts = left.length ? await BlobTexts.read(reader, left) : undefined;
  const sites: DesiredSite[] = [];
  for (const site of model.sites) {
    const usedVars = new Set<string>();
    let renderer: SiteRenderer | undefined;
    const scripts: DesiredScript[] = [];
    const siteOutcomes = outcomes.get(site.id);
    let n = 0; // the site's scripts to read come back in order
    for (const src of site.scripts) {
      const reused = reuse.get(`${site.id}\0${src.path}`);
      if (reused) {
        scripts.push(reused);
        continue;
      }
      let outcome = siteOutcomes![n++]!;
      if (outcome === DEFERRED) {
        renderer ??= new SiteRenderer(env, state.sites[site.id], site, deps, leftTexts!);
        outcome = renderer.renderOutcome(src) as ScriptOutcome;
      }
      model.problems.push(...outcome.problems);
      for (const v of outcome.varRefs) usedVars.add(v);
      if (outcome.script) scripts.push(outcome.script);
    }
    sites.push({ ...site, scripts });
    if (!site.scripts.some((src) => reuse.has(`${site.id}\0${src.path}`))) model.warnings.push(...unusedVarWarnings(site, usedVars));
  }
  // Say which sites' scripts were checked against a RouterOS version they may not run (only sites
  // whose scripts were read: a full and an incremental plan read the same ones).
  if (opts.lint)
    model.warnings.push(
      ...routerOsWarnings(
        sites.filter((s) => s.scripts.some((sc) => sc.read)),
        model.fleetFile ?? join(model.sitesDir, FLEET_FILE),
      ),
    );
  return { ...model, sites };
}

/** Scripts read (and held) at once by this thread: bounds the memory a large plan takes. */
const READ_CHUNK = 5000;

/** Outcomes of the scripts to read, by site id, in the order of the site's scripts. */
export type ChunkOutcomes = Map<string, Array<ScriptOutcome | typeof DEFERRED>>;

/** A site's scripts that are read (not reused), in order. */
function readScripts(site: SiteModel, reuse: ReadonlyMap<string, DesiredScript>): ScriptSource[] {
  return site.scripts.filter((src) => !reuse.has(`${site.id}\0${src.path}`));
}

/**
 * Every script to read's outcome: rendered in chunks shared with the workers when there are enough
 * scripts, else (or when a worker fails) in this thread, a chunk at a time, exactly as without
 * workers (errors included).
 */
async function renderShared(
  reader: Pick<RepoReader, 'readBlobs' | 'openBlobReader'>,
  env: ChunkEnv,
  deps: RenderDeps,
  workers: RenderWorkers | undefined,
  toRead: number,
  chunked: (size: number) => RenderChunk[],
): Promise<ChunkOutcomes> {
  const many = toRead > READ_CHUNK || workers?.wants(toRead);
  // Several chunks are read from one git process when the reader can.
  const blobs = many && reader.openBlobReader ? reader.openBlobReader() : undefined;
  const local = (chunk: RenderChunk) => renderChunk(blobs ?? reader, env, chunk, deps);
  try {
    if (workers?.wants(toRead)) {
      const chunks = chunked(workers.chunkScripts);
      try {
        if (chunks.length) return await workers.render(env, !!deps.lint, chunks, local);
      } catch {
        // Said again below, in this thread, as a plan without workers says it.
      }
    }
    const all: ChunkOutcomes = new Map();
    for (const chunk of chunked(READ_CHUNK)) for (const [k, v] of await local(chunk)) all.set(k, v);
    return all;
  } finally {
    blobs?.close();
  }
}

/** The scripts to read (those not reused), in chunks of whole sites of about `size` scripts. */
function chunksOf(model: FleetModel, state: AppliedState, reuse: ReadonlyMap<string, DesiredScript>, size: number): RenderChunk[] {
  const chunks: RenderChunk[] = [];
  let current: RenderChunk = { sites: [] };
  let count = 0;
  for (const site of model.sites) {
    const scripts = readScripts(site, reuse);
    if (!scripts.length) continue;
    if (count > 0 && count + scripts.length > size) {
      chunks.push(current);
      current = { sites: [] };
      count = 0;
    }
    const siteState = state.sites[site.id];
    current.sites.push({ site: { ...site, scripts }, state: siteState && { site: siteState.site, records: pick(siteState.scripts, scripts) } });
    count += scripts.length;
  }
  if (count > 0) chunks.push(current);
  return chunks;
}

function pick(records: Record<string, ScriptRecord>, scripts: readonly ScriptSource[]): Record<string, ScriptRecord> {
  const out: Record<string, ScriptRecord> = {};
  for (const s of scripts) if (records[s.file]) out[s.file] = records[s.file]!;
  return out;
}

/** First pass: which scripts must be read, and which the state can stand for unread. */
function sortReads(model: FleetModel, state: AppliedState, secrets: SecretSource, opts: RenderOptions) {
  const toRead: ScriptSource[] = [];
  const reuse = new Map<string, DesiredScript>(); // `${siteId}\0${path}` -> unchanged script
  for (const site of model.sites) {
    const recorded = state.sites[site.id]?.scripts ?? {};
    // Most scripts of a site use the same (often no) variables: digest each combination once.
    const inputsCache = new Map<string, string>();
    for (const src of site.scripts) {
      const record = recorded[src.file];
      const kept = !opts.readAll && record && record.source.blob === src.blob && record.uses && canReuse(record, !!opts.retryFailed);
      const unread = kept ? reusable(site, src, record, secrets, inputsCache) : null;
      if (unread) reuse.set(`${site.id}\0${src.path}`, unread);
      else toRead.push(src);
    }
  }
  return { toRead, reuse };
}

/** The recorded script standing for `src` unread, when its render inputs are the recorded ones. */
function reusable(site: SiteModel, src: ScriptSource, record: ScriptRecord, secrets: SecretSource, inputsCache: Map<string, string>): DesiredScript | null {
  const uses = record.uses!;
  const digests = uses.secrets.length ? digestsFor(site, uses.secrets, secrets, record) : NO_DIGESTS;
  const cacheKey = `${uses.vars.join(',')}|${uses.secrets.length ? JSON.stringify(digests.digests) : ''}`;
  let inputs = inputsCache.get(cacheKey);
  if (inputs === undefined) {
    inputs = inputsDigest(site, uses, digests.digests);
    inputsCache.set(cacheKey, inputs);
  }
  if (inputs !== record.source.inputs) return null;
  // Fields written out: an object spread is several microseconds here, 50,000 times.
  return {
    path: src.path,
    file: src.file,
    blob: src.blob,
    size: src.size,
    group: src.group,
    fingerprint: record.fingerprint,
    inputs,
    uses,
    secretDigests: digests.digests,
    secretsMissing: digests.missing,
    read: false,
    findings: [],
  };
}

/**
 * A recorded script can stand for the current one without reading it when nothing has to be sent
 * from it: it succeeded, its job is being followed (and no later part is left to send), or it
 * failed and will not be retried. Scripts whose job must (still) be created are read, since the
 * job body is needed.
 */
function canReuse(record: ScriptRecord, retryFailed: boolean): boolean {
  switch (record.phase) {
    case 'succeeded':
      return true;
    case 'queued':
    case 'running':
      return record.job_id !== null && (!record.part || record.part.index === record.part.count - 1);
    case 'failed':
      return !retryFailed;
    default:
      // intent (its job may have to be created), lost, cancelled (sent again), removed (re-added).
      return false;
  }
}

/** The text and compiled template of each blob to read, read in one batch and let go once its last script is rendered. */
class BlobTexts {
  private readonly compiled = new Map<string, { text: string; tpl: CompiledTemplate } | Problem>();
  private readonly uses = new Map<string, number>();
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  private constructor(private readonly blobs: Map<string, Buffer>) {}

  static async read(reader: Pick<RepoReader, 'readBlobs'>, toRead: readonly ScriptSource[]): Promise<BlobTexts> {
    const blobs = await reader.readBlobs([...new Set(toRead.filter((s) => !tooLarge(s)).map((s) => s.blob))]);
    const t = new BlobTexts(blobs);
    for (const s of toRead) t.uses.set(s.blob, (t.uses.get(s.blob) ?? 0) + 1);
    return t;
  }

  /** The script's text and template, or why it cannot be one; its blob is let go after its last use. */
  take(src: ScriptSource): { text: string; tpl: CompiledTemplate } | Problem {
    let result = this.compiled.get(src.blob);
    if (!result) {
      result = this.decode(src);
      this.compiled.set(src.blob, result);
    }
    const left = (this.uses.get(src.blob) ?? 1) - 1;
    this.uses.set(src.blob, left);
    if (left <= 0) this.compiled.delete(src.blob);
    return 'file' in result ? { ...result, file: src.path } : result;
  }

  private decode(src: ScriptSource): { text: string; tpl: CompiledTemplate } | Problem {
    const buf = this.blobs.get(src.blob);
    if (tooLarge(src) || !buf) {
      return {
        file: src.path,
        message: `is ${src.size} bytes, over the largest script read (${MAX_SCRIPT_BYTES} bytes)`,
        hint: 'split it into several scripts',
      };
    }
    if (buf.includes(0))
      return {
        file: src.path,
        ...firstNul(buf),
        message: 'contains a NUL byte: it is a binary file, not a RouterOS script',
        hint: 'commit the script as text',
      };
    let text: string;
    try {
      text = this.decoder.decode(buf);
    } catch {
      return { file: src.path, ...firstBadUtf8(buf), message: 'is not valid UTF-8', hint: 'save the file as UTF-8' };
    }
    this.blobs.delete(src.blob); // the text is all that is needed from here on
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (!/\S/.test(text)) return { file: src.path, message: 'is empty', hint: 'add commands, or delete the file' };
    return { text, tpl: compileTemplate(text) };
  }
}

const tooLarge = (src: ScriptSource) => src.size > MAX_SCRIPT_BYTES;

/** What one script's rendering came to: the script (null when it has problems), its problems, the variables it names. */
export interface ScriptOutcome {
  script: DesiredScript | null;
  problems: Problem[];
  varRefs: string[];
}

/** The empty lists most outcomes share (frozen: nothing is ever added to them). */
const NO_PROBLEMS = Object.freeze([]) as unknown as Problem[];
const NO_REFS = Object.freeze([]) as unknown as string[];

/** A script that uses secrets, left by a worker thread (which has no secret values) to the main thread. */
export const DEFERRED = 'deferred' as const;

/** What every chunk of a fleet's rendering shares. */
export interface ChunkEnv {
  sitesDir: string;
  fleetFile: string | null;
  maxScriptSize: number;
  /** The fleet file could not be read: an undefined variable is not reported (its error is that file's). */
  varsUnknown?: boolean;
  keep?: RenderOptions['keep'];
}

/** A site's state as rendering needs it: the name it was planned under, and its scripts' records. */
export interface ChunkSiteState {
  site: string;
  records: Record<string, ScriptRecord>;
}

/** Some sites' scripts to read (whole sites, only the scripts to read). */
export interface RenderChunk {
  sites: Array<{ site: SiteModel; state: ChunkSiteState | undefined }>;
}

/** What rendering needs besides the scripts: secret values ('defer': none here, leave such scripts), the checks. */
export interface RenderDeps {
  secrets: SecretSource | typeof DEFERRED;
  lint?: LintFn;
}

/**
 * Renders a share of the scripts to read in other threads (issue 18; src/workers/). Each worker
 * runs renderChunk with the same checks as the plan's (`lint`), and without secret values: a script
 * that uses secrets comes back DEFERRED and is rendered here. The outcomes are the same as
 * renderChunk's in this thread, so the plan is byte for byte the same.
 */
export interface RenderWorkers {
  /** Whether this many scripts to read are worth the threads. */
  wants(scripts: number): boolean;
  /** About how many scripts a chunk holds. */
  readonly chunkScripts: number;
  /** Every chunk's outcomes (see ChunkOutcomes); `local` renders a chunk in this thread (it takes a share too). */
  render(env: ChunkEnv, lint: boolean, chunks: readonly RenderChunk[], local: (chunk: RenderChunk) => Promise<ChunkOutcomes>): Promise<ChunkOutcomes>;
}

/** Read and render one chunk's scripts (its blobs in one batch). */
export async function renderChunk(reader: Pick<RepoReader, 'readBlobs'>, env: ChunkEnv, chunk: RenderChunk, deps: RenderDeps): Promise<ChunkOutcomes> {
  const texts = await BlobTexts.read(
    reader,
    chunk.sites.flatMap((s) => s.site.scripts),
  );
  const out: ChunkOutcomes = new Map();
  for (const { site, state } of chunk.sites) {
    const r = new SiteRenderer(env, state, site, deps, texts);
    out.set(
      site.id,
      site.scripts.map((src) => r.renderOutcome(src)),
    );
  }
  return out;
}

/** Renders one site's scripts that must be read. */
class SiteRenderer {
  // Most scripts of a site use the same (often no) variables: digest each combination once.
  private readonly inputs = new Map<string, string>();
  /** Where the script being rendered records its problems and the variables it names. */
  private problems: Problem[] = [];
  private varRefs: string[] = [];
  private readonly state: ChunkSiteState | undefined;

  constructor(
    private readonly env: ChunkEnv,
    state: ChunkSiteState | SiteState | undefined,
    private readonly site: SiteModel,
    private readonly deps: RenderDeps,
    private readonly texts: BlobTexts,
  ) {
    this.state = state && ('records' in state ? state : { site: state.site, records: state.scripts });
  }

  /** One script's outcome; DEFERRED when it uses secrets and this thread has none. */
  renderOutcome(src: ScriptSource): ScriptOutcome | typeof DEFERRED {
    // Most scripts have neither: they share one empty list (50,000 scripts, 100,000 fewer arrays).
    this.problems = NO_PROBLEMS;
    this.varRefs = NO_REFS;
    const script = this.render(src);
    if (script === DEFERRED) return DEFERRED;
    return { script, problems: this.problems, varRefs: this.varRefs };
  }

  private problem(...p: Problem[]): void {
    if (this.problems === NO_PROBLEMS) this.problems = [];
    this.problems.push(...p);
  }

  /** One script, or null when it has a problem (recorded in this.problems). */
  private render(src: ScriptSource): DesiredScript | null | typeof DEFERRED {
    const { site } = this;
    const content = this.texts.take(src);
    if ('file' in content) {
      this.problem({ ...content, site: site.name });
      return null;
    }
    const uses = this.usesOf(src, content.tpl);
    if (!uses) return null;
    const secrets = this.deps.secrets;
    if (secrets === DEFERRED) {
      if (uses.secrets.length) return DEFERRED;
    }
    const sources = secrets === DEFERRED ? noSecrets : secrets;
    const record = this.state?.records[src.file];
    if (this.secretLeftBehind(src, uses, sources)) return null;
    const digests = uses.secrets.length ? digestsFor(site, uses.secrets, sources, record) : NO_DIGESTS;
    // Values escaped for where they land; checks read a rendering with secret stand-ins.
    const rendered = renderScript({
      text: content.text,
      tpl: content.tpl,
      path: src.path,
      site,
      secrets: uses.secrets,
      secretValue: (n) => sources.get(site.name, n),
      missing: digests.missing.length > 0,
    });
    if (rendered.problems.length) {
      this.problem(...rendered.problems);
      return null;
    }
    const { display, body } = rendered;
    const fp = fingerprint(display, digests.digests);
    // A send in progress keeps the split it started with while its content is the same: a new
    // max_script_size applies from its next send (else parts that ran would be sent again).
    const resumeMax =
      record?.part?.max !== undefined && record.phase !== 'succeeded' && record.phase !== 'removed' && record.fingerprint === fp ? record.part.max : undefined;
    const maxChars = resumeMax ?? this.env.maxScriptSize;
    const parts = this.partsOf(src, body ?? display, maxChars);
    if (parts === null) return null;
    const inputs = this.inputsOf(uses, digests.digests);
    // The check cache knows a checked rendering by its blob, and by the render inputs when it is a template.
    const checkKey = content.tpl.templated ? `${src.blob}:${inputs}` : src.blob;
    const lint = this.deps.lint;
    const checked = lint ? lint(rendered.checked, site.lintRules, { raw: rendered.raw, target: site.lintTarget, key: checkKey }) : [];
    // Findings name the line of the file, not of the rendering (a section may have left lines out).
    const toSource = rendered.toSource;
    const findings = toSource && checked.length ? checked.map((f) => ({ ...f, ...toSource(f.line, f.column) })) : checked;
    const unchanged = record !== undefined && record.fingerprint === fp && record.phase === 'succeeded';
    const keep = this.env.keep;
    const keepBody = keep?.body !== false && !unchanged;
    return {
      path: src.path,
      file: src.file,
      blob: src.blob,
      size: src.size,
      group: src.group,
      fingerprint: fp,
      inputs,
      uses,
      secretDigests: digests.digests,
      secretsMissing: digests.missing,
      read: true,
      display: keep?.display === false ? undefined : display,
      body: keepBody ? body : undefined,
      parts: parts && {
        sizes: parts.map((p) => p.size),
        lines: parts.map((p) => [p.firstLine, p.lastLine]),
        texts: keepBody && body !== undefined ? parts.map((p) => p.text) : undefined,
        max: maxChars,
      },
      findings,
    };
  }

  /** The variables and secrets a template uses; null (problems recorded) when it is malformed or a variable is undefined. */
  private usesOf(src: ScriptSource, tpl: CompiledTemplate): Uses | null {
    const { site, env } = this;
    let bad = false;
    for (const p of tpl.problems) {
      this.problem({ file: src.path, line: p.line, column: p.column, site: site.name, message: p.message, hint: p.hint });
      bad = true;
    }
    const uses: Uses = { vars: [], secrets: [] };
    for (const ref of tpl.refs) {
      if (ref.kind === 'vars') {
        if (this.varRefs === NO_REFS) this.varRefs = [];
        this.varRefs.push(ref.name);
        if (!(ref.name in site.vars)) {
          bad = true;
          if (env.varsUnknown) continue;
          this.problem({
            file: src.path,
            line: ref.line,
            column: ref.column,
            site: site.name,
            message: `the variable "${ref.name}" is not defined for site ${site.name}`,
            hint: `define vars.${ref.name} in ${site.settingsFile}, in a group of the site or in ${env.fleetFile ?? join(env.sitesDir, FLEET_FILE)}`,
          });
          bad = true;
        } else if (!uses.vars.includes(ref.name)) uses.vars.push(ref.name);
      } else if (ref.kind === 'secrets' && !uses.secrets.includes(ref.name)) uses.secrets.push(ref.name);
    }
    if (bad) return null;
    uses.vars.sort();
    uses.secrets.sort();
    return uses;
  }

  /**
   * The parts the script is sent in: undefined when it fits in one job, null (a problem recorded)
   * when it cannot be split. The limit applies to what is sent, so the body (secrets included) is
   * split when it is known, else the display (secrets as placeholders).
   */
  private partsOf(src: ScriptSource, sent: string, maxChars: number): readonly ScriptPart[] | undefined | null {
    // UTF-16 length is at least the code-point length: count code points only when it matters.
    if (sent.length <= maxChars || codePointLength(sent) <= maxChars) return undefined;
    const split = splitParts(sent, maxChars);
    if (split === undefined) return undefined;
    if ('reason' in split) {
      this.problem({
        file: src.path,
        line: split.line,
        column: 1,
        site: this.site.name,
        message: `renders to ${codePointLength(sent)} characters, over max_script_size (${maxChars}), and cannot be split into jobs: ${split.reason}`,
        hint: `restructure those lines, or raise max_script_size in ${FLEET_FILE} if your SDX accepts longer scripts`,
      });
      return null;
    }
    return split;
  }

  /**
   * A renamed site folder whose own secret is still set under its old name: the fleet's value would
   * silently go to its router instead. A problem (recorded), so that nothing is sent.
   */
  private secretLeftBehind(src: ScriptSource, uses: Uses, secrets: SecretSource): boolean {
    const old = this.state?.site;
    const { site } = this;
    if (!old || old === site.name || !secrets.forSite) return false;
    const left = uses.secrets.filter((n) => secrets.forSite!(old, n) && !secrets.forSite!(site.name, n));
    for (const n of left) {
      this.problem({
        file: src.path,
        site: site.name,
        message: `the site was renamed from ${old} to ${site.name}, and its own value of secret "${n}" is still set for ${old}; the fleet's value would be sent to its router instead`,
        hint: `set the secret for ${site.name} (RGO_SECRET_<SITE>__${n.toUpperCase()} or sites.${site.name} in the secrets file), then remove the one for ${old}`,
      });
    }
    return left.length > 0;
  }

  private inputsOf(uses: Uses, digests: Record<string, string>): string {
    const key = `${uses.vars.join(',')}|${uses.secrets.length ? JSON.stringify(uses.secrets.map((n) => [n, digests[n]])) : ''}`;
    let v = this.inputs.get(key);
    if (v === undefined) this.inputs.set(key, (v = inputsDigest(this.site, uses, digests)));
    return v;
  }
}

/** A variable defined in the site's own site.yaml that none of its scripts uses (when every script was read). */
function unusedVarWarnings(site: SiteModel, usedVars: ReadonlySet<string>): Problem[] {
  const warnings: Problem[] = [];
  for (const v of Object.keys(site.vars)) {
    if (usedVars.has(v) || site.varOrigins[v] !== site.settingsFile) continue;
    warnings.push({
      file: site.settingsFile,
      site: site.name,
      message: `the variable "${v}" is not used by any script of ${site.name}`,
      hint: `remove it, or use it as \${{ vars.${v} }}`,
    });
  }
  return warnings;
}

/**
 * Sites whose names map to the same environment prefix (hq-core, hq.core and hq_core all read
 * RGO_SECRET_HQ_CORE__*) while such per-site secrets are set: a secret meant for one router would go
 * to the other's. Refused, naming them.
 */
function secretScopeClashes(model: FleetModel, secrets: SecretSource): Problem[] {
  if (!secrets.envScope) return [];
  const byScope = new Map<string, SiteModel[]>();
  for (const site of model.sites) {
    const scope = secrets.envScope(site.name);
    if (scope) byScope.set(scope, [...(byScope.get(scope) ?? []), site]);
  }
  const problems: Problem[] = [];
  for (const [scope, sites] of byScope) {
    if (sites.length < 2) continue;
    for (const site of sites) {
      problems.push({
        file: site.settingsFile,
        site: site.name,
        message: `sites ${sites.map((s) => s.name).join(', ')} all take their own secrets from ${scope}*: a secret meant for one would be sent to the others' routers`,
        hint: 'rename the site folders apart (letters and digits differ, not only . - _), or give these sites their secrets in --secrets-file, keyed by the exact site name',
      });
    }
  }
  return problems;
}

/** The parts of a script over the limit, or its refusal; undefined when it is one part after all. */
function splitParts(text: string, maxChars: number): readonly ScriptPart[] | { line: number; reason: string } | undefined {
  const r = splitScript(text, maxChars);
  if (!r.ok) return { line: r.line, reason: r.reason };
  return r.parts.length > 1 ? r.parts : undefined;
}

const NO_DIGESTS: Digests = Object.freeze({ digests: Object.freeze({}) as Record<string, string>, missing: [] as string[] }) as never;

function digestsFor(site: SiteModel, names: readonly string[], secrets: SecretSource, record: ScriptRecord | undefined): Digests {
  const digests: Record<string, string> = {};
  const missing: string[] = [];
  for (const n of names) {
    const value = secrets.get(site.name, n);
    if (value === undefined) missing.push(n);
    // Without the value, or without the key to digest it, a rotation cannot be told: assume the
    // recorded digest.
    if (value === undefined || secrets.digestKey === undefined) digests[n] = record?.secret_digests?.[n] ?? 'unknown';
    else digests[n] = secretDigest(n, value, secrets.digestKey);
  }
  return { digests, missing };
}

function inputsDigest(site: SiteModel, uses: Uses, digests: Record<string, string>): string {
  const parts = [`site=${site.name}/${site.id}`];
  for (const v of uses.vars) parts.push(`v:${v}=${JSON.stringify(site.vars[v] ?? null)}`);
  for (const s of uses.secrets) parts.push(`s:${s}=${digests[s]}`);
  return sha256(parts.join('\n')).slice(0, 32);
}

function firstNul(buf: Buffer): { line: number; column: number } {
  const i = buf.indexOf(0);
  const before = buf.subarray(0, i);
  const line = before.toString('latin1').split('\n').length;
  return { line, column: i - before.lastIndexOf(10) };
}

function firstBadUtf8(buf: Buffer): { line: number; column?: number } {
  const lines = buf.toString('latin1').split('\n');
  const decode = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < lines.length; i++) {
    try {
      decode.decode(Buffer.from(lines[i]!, 'latin1'));
    } catch {
      return { line: i + 1 };
    }
  }
  return { line: 1 };
}
