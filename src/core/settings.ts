// The settings of the two YAML files users keep (sites/routeros-gitops.yaml and
// sites/<site>/site.yaml): names, defaults and how layers merge. Their zod definitions, which
// validate the files and generate the published JSON Schemas, are in settings-schema.ts, loaded
// only when a file has to be parsed (a plan whose settings files are all in the parse cache, or
// taken from the plan snapshot, never loads zod).
export type { FleetSettings, SiteSettings, GroupSettings, VarValue } from './settings-schema.js';

export const DEFAULT_API_URL = 'https://v1.api.altostrat.io';
export const DEFAULT_WEB_URL = 'https://app.altostrat.io';
export const DEFAULT_DESCRIPTION = 'gitops {site}: {path} @{sha}';
export const FLEET_FILE = 'routeros-gitops.yaml';
export const SITE_FILE = 'site.yaml';
/** Folder (inside the sites directory) holding one folder of shared scripts per group. */
export const GROUPS_DIR = '_groups';

/** Site, group and variable names: letters, digits, '.', '_' and '-', starting with a letter or digit. */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const VAR_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** SDX ids are UUIDs (8-4-4-4-12 hexadecimal digits). */
// Spelled with both cases (no flag), as the published JSON Schemas need it.
export const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The settings that apply to one site's jobs once defaults, groups and the site are merged. */
export interface JobSettings {
  needs_ack: boolean;
  backup: boolean;
  express: boolean;
  description: string;
  timeout: number;
}

/** Whether a value read back from a file (the plan snapshot, the state's plan index) is job settings. */
export function isJobSettings(v: unknown): v is JobSettings {
  const s = v as JobSettings | null;
  return (
    !!s &&
    typeof s === 'object' &&
    typeof s.needs_ack === 'boolean' &&
    typeof s.backup === 'boolean' &&
    typeof s.express === 'boolean' &&
    typeof s.description === 'string' &&
    typeof s.timeout === 'number' &&
    Number.isFinite(s.timeout)
  );
}

export const JOB_DEFAULTS: JobSettings = { needs_ack: true, backup: false, express: false, description: DEFAULT_DESCRIPTION, timeout: 600 };

export interface FleetDefaults {
  concurrency: number;
  /** The fleet file's api_url, or null: only a pin of the operator's URL (see core/api-url.ts). */
  api_url: string | null;
  web_url: string;
  rate_limit: number;
  max_script_size: number;
  status_limit: number;
  /** Seconds SDX is trusted to remember an idempotency key; an older intent is looked up before it is sent again. */
  idempotency_retention: number;
}

export const FLEET_DEFAULTS: FleetDefaults = {
  concurrency: 4,
  api_url: null,
  web_url: DEFAULT_WEB_URL,
  rate_limit: 60,
  max_script_size: 10_000,
  status_limit: 50,
  idempotency_retention: 86_400,
};

/** Merge job settings: defaults, then each layer in order (later wins). */
export function mergeJobSettings(...layers: Array<Partial<JobSettings> | undefined>): JobSettings {
  const out: JobSettings = { ...JOB_DEFAULTS };
  for (const layer of layers) {
    if (!layer) continue;
    for (const k of Object.keys(JOB_DEFAULTS) as Array<keyof JobSettings>) {
      const v = layer[k];
      if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}
