// The files `routeros-gitops init` writes into a new fleet repository, as text. Pure: the caller
// reads the sites from SDX and writes the files. The workflow and the pre-commit hook are the ones
// the README shows (a test holds them equal), so a repository made by init is the documented one.
import { posix } from 'node:path';
import { parseRouterOsVersion } from '../lint/routeros-version.js';
import { FLEET_FILE, SITE_FILE } from './settings.js';
import { jsonSchemas } from './settings-schema.js';

/** One site to scaffold: its SDX id and name, the folder it gets, and what SDX says it runs. */
export interface ScaffoldSite {
  id: string;
  name: string;
  folder: string;
  model: string | null;
  software_version: string | null;
}

export interface ScaffoldFile {
  /** Path relative to the repository root, '/'-separated. */
  path: string;
  text: string;
  /** Executable (the hook). */
  executable?: boolean;
  /** What it is, for the summary. */
  about: string;
}

/** Where the JSON Schemas go, relative to the repository root (the modelines point at them). */
export const SCHEMA_DIR = 'schema';
export const WORKFLOW_PATH = '.github/workflows/routeros-gitops.yml';
/** The shared copy of the hook: versioned, so the whole team can install it. */
export const HOOK_PATH = '.githooks/pre-commit';

/** The README's workflow (section "Workflow"), with the sites directory when it is not the default. */
export const WORKFLOW = `# .github/workflows/routeros-gitops.yml
name: routeros-gitops
on:
  pull_request:
  merge_group:
  push:
    branches: [main]

# No permission unless a job asks for it.
permissions: {}

jobs:
  plan:
    if: github.event_name != 'push'
    runs-on: ubuntu-latest
    permissions:
      contents: read          # the sites and the state ref
      pull-requests: write    # the plan comment (a fork's token stays read-only: nothing is written)
    # A newer push to the same pull request makes the older plan moot.
    concurrency:
      group: routeros-gitops-plan-\${{ github.event.pull_request.number || github.ref }}
      cancel-in-progress: true
    steps:
      - uses: actions/checkout@v5          # depth 1 is enough; the Action fetches what it needs
      - uses: routeros-gitops/routeros-gitops@v1   # pin a full commit SHA in production
        with:
          command: plan
          sdx-api-url: https://v1.api.altostrat.io   # pinned: plans name it, and refuse an api_url committed elsewhere
        # No template secrets here: the plan step never reads RGO_SECRET_* (see "Plan steps and secrets").

  apply:
    if: github.event_name == 'push'
    runs-on: ubuntu-latest
    # The SDX token and template secrets are environment secrets of "fleet", whose deployment branch
    # rule allows only main: a workflow edited on another branch cannot reach them.
    environment: fleet
    permissions:
      contents: write         # push the applied state (refs/routeros-gitops/state)
      statuses: write         # per-router commit statuses
    # Two applies never overlap, and none is cancelled mid-way (a newer push may replace one still
    # waiting: it applies that commit's changes too).
    concurrency:
      group: routeros-gitops-apply
      cancel-in-progress: false
    steps:
      - uses: actions/checkout@v5
        with:
          fetch-depth: 0      # optional: saves the Action fetching history itself
      - uses: routeros-gitops/routeros-gitops@v1   # pin a full commit SHA in production
        id: apply
        with:
          command: apply
          sdx-api-url: https://v1.api.altostrat.io   # pinned: the token goes here and nowhere else
          sdx-api-token: \${{ secrets.SDX_API_TOKEN }}
          timeout: 900
          # apply-branches: release/*   # other branches whose pushes may apply (default: only the default branch)
        env:                  # template secrets: apply refuses a site whose secrets are missing
          RGO_SECRETS_KEY: \${{ secrets.RGO_SECRETS_KEY }}
          # RGO_SECRET_RADIUS_KEY: \${{ secrets.RADIUS_KEY }}   # one line per template secret
      - if: always() && steps.apply.outputs.failed-sites != ''
        run: echo "::warning::failed sites: \${{ steps.apply.outputs.failed-sites }}"
`;

/** The README's pre-commit hook, for a sites directory. */
export function preCommitHook(sitesDir = 'sites'): string {
  return `#!/bin/sh
# routeros-gitops pre-commit hook: check the staged scripts and settings before each commit.
# Each file is checked as \`routeros-gitops validate\` checks the repository: settings, templates and
# every RouterOS command against its site's RouterOS version. Skip once with git commit --no-verify.
command -v routeros-gitops >/dev/null 2>&1 || { echo "pre-commit: routeros-gitops is not on PATH (see its README, Install)" >&2; exit 1; }
files=$(git diff --cached --name-only --diff-filter=ACM -- '${sitesDir}/*.rsc' '${sitesDir}/*.yaml')
[ -n "$files" ] || exit 0
IFS='
'
# shellcheck disable=SC2086
exec routeros-gitops validate --sites ${sitesDir} $files
`;
}

