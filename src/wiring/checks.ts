// The script checks with the RouterOS command data of this installation (read on first use).
import { loadCommandTree } from '../assets/command-data.js';
import { createChecks } from '../core/checks.js';

export const { lintHook, commandTarget, lintFiles } = createChecks(loadCommandTree);
export type { FileFinding } from '../core/checks.js';
