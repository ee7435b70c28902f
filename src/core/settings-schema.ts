// The two YAML files users keep, defined once with zod: the same definitions validate the files
// (core/yaml-file.ts) and generate the published JSON Schemas (`routeros-gitops schema`, schema/).
import { z } from 'zod';
import { VERSION_PATTERN } from '../lint/routeros-version.js';
import { DEFAULT_API_URL, DEFAULT_DESCRIPTION, DEFAULT_WEB_URL, NAME_RE, UUID_RE, VAR_NAME_RE } from './settings.js';

const varValue = z.union([z.string(), z.number(), z.boolean()]);
const vars = z
  .record(z.string().regex(VAR_NAME_RE, 'a variable name is letters, digits and "_", not starting with a digit'), varValue)
  .describe('Variables substituted into scripts as ${{ vars.NAME }}. The most specific definition wins: site, then group, then fleet.');

const lintRules = z
  .record(z.string(), z.enum(['error', 'lockout', 'advice', 'off', 'warning']))
  .describe(
    'Per script-check rule: "error" (never sent), "lockout" (apply refuses it until the script acknowledges it with "# routeros-gitops: allow <rule>", or --allow-lockout), "advice" (shown, never blocks) or "off". "warning" is the former name of "advice". See `routeros-gitops rules`.',
  );

/**
 * The RouterOS the scripts are checked against. A version is text (7.16.2); YAML reads 7.16 as a
 * number, which is fine, but 7.10 as 7.1, so a number whose text could have lost a 0 is refused.
 */
const routerOsSettings = {
  routeros: z
    .union([z.string(), z.number()])
    .superRefine((v, ctx) => {
      if (typeof v === 'number') {
        if (!/^\d+\.\d\d$/.test(String(v)))
          ctx.addIssue({ code: 'custom', message: `write the version in quotes (routeros: "${v}0" or "${v}"): YAML reads ${v}0 as the number ${v}` });
      } else if (!VERSION_PATTERN.test(v.trim())) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a RouterOS version: write it as 7.16.2, 7.16 or 7.23rc1` });
      }
    })
    .optional()
    .describe(
      "The RouterOS version the site runs (such as 7.16.2): every command of its scripts is checked against that version's command tree. Default: the newest version the checks know, and plans say so.",
    ),
  packages: z
    .array(z.string())
    .optional()
    .describe(
      'The extra packages the site has installed (container, wireless, iot, ...): commands of other extra packages are refused. Default: any extra package.',
    ),
};

/** Settings a user sets fleet-wide and overrides per group or per site. */
const jobSettings = {
  needs_ack: z.boolean().describe('Send X-Needs-Ack: wait for the router to report success or failure. Default true.'),
  backup: z.boolean().describe('Send X-Backup: the router takes a configuration backup before the job. Default false.'),
  express: z.boolean().describe('Send X-Express-Execute: ask the router to check in sooner. Default false.'),
  description: z
    .string()
    .describe(
      `Template of X-Description (3..100 characters once filled, cut on code points). Placeholders: {site}, {site_id}, {path}, {file}, {sha}, {subject}. Default "${DEFAULT_DESCRIPTION}".`,
    ),
  timeout: z.number().int().min(1).max(86_400).describe("Seconds to wait for one job's outcome before recording it as still running. Default 600."),
};

export const GroupSettingsSchema = z
  .strictObject({ ...partial(jobSettings), ...routerOsSettings, vars: vars.optional() })
  .describe('Settings and variables of one group of sites.');

export const FleetSettingsSchema = z
  .strictObject({
    ...partial(jobSettings),
    ...routerOsSettings,
    concurrency: z.number().int().min(1).max(256).optional().describe('How many sites are applied at once. Default 4.'),
    api_url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        `A pin of the SDX API base URL: the operator chooses the URL (--api-url, SDX_API_URL or the Action's sdx-api-url input; default ${DEFAULT_API_URL}), and a run refuses to send anything when this differs from it.`,
      ),
    web_url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(`SDX web UI base URL, used to make a job's log_url absolute. Default ${DEFAULT_WEB_URL}.`),
    rate_limit: z.number().int().min(0).max(100_000).optional().describe('SDX API requests per minute for the whole process (0: no limit). Default 60.'),
    max_script_size: z
      .number()
      .int()
      .min(3)
      .max(1_000_000)
      .optional()
      .describe('Largest script, in characters after rendering (the SDX API limits job bodies to 10000). Default 10000.'),
    status_limit: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Above this many sites, commit statuses are written only for the fleet roll-up and the failed sites. Default 50.'),
    idempotency_retention: z
      .number()
      .int()
      .min(60)
      .max(365 * 86_400)
      .optional()
      .describe(
        "Seconds SDX is trusted to remember an idempotency key (the API does not say). A send intended longer ago is looked up in the site's job list before it is POSTed again. Default 86400 (24 hours).",
      ),
    vars: vars.optional(),
    groups: z.record(z.string().regex(NAME_RE, 'a group name is letters, digits, ".", "_" and "-"'), GroupSettingsSchema).optional(),
    lint: z.strictObject({ rules: lintRules.optional() }).optional().describe('Script checks.'),
  })
  .describe('routeros-gitops.yaml: settings for the whole fleet, at the root of the sites directory.');

export const SiteSettingsSchema = z
  .strictObject({
    id: z.string().regex(UUID_RE, 'the SDX site id is a UUID such as 9a9a3e6f-1b1a-4b1a-8c1a-1e1a1a1a1a1a').describe('The SDX site id (a UUID). Required.'),
    groups: z
      .array(z.string().regex(NAME_RE))
      .optional()
      .describe('Groups this site belongs to: it applies their shared scripts and inherits their settings, in this order.'),
    ...partial(jobSettings),
    ...routerOsSettings,
    vars: vars.optional(),
    lint: z.strictObject({ rules: lintRules.optional() }).optional(),
  })
  .describe("site.yaml: one site. The folder name is the site's name.");

function partial<T extends Record<string, z.ZodType>>(shape: T): { [K in keyof T]: z.ZodOptional<T[K]> } {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.optional()])) as { [K in keyof T]: z.ZodOptional<T[K]> };
}

export type FleetSettings = z.infer<typeof FleetSettingsSchema>;
export type SiteSettings = z.infer<typeof SiteSettingsSchema>;
export type GroupSettings = z.infer<typeof GroupSettingsSchema>;
export type VarValue = z.infer<typeof varValue>;

export function jsonSchemas(): { fleet: object; site: object } {
  const opts = { target: 'draft-2020-12', io: 'input' } as const;
  return {
    fleet: {
      $id: 'https://routeros-gitops.dev/schema/routeros-gitops.schema.json',
      title: 'routeros-gitops.yaml',
      ...z.toJSONSchema(FleetSettingsSchema, opts),
    },
    site: { $id: 'https://routeros-gitops.dev/schema/site.schema.json', title: 'site.yaml', ...z.toJSONSchema(SiteSettingsSchema, opts) },
  };
}
