// `--listen host:port`, as the sandbox and the daemon take it.
import { InputError } from './errors.js';

const DEFAULT_HOST = '127.0.0.1';

/** `host:port`, `:port`, `port` or `[::1]:port` -> { host, port }. Host defaults to 127.0.0.1. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:(?:\[([^\]]+)\]|([^:[\]]*)):)?(\d+)$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new InputError(`--listen ${JSON.stringify(value)} is not host:port (for example 127.0.0.1:8787, or :0 for any free port)`);
  }
  return { host: m[1] ?? (m[2] || DEFAULT_HOST), port };
}
