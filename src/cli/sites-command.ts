// `sites`: the SDX sites the token can reach (name, id, RouterOS version, model, online, last seen)
// and the folder `init` gives each. Read only: never sends a job.
import { sitesToJson, sitesToText } from '../report/sites.js';
import { opt, parseOptions, type Spec } from '../wiring/options.js';
import { writeJson } from './commands.js';
import type { Context } from './context.js';
import { readSites } from './site-list.js';

export const SITES_SPEC = {
  format: opt.oneOf(['text', 'json'] as const, 'text'),
  apiUrl: opt.string(),
  /** Read each site's model and last-seen time (one request a site). Default true. */
  details: opt.bool(true),
  logLevel: opt.string(),
} satisfies Spec;

export async function sitesCommand(ctx: Context, raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(SITES_SPEC, raw);
  const list = await readSites(ctx, { details: opts.details });
  if (opts.format === 'json') {
    writeJson((s) => ctx.out(s), sitesToJson(list.rows, list.apiUrl));
    return 0;
  }
  ctx.out(sitesToText(list.rows, list.apiUrl, ctx.style, Date.now()));
  for (const c of list.collisions)
    ctx.out(ctx.style.dim(`"${c.name}" and "${c.collision!.with}" both make the folder ${c.collision!.base}: ${c.name}'s is ${c.folder}\n`));
  return 0;
}
