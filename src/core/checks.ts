// Script checks wired into the model (plan, apply, validate) and into `validate FILE...`.
import { relative, resolve } from 'node:path';
import { lintScript } from '../lint/index.js';
import type { LintFn } from './model.js';
import { compileTemplate } from './template.js';

export interface FileFinding {
  path: string;
  line: number;
  column: number;
  severity: 'error' | 'warning';
  rule: string;
  message: string;
  hint?: string;
  site?: string;
}

export const lintHook: LintFn = (text, rules, template) => lintScript(text, { rules, rawValues: template?.raw });

/** Check script files from the working tree (pre-commit hooks, editors). */
export async function lintFiles(files: string[], cwd: string, read: (path: string) => Promise<Buffer>): Promise<FileFinding[]> {
  const out: FileFinding[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (const f of files) {
    const abs = resolve(cwd, f);
    const path = relative(cwd, abs) || f;
    let buf: Buffer;
    try {
      buf = await read(abs);
    } catch (e) {
      out.push({
        path,
        line: 0,
        column: 0,
        severity: 'error',
        rule: 'input',
        message: `cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      });
      continue;
    }
    if (buf.includes(0)) {
      out.push({ path, line: 0, column: 0, severity: 'error', rule: 'input', message: 'contains a NUL byte: it is a binary file, not a RouterOS script' });
      continue;
    }
    let text: string;
    try {
      text = decoder.decode(buf);
    } catch {
      out.push({ path, line: 0, column: 0, severity: 'error', rule: 'input', message: 'is not valid UTF-8' });
      continue;
    }
    const source = text.replace(/^\uFEFF/, '');
    const raw = source.includes('${{') ? compileTemplate(source).refs.filter((r) => r.raw) : [];
    for (const f2 of lintScript(source, { rawValues: raw })) out.push({ path, ...f2 });
  }
  return out;
}
