// What `sites` and `init` read from SDX: the token's sites (one request, which also checks the URL
// and the token: a wrong one fails at once, exit 3), then each site's model and last-seen time (one
// request a site, a few at a time, within the client's rate limit). Read only: no job is sent.
import { displayApiUrl } from '../core/api-url.js';
import type { SdxClient, Site, SiteSummary } from '../core/jobs.js';
import { siteFolders, type SiteFolder } from '../core/site-folders.js';
import type { SiteRow } from '../report/sites.js';
import type { Context } from './context.js';

/** Site detail reads in flight at once. */
const DETAIL_CONCURRENCY = 8;

export interface SiteList {
  rows: SiteRow[];
  /** Sites whose name made the same folder as another's. */
  collisions: SiteFolder[];
  /** The API base URL, as shown. */
  apiUrl: string;
}

/** The token's sites with their folders, sorted by folder; with `details`, their model and last-seen time. */
export async function readSites(ctx: Context, opts: { details: boolean }): Promise<SiteList> {
  const client = await ctx.runtime.sdxClient();
  try {
    const summaries = await client.listSites();
    const details = opts.details ? await readDetails(ctx, client, summaries) : new Map<string, Site>();
    const folders = siteFolders(summaries);
    const byId = new Map(summaries.map((s) => [s.id.toLowerCase(), s]));
    const rows = folders.map((f): SiteRow => {
      const s = byId.get(f.id)!;
      const d = details.get(f.id);
      return {
        id: s.id,
        name: s.name,
        folder: f.folder,
        software_version: d?.software_version ?? s.software_version ?? null,
        model: d?.model ?? null,
        has_pulse: d?.has_pulse ?? s.has_pulse,
        last_seen_at: d?.last_seen_at ?? null,
      };
    });
    rows.sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0));
    return { rows, collisions: folders.filter((f) => f.collision), apiUrl: displayApiUrl(ctx.runtime.apiUrl.url) };
  } finally {
    await client.close();
  }
}

/** GET /sites/{id} of every site, a few at a time; a site whose details cannot be read is listed without them. */
async function readDetails(ctx: Context, client: SdxClient, sites: readonly SiteSummary[]): Promise<Map<string, Site>> {
  const out = new Map<string, Site>();
  const queue = [...sites];
  const failed: string[] = [];
  const worker = async () => {
    for (let s = queue.shift(); s; s = queue.shift()) {
      try {
        out.set(s.id.toLowerCase(), await client.getSite(s.id));
      } catch (e) {
        failed.push(`${s.name || s.id}: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DETAIL_CONCURRENCY, sites.length) }, worker));
  if (failed.length) ctx.err(`warning: the model and last-seen time of ${failed.length} site(s) could not be read:\n  ${failed.join('\n  ')}\n`);
  return out;
}
