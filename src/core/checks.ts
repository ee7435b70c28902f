// Script checks wired into the model (plan, apply, validate) and into `validate FILE...`. Pure: the
// RouterOS command tree comes from a loader the wiring gives (src/wiring/checks.ts), read on first use.
import { relative, resolve } from 'node:path';
import { routerOsTarget, type CommandTree } from '../lint/command-tree.js';
import { lintScript, type Level, type RouterOsTarget } from '../lint/index.js';
import { parseRouterOsVersion } from '../lint/routeros-version.js';
import type { LintFn } from './model.js';
import { compileTemplate } from './template.js';
import { targetVersion, type LintTarget } from './routeros-target.js';

export interface FileFinding {
  path: string;
  line: number;
  column: number;
  /** error, lockout or advice (see lint/rules.ts); `input` problems are errors, or advice for warnings. */
  level: Level;
  severity: 'error' | 'warning';
  rule: string;
  message: string;
  hint?: string;
  site?: string;
}

export interface Checks {
  /** The model's lint hook (plan, apply, validate). */
  readonly lintHook: LintFn;
  /**
   * The command tree view a site's scripts are checked against (the data set is read on first use).
   * Undefined when they are not checked against one: RouterOS 6, or a version that cannot be read.
   */
  commandTarget(target: LintTarget | undefined): RouterOsTarget | undefined;
  /** Check script files from the working tree (pre-commit hooks, editors). */
  lintFiles(files: string[], cwd: string, read: (path: string) => Promise<Buffer>, target?: LintTarget): Promise<FileFinding[]>;
}

/** The checks over a command tree loaded by `loadTree` when first needed. */
export function createChecks(loadTree: () => CommandTree): Checks {
  // Resolved targets by version and packages: a fleet has a few of them, and thousands of scripts.
  const targets = new Map<string, RouterOsTarget | undefined>();
  const commandTarget = (target: LintTarget | undefined): RouterOsTarget | undefined => {
    const version = targetVersion(target);
    const key = `${version ?? ''}\0${target?.packages?.join(',') ?? '*'}`;
    if (targets.has(key)) return targets.get(key);
    const parsed = version === undefined ? undefined : parseRouterOsVersion(version);
    const resolved = version !== undefined && !parsed ? undefined : routerOsTarget(loadTree(), parsed, target?.packages).target;
    targets.set(key, resolved);
    return resolved;
  };
  return {
    lintHook: (text, rules, ctx) => lintScript(text, { rules, rawValues: ctx?.raw, routeros: commandTarget(ctx?.target) }),
    commandTarget,
    lintFiles: (files, cwd, read, target) => lintFiles(files, cwd, read, commandTarget(target)),
  };
}

async function lintFiles(files: string[], cwd: string, read: (path: string) => Promise<Buffer>, routeros: RouterOsTarget | undefined): Promise<FileFinding[]> {
  const out: FileFinding[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (const f of files) {
    const abs = resolve(cwd, f);
    const path = relative(cwd, abs) || f;
    let buf: Buffer;
    try {
      buf = await read(abs);
    } catch (e) {
      out.push(fileError(path, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'})`));
      continue;
    }
    if (buf.includes(0)) {
      out.push(fileError(path, 'contains a NUL byte: it is a binary file, not a RouterOS script'));
      continue;
    }
    let text: string;
    try {
      text = decoder.decode(buf);
    } catch {
      out.push({ path, line: 0, column: 0, level: 'error', severity: 'error', rule: 'input', message: 'is not valid UTF-8' });
      continue;
    }
    const source = text.replace(/^\uFEFF/, '');
    const raw = source.includes('${{') ? compileTemplate(source).refs.filter((r) => r.raw) : [];
    for (const f2 of lintScript(source, { rawValues: raw, routeros })) out.push({ path, ...f2 });
  }
  return out;
}

/** A file that cannot be checked at all: an error, with no line. */
function fileError(path: string, message: string): FileFinding {
  return { path, line: 0, column: 0, level: 'error', severity: 'error', rule: 'input', message };
}
