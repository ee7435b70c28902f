// The RouterOS command data shipped with the package (data/routeros-commands.json), read and parsed
// the first time a check needs it, then kept. It is found from the running module: src/assets/ in
// the tests, build/ and build/chunks/ for the CLI, dist/ for the GitHub Action; each has the
// package's data/ folder one or two levels up.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommandTree, type CommandData } from '../lint/command-tree.js';

export const DATA_FILE = 'routeros-commands.json';

let cached: CommandTree | undefined;

/** Where the data file is, or undefined when it cannot be found. */
export function commandDataPath(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 3; up++) {
    const candidate = join(dir, '..', 'data', DATA_FILE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

/** The command tree of every RouterOS version in the data set. Throws when the package lacks its data file. */
export function loadCommandTree(): CommandTree {
  if (cached) return cached;
  const path = commandDataPath();
  if (!path) throw new Error(`the RouterOS command data (data/${DATA_FILE}) is missing from this installation of routeros-gitops; reinstall it`);
  cached = new CommandTree(JSON.parse(readFileSync(path, 'utf8')) as CommandData);
  return cached;
}
