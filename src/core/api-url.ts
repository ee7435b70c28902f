// Where the SDX token goes is the operator's choice, never the repository's (issue 13). Whoever
// can commit to the fleet repository must not be able to point the token, and every script body,
// at a server of their own. So the SDX API base URL comes only from the operator: `--api-url`,
// SDX_API_URL, or the Action's `sdx-api-url` input (default https://v1.api.altostrat.io). An
// `api_url` committed in the fleet file is accepted only when it names that same URL (a pin that
// documents it); any other is refused before anything is sent. Plain http is refused too, except
// to loopback addresses (the sandbox, a local proxy), whatever the URL's source.
import { InputError, type Problem } from './errors.js';
import type { FleetModel } from './model.js';
import type { RepoReader } from './ports.js';
import { redactCredentials } from './redact.js';
import { DEFAULT_API_URL, FLEET_FILE } from './settings.js';

export interface OperatorApiUrl {
  /** The base URL requests go to (may carry user:password@, which is never shown). */
  readonly url: string;
  /** Where it came from, for messages: "--api-url", "SDX_API_URL", "input sdx-api-url", "the default". */
  readonly source: string;
}

/** 127.0.0.0/8, ::1 and localhost, as the WHATWG URL parser normalises them (127.1 is 127.0.0.1). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Why `value` cannot carry the token (not a URL, not http(s), plain http to another host), or null. */
export function apiUrlFault(value: string): string | null {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol === 'https:') return null;
  if (u.protocol !== 'http:') return `is a ${u.protocol} URL; the SDX API is reached over https`;
  if (isLoopbackHost(u.hostname)) return null;
  return 'uses plain http to a host that is not this machine, so the token would cross the network in clear text; use https (plain http is accepted only for loopback addresses: 127.0.0.0/8, ::1, localhost)';
}

/**
 * The operator's URL: the first of `choices` that is set (an empty value is not), else the
 * default. Throws InputError naming the source when it cannot carry the token.
 */
export function operatorApiUrl(choices: ReadonlyArray<{ source: string; value: string | undefined }>): OperatorApiUrl {
  const chosen = choices.find((c) => c.value !== undefined && c.value.trim() !== '');
  const url = chosen?.value?.trim() ?? DEFAULT_API_URL;
  const source = chosen?.source ?? 'the default';
  const fault = apiUrlFault(url);
  if (fault) {
    throw new InputError({
      file: `(${source})`,
      message: `the SDX API URL ${JSON.stringify(redactCredentials(url))} ${fault}`,
      hint: `set ${source} to the SDX API, for example ${DEFAULT_API_URL}`,
    });
  }
  return { url, source };
}

/** The URL as shown: no credentials, no trailing slash. */
export function displayApiUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/+$/, '');
  } catch {
    return redactCredentials(url);
  }
}

/** Do two base URLs name the same API (scheme, host, port and path; credentials and a trailing slash aside)? */
export function sameApiUrl(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    const path = (u: URL) => u.pathname.replace(/\/+$/, '');
    return x.protocol === y.protocol && x.host === y.host && path(x) === path(y);
  } catch {
    return false;
  }
}

/**
 * The problem with the fleet file's `api_url`, or null: it may only repeat the operator's URL.
 * Its line is looked up only when there is a problem (the parse cache keeps values, not positions).
 */
export async function fleetApiUrlProblem(
  reader: RepoReader,
  model: Pick<FleetModel, 'commit' | 'fleet' | 'fleetFile' | 'sitesDir'>,
  operator: OperatorApiUrl,
): Promise<Problem | null> {
  const committed = model.fleet.api_url;
  if (committed === null || sameApiUrl(committed, operator.url)) return null;
  const file = model.fleetFile ?? `${model.sitesDir ? `${model.sitesDir}/` : ''}${FLEET_FILE}`;
  return {
    file,
    line: await settingLine(reader, model, file, 'api_url'),
    message:
      `api_url is ${JSON.stringify(displayApiUrl(committed))}, but the operator's SDX API URL is ${displayApiUrl(operator.url)} (${operator.source}): ` +
      'the repository cannot choose where the SDX token and the scripts are sent, so nothing was sent',
    hint: `remove api_url from ${file}, or set it to ${displayApiUrl(operator.url)}; the URL is set by whoever runs routeros-gitops (--api-url, SDX_API_URL or the Action's sdx-api-url input)`,
  };
}

/** Throw InputError when the fleet file's api_url is not the operator's URL. */
export async function checkFleetApiUrl(
  reader: RepoReader,
  model: Pick<FleetModel, 'commit' | 'fleet' | 'fleetFile' | 'sitesDir'>,
  operator: OperatorApiUrl,
): Promise<void> {
  const problem = await fleetApiUrlProblem(reader, model, operator);
  if (problem) throw new InputError(problem);
}

/** The 1-based line of a top-level `key:` in the fleet file at the model's commit, when it can be found. */
async function settingLine(reader: RepoReader, model: Pick<FleetModel, 'commit' | 'sitesDir'>, file: string, key: string): Promise<number | undefined> {
  try {
    const entry = (await reader.listTree(model.commit.sha, model.sitesDir, [file])).find((e) => e.path === file);
    if (!entry) return undefined;
    const text = (await reader.readBlobs([entry.oid])).get(entry.oid)?.toString('utf8') ?? '';
    const lines = text.split('\n');
    const i = lines.findIndex((l) => new RegExp(`^["']?${key}["']?\\s*:`).test(l));
    return i < 0 ? undefined : i + 1;
  } catch {
    return undefined;
  }
}
