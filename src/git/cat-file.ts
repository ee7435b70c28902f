// Reads any number of objects with ONE `git cat-file --batch` process: names go in on stdin, and
// the answers come back framed as `<oid> <type> <size>\n<size bytes>\n` (or `<name> missing\n`),
// in the order asked. Contents are copied straight into buffers of the announced size, so binary
// content (NULs, newlines, invalid UTF-8) comes back byte for byte.
import type { Logger } from '../core/logger.js';
import { formatCommand, gitError, spawnError, spawnGit } from './run.js';

export interface GitObject {
  oid: string;
  type: string;
  content: Buffer;
}

export interface CatFileOptions {
  cwd: string;
  logger?: Logger;
}

/**
 * Read objects by name (an oid, or `<rev>:<path>`). The map has an entry for every distinct name:
 * the object, or null when git answered `missing` (or `ambiguous`).
 */
export function catFileBatch(names: readonly string[], opts: CatFileOptions): Promise<Map<string, GitObject | null>> {
  const wanted = [...new Set(names)];
  const result = new Map<string, GitObject | null>();
  if (wanted.length === 0) return Promise.resolve(result);
  for (const n of wanted) {
    if (n === '' || n.includes('\n')) throw new TypeError(`cannot ask git cat-file for the object name ${JSON.stringify(n)}`);
  }
  const args = ['cat-file', '--batch', '--buffer'];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawnGit(args, opts);
    const err: Buffer[] = [];
    let failure: Error | undefined;
    let spawnFailure: NodeJS.ErrnoException | undefined;

    // Parser state: reading a header line, the body of an object, or the LF after a body.
    let state: 'header' | 'body' | 'lf' = 'header';
    let headerParts: Buffer[] = [];
    let current: GitObject | undefined;
    let filled = 0;
    let index = 0;

    const answer = (value: GitObject | null) => {
      const name = wanted[index++];
      if (name === undefined) throw new Error('git cat-file answered more objects than were asked for');
      result.set(name, value);
    };

    const onData = (chunk: Buffer) => {
      let pos = 0;
      while (pos < chunk.length) {
        if (state === 'header') {
          const nl = chunk.indexOf(10, pos);
          if (nl < 0) {
            headerParts.push(chunk.subarray(pos));
            return;
          }
          headerParts.push(chunk.subarray(pos, nl));
          const header = Buffer.concat(headerParts).toString('utf8');
          headerParts = [];
          pos = nl + 1;
          const m = /^([0-9a-f]{40,64}) (\S+) (\d+)$/.exec(header);
          if (!m) {
            // `<name> missing`, `<name> ambiguous`: the name may contain spaces, the verdict cannot.
            answer(null);
            continue;
          }
          const size = Number(m[3]);
          current = { oid: m[1]!, type: m[2]!, content: Buffer.allocUnsafe(size) };
          filled = 0;
          state = size === 0 ? 'lf' : 'body';
        } else if (state === 'body') {
          const obj = current!;
          const n = Math.min(obj.content.length - filled, chunk.length - pos);
          chunk.copy(obj.content, filled, pos, pos + n);
          filled += n;
          pos += n;
          if (filled === obj.content.length) state = 'lf';
        } else {
          if (chunk[pos] !== 10) throw new Error('git cat-file output is out of step (no newline after an object)');
          pos += 1;
          answer(current!);
          current = undefined;
          state = 'header';
        }
      }
    };

    child.stdout.on('data', (chunk: Buffer) => {
      if (failure) return;
      try {
        onData(chunk);
      } catch (e) {
        failure = e as Error;
        child.kill();
      }
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => (spawnFailure = e));
    child.stdin.on('error', () => {});
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8');
      opts.logger?.debug({ command: formatCommand(args), objects: wanted.length, exitCode: code, ms: Math.round(performance.now() - started) }, 'git');
      if (spawnFailure) return reject(spawnError(args, spawnFailure, opts.cwd));
      if (failure) return reject(gitError(args, code, `${failure.message}\n${stderr}`, failure));
      if (code !== 0) return reject(gitError(args, code, stderr));
      if (index !== wanted.length || state !== 'header') {
        return reject(gitError(args, code, `git cat-file answered ${index} of ${wanted.length} objects\n${stderr}`));
      }
      resolve(result);
    });
    child.stdin.end(`${wanted.join('\n')}\n`);
  });
}
