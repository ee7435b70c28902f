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
  if (wanted.length === 0) return Promise.resolve(new Map());
  for (const n of wanted) {
    if (n === '' || n.includes('\n')) throw new TypeError(`cannot ask git cat-file for the object name ${JSON.stringify(n)}`);
  }
  const args = ['cat-file', '--batch', '--buffer'];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawnGit(args, opts);
    const parser = new CatFileParser(wanted);
    const err: Buffer[] = [];
    let failure: Error | undefined;
    let spawnFailure: NodeJS.ErrnoException | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      if (failure) return;
      try {
        parser.push(chunk);
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
      if (!parser.complete()) return reject(gitError(args, code, `git cat-file answered ${parser.answered} of ${wanted.length} objects\n${stderr}`));
      resolve(parser.result);
    });
    child.stdin.end(`${wanted.join('\n')}\n`);
  });
}

/**
 * The `git cat-file --batch` output, parsed as it arrives in chunks: a header line, then the body
 * of an object, then the LF after a body. Throws when the output is out of step.
 */
export class CatFileParser {
  /** Every name asked for, answered so far: the object, or null for a missing one. */
  readonly result = new Map<string, GitObject | null>();
  /** How many names have been answered. */
  answered = 0;
  private state: 'header' | 'body' | 'lf' = 'header';
  private headerParts: Buffer[] = [];
  private current: GitObject | undefined;
  private filled = 0;

  /** @param wanted the names in the order they were asked */
  constructor(private readonly wanted: readonly string[]) {}

  /** Every name answered, and nothing half read. */
  complete(): boolean {
    return this.answered === this.wanted.length && this.state === 'header';
  }

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.state === 'header') {
        const nl = chunk.indexOf(10, pos);
        if (nl < 0) {
          this.headerParts.push(chunk.subarray(pos));
          return;
        }
        this.headerParts.push(chunk.subarray(pos, nl));
        pos = nl + 1;
        this.header();
      } else if (this.state === 'body') {
        const obj = this.current!;
        const n = Math.min(obj.content.length - this.filled, chunk.length - pos);
        chunk.copy(obj.content, this.filled, pos, pos + n);
        this.filled += n;
        pos += n;
        if (this.filled === obj.content.length) this.state = 'lf';
      } else {
        if (chunk[pos] !== 10) throw new Error('git cat-file output is out of step (no newline after an object)');
        pos += 1;
        this.answer(this.current!);
        this.current = undefined;
        this.state = 'header';
      }
    }
  }

  /** A complete header line: an object follows, or the name is missing. */
  private header(): void {
    const header = Buffer.concat(this.headerParts).toString('utf8');
    this.headerParts = [];
    const m = /^([0-9a-f]{40,64}) (\S+) (\d+)$/.exec(header);
    if (!m) {
      // `<name> missing`, `<name> ambiguous`: the name may contain spaces, the verdict cannot.
      this.answer(null);
      return;
    }
    const size = Number(m[3]);
    this.current = { oid: m[1]!, type: m[2]!, content: Buffer.allocUnsafe(size) };
    this.filled = 0;
    this.state = size === 0 ? 'lf' : 'body';
  }

  private answer(value: GitObject | null): void {
    const name = this.wanted[this.answered++];
    if (name === undefined) throw new Error('git cat-file answered more objects than were asked for');
    this.result.set(name, value);
  }
}

/** Reads batches of objects, one batch at a time, from one long-lived `git cat-file --batch` process. */
export interface CatFileSession {
  /** As catFileBatch, from the session's process. */
  read(names: readonly string[]): Promise<Map<string, GitObject | null>>;
  /** End the process (it also ends with this one: its stdin closes). */
  close(): void;
}

/**
 * Issue 18: a plan that reads its scripts a chunk at a time asks one process for every chunk, not
 * one process per chunk (starting a process from a large one costs milliseconds of the main
 * thread). Batches go in one after the other; a batch is written only once the last is answered,
 * so the answers never interleave. Without --buffer, git writes each object as it comes, so each
 * batch is answered without closing stdin. A failure fails the batch in flight and every later one.
 */
export function openCatFileSession(opts: CatFileOptions): CatFileSession {
  const args = ['cat-file', '--batch'];
  let child: ReturnType<typeof spawnGit> | undefined;
  let broken: Error | undefined;
  let current: { parser: CatFileParser; resolve(m: Map<string, GitObject | null>): void; reject(e: Error): void } | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const fail = (e: Error) => {
    broken ??= e;
    current?.reject(broken);
    current = undefined;
  };
  const start = () => {
    const c = spawnGit(args, opts);
    const err: Buffer[] = [];
    c.stdout.on('data', (chunk: Buffer) => {
      if (!current) return fail(gitError(args, null, 'git cat-file answered what was not asked'));
      try {
        current.parser.push(chunk);
      } catch (e) {
        return fail(gitError(args, null, (e as Error).message, e as Error));
      }
      if (current.parser.complete()) {
        const done = current;
        current = undefined;
        idle(c, true);
        done.resolve(done.parser.result);
      }
    });
    c.stderr.on('data', (b: Buffer) => err.push(b));
    c.stdin.on('error', () => {});
    c.on('error', (e: NodeJS.ErrnoException) => fail(spawnError(args, e, opts.cwd)));
    c.on('close', (code) => {
      child = undefined;
      fail(gitError(args, code, Buffer.concat(err).toString('utf8') || 'git cat-file ended'));
    });
    return c;
  };
  // Between batches the process is never what keeps this one running; during one, it is.
  const idle = (c: ReturnType<typeof spawnGit>, yes: boolean) => {
    if (yes) c.unref();
    else c.ref();
    for (const s of [c.stdin, c.stdout, c.stderr] as unknown as Array<{ ref?(): void; unref?(): void }>) {
      if (yes) s.unref?.();
      else s.ref?.();
    }
  };
  return {
    read(names) {
      const wanted = [...new Set(names)];
      if (wanted.length === 0) return Promise.resolve(new Map());
      for (const n of wanted) {
        if (n === '' || n.includes('\n')) throw new TypeError(`cannot ask git cat-file for the object name ${JSON.stringify(n)}`);
      }
      const batch = queue.then(
        () =>
          new Promise<Map<string, GitObject | null>>((resolve, reject) => {
            if (broken) return reject(broken);
            child ??= start();
            idle(child, false);
            current = { parser: new CatFileParser(wanted), resolve, reject };
            child.stdin.write(`${wanted.join('\n')}\n`);
          }),
      );
      queue = batch.catch(() => {});
      return batch;
    },
    close() {
      broken ??= new Error('the git cat-file session is closed');
      child?.stdin.end();
      child = undefined;
    },
  };
}
