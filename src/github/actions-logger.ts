// The Action's logger: the core's small Logger interface over the runner's log (core.info and
// core.debug), one line per entry, every line scrubbed of secrets. No pino transport: those run in
// worker threads and do not survive bundling into one file. Warnings are plain log lines, not
// annotations: the 10 warning annotations a step gets are kept for script findings.
import type { Logger } from '../core/logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface ActionLogSink {
  info(line: string): void;
  /** Shown only when the run has step debugging on. */
  debug(line: string): void;
}

export function createActionLogger(sink: ActionLogSink, redact: () => (s: string) => string, level: LogLevel = 'info', bindings: object = {}): Logger {
  const line = (lvl: LogLevel, obj: object, msg?: string) => {
    const fields = Object.entries({ ...bindings, ...obj })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) ? v : JSON.stringify(v instanceof Error ? v.message : v)}`)
      .join(' ');
    const prefix = lvl === 'warn' ? 'warning: ' : lvl === 'error' ? 'error: ' : '';
    return redact()(`${prefix}${msg ?? ''}${fields ? (msg ? '  ' : '') + fields : ''}`);
  };
  const at = (lvl: LogLevel) => (obj: object, msg?: string) => {
    if (RANK[lvl] < RANK[level]) {
      if (lvl === 'debug') sink.debug(line(lvl, obj, msg));
      return;
    }
    (lvl === 'debug' ? sink.debug : sink.info)(line(lvl, obj, msg));
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (b: object) => createActionLogger(sink, redact, level, { ...bindings, ...b }),
  };
}

export function parseLogLevel(value: string | undefined): LogLevel {
  return value === 'debug' || value === 'warn' || value === 'error' ? value : 'info';
}