/** Every file of a new fleet repository with these sites, under `sitesDir` (repository-relative). */
export function scaffoldFiles(sites: readonly ScaffoldSite[], sitesDir = 'sites'): ScaffoldFile[] {
  const schemas = jsonSchemas();
  const files: ScaffoldFile[] = [
    { path: posix.join(sitesDir, FLEET_FILE), text: fleetFile(sitesDir), about: 'settings for the whole fleet' },
    { path: posix.join(sitesDir, 'README.md'), text: sitesReadme(sitesDir), about: 'the rule every script follows, and how to start' },
  ];
  for (const s of sites) files.push({ path: posix.join(sitesDir, s.folder, SITE_FILE), text: siteFile(s, sitesDir), about: siteAbout(s) });
  files.push(
    {
      path: `${SCHEMA_DIR}/routeros-gitops.schema.json`,
      text: `${JSON.stringify(schemas.fleet, null, 2)}\n`,
      about: 'JSON Schema of routeros-gitops.yaml, for editors',
    },
    { path: `${SCHEMA_DIR}/site.schema.json`, text: `${JSON.stringify(schemas.site, null, 2)}\n`, about: 'JSON Schema of site.yaml, for editors' },
    { path: WORKFLOW_PATH, text: workflowFor(sitesDir), about: 'plan on pull requests, apply on merge' },
    { path: HOOK_PATH, text: preCommitHook(sitesDir), executable: true, about: 'the pre-commit hook, to share with the team' },
  );
  return files;
}

function workflowFor(sitesDir: string): string {
  if (sitesDir === 'sites') return WORKFLOW;
  return WORKFLOW.replace(/^( +)command: (plan|apply)\n/gm, (line, indent: string) => `${line}${indent}sites: ${sitesDir}\n`);
}

/** The modeline's path from a file in `fromDir` to the schema folder. */
function schemaRef(fromDir: string, schema: string): string {
  return posix.relative(fromDir, `${SCHEMA_DIR}/${schema}`);
}

function siteAbout(s: ScaffoldSite): string {
  const what = [s.model, s.software_version ? `RouterOS ${s.software_version}` : null].filter(Boolean).join(', ');
  return `${s.name}${what ? ` (${what})` : ''}`;
}

function siteFile(s: ScaffoldSite, sitesDir: string): string {
  const dir = posix.join(sitesDir, s.folder);
  const lines = [`# yaml-language-server: $schema=${schemaRef(dir, 'site.schema.json')}`, `# ${siteAbout(s).replace(/\s+/g, ' ')} in SDX.`, `id: ${s.id}`];
  const version = s.software_version?.trim();
  if (version && parseRouterOsVersion(version)) {
    lines.push('# Its scripts are checked against this RouterOS version: change it when the router is upgraded.', `routeros: "${version}"`);
  } else {
    lines.push('# routeros: "7.16.2"   # the RouterOS version it runs: its scripts are checked against that version');
  }
  return `${lines.join('\n')}\n`;
}

function fleetFile(sitesDir: string): string {
  return `# yaml-language-server: $schema=${schemaRef(sitesDir, 'routeros-gitops.schema.json')}
# Settings for the whole fleet. Every key is optional; a site.yaml (and a group) overrides the job
# settings. The README's "Settings" table lists them all; a few you may want:
needs_ack: true          # wait for each router to report success or failure
# backup: true           # the router takes a backup before each job
# timeout: 900           # seconds to wait for a job's outcome
# vars:                  # template variables: \${{ vars.dns_servers }} in a script
#   dns_servers: 1.1.1.1,9.9.9.9
`;
}

function sitesReadme(sitesDir: string): string {
  return `# The fleet

One folder per router: \`${sitesDir}/<site>/site.yaml\` holds its SDX site id, and its \`.rsc\` scripts
are applied in file-name order (\`00-identity.rsc\`, \`10-dns.rsc\`, ...). \`routeros-gitops.yaml\` holds
the settings of the whole fleet.

## The one rule: every script must be safe to run twice

A script is sent **whole** every time it changes, and runs again from its first line: RouterOS
runs commands, it does not compare a desired state. A script that only \`add\`s adds a second rule,
address or user each time it is edited. So write every script so that running it again changes
nothing:

\`\`\`routeros
# Change what exists, found by what identifies it (never by its number).
/ip dns set servers=1.1.1.1,9.9.9.9
/interface ethernet set [find default-name=ether1] comment=wan

# Add what is missing, only when it is missing.
/interface bridge
:if ([:len [find name=bridge-lan]] = 0) do={ add name=bridge-lan }

# Replace the entries this repository owns, and only those: remove them, then add them again.
/ip firewall filter remove [find comment="gitops"]
/ip firewall filter add chain=forward action=accept connection-state=established,related comment=gitops
/ip firewall filter add chain=forward action=drop connection-state=invalid comment=gitops
\`\`\`

Keep a \`remove [find comment=...]\` and the \`add\`s that replace it in the same file, so that they
always go out together.

## Every day

\`\`\`sh
routeros-gitops validate          # settings, templates and every RouterOS command, nothing sent
routeros-gitops plan              # what apply would send: one job per changed script
routeros-gitops apply             # send, follow each job to its outcome, record it
\`\`\`

On GitHub, \`.github/workflows/routeros-gitops.yml\` plans each pull request and applies each merge:
create an environment named \`fleet\` (Settings, Environments) whose deployment branches are only the
default branch, with the secret \`SDX_API_TOKEN\`. The pre-commit hook (\`.githooks/pre-commit\`)
checks staged files before each commit: install it with \`cp .githooks/pre-commit .git/hooks/\`.
`;
}
