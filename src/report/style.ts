// Colours for people: only on a terminal, never when NO_COLOR is set (https://no-color.org).
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const plainStyle: Style = { bold: String, dim: String, green: String, yellow: String, red: String, cyan: String };
const ansiStyle: Style = { bold: wrap(1, 22), dim: wrap(2, 22), green: wrap(32, 39), yellow: wrap(33, 39), red: wrap(31, 39), cyan: wrap(36, 39) };

export function makeStyle(opts: { isTTY: boolean; env: Record<string, string | undefined> }): Style {
  const noColor = opts.env.NO_COLOR !== undefined && opts.env.NO_COLOR !== '';
  const force = opts.env.FORCE_COLOR !== undefined && opts.env.FORCE_COLOR !== '0';
  return (opts.isTTY && !noColor) || (force && !noColor) ? ansiStyle : plainStyle;
}

export { plainStyle };
