// What the CLI is given by its caller: the process (main.ts) or a test running it in-process.
export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIo {
  cwd: string;
  env: Record<string, string | undefined>;
  stdout: OutStream;
  stderr: OutStream;
  /** Where answers to questions come from (a terminal); absent: nothing is ever asked. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Aborted on SIGINT/SIGTERM (watch, sandbox and apply stop cleanly). */
  signal?: AbortSignal;
}
