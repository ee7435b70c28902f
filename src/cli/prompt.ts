// Asking the person at the terminal: only when both stdin and stderr are terminals (never in CI,
// never when piped); `--yes` answers for them.
import { createInterface } from 'node:readline/promises';
import type { CliIo } from './io.js';

/** Whether a question can be asked at all. */
export function canAsk(io: CliIo): boolean {
  return !!io.stdin?.isTTY && !!io.stderr.isTTY;
}

/** Ask a yes/no question on stderr; true only for "yes" or "y". */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  if (!io.stdin) return false;
  const rl = createInterface({ input: io.stdin, output: { write: (s: string) => io.stderr.write(s) } as unknown as NodeJS.WritableStream, terminal: false });
  try {
    const onAbort = () => rl.close();
    io.signal?.addEventListener('abort', onAbort, { once: true });
    // The input closing (Ctrl-D, end of a pipe) is no answer: never yes. Without this the question
    // would never settle and the process would end with nothing said (exit 0).
    const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')));
    const answer = await Promise.race([rl.question(question).catch(() => ''), closed]);
    io.signal?.removeEventListener('abort', onAbort);
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
