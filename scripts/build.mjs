// Bundles the entry points with esbuild. The CLI and the benchmark go to build/ (not committed);
// the GitHub Action goes to dist/index.js, which is committed because the runner executes it as is.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const banner = {
  // CommonJS dependencies bundled into ESM still call require(); give them one.
  js: "import { createRequire as __rgoCreateRequire } from 'node:module'; const require = __rgoCreateRequire(import.meta.url);",
};
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', banner, logLevel: 'warning', legalComments: 'none' };

const only = process.argv[2];
// The CLI is split: commands load what they need (undici, the sandbox, octokit) only when run, so
// `plan` starts fast. The Action stays one file (GitHub runs it as committed).
const split = { splitting: true, outdir: 'build', entryNames: '[name]', chunkNames: 'chunks/[name]-[hash]' };
// The plan's worker threads (issue 18) run a file of their own, next to the entry that starts them:
// build/plan-worker.js for the CLI (and the tests), dist/plan-worker.js for the Action.
const actionOut = process.env.RGO_ACTION_OUTFILE ?? 'dist/index.js';
const jobs = [
  { entryPoints: { cli: 'src/cli/main.ts', 'plan-worker': 'src/workers/plan-worker.ts' }, ...split, name: 'cli' },
  { entryPoints: { bench: 'bench/bench.ts' }, ...split, name: 'bench' },
  { entryPoints: ['src/action/index.ts'], outfile: actionOut, name: 'action', target: 'node24' },
  { entryPoints: ['src/workers/plan-worker.ts'], outfile: join(dirname(actionOut), 'plan-worker.js'), name: 'action', target: 'node24' },
].filter((j) => (!only || j.name === only) && Object.values(j.entryPoints).every((e) => existsSync(e)));

await Promise.all(jobs.map(({ name, ...opts }) => build({ ...common, ...opts })));
