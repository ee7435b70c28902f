// Secret values for templates, supplied at apply time and never kept in the repository:
//   RGO_SECRET_<NAME>=value              a value for every site
//   RGO_SECRET_<SITE>__<NAME>=value      a value for one site (site name upper-cased, other
//                                        characters than letters and digits as "_")
//   --secrets-file FILE                  YAML: { fleet: {NAME: value}, sites: {SITE: {NAME: value}} }
// A per-site value wins over a fleet-wide one; the environment wins over the file.
// An empty value is not supplied (a workflow's `${{ secrets.X }}` is empty when X is not set). A
// value of 1 to 3 characters is refused: it could not be hidden reliably from outputs (see
// core/redact.ts), and the message never shows it.
import { readFileSync, realpathSync } from 'node:fs';
import { relative, resolve, isAbsolute } from 'node:path';
import { MIN_SECRETS_KEY_LENGTH, secretDigest } from '../core/keys.js';
import { InputError, type Problem } from '../core/errors.js';
import { MIN_SECRET_LENGTH } from '../core/redact.js';
import type { SecretSource } from '../core/model.js';

export const SECRET_ENV_PREFIX = 'RGO_SECRET_';
export const SECRETS_KEY_ENV = 'RGO_SECRETS_KEY';

export function envSiteName(site: string): string {
  return site.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

export interface SecretSourceOptions {
  env: Record<string, string | undefined>;
  file?: string;
  /** The repository root: a secrets file inside it is refused. */
  repoRoot?: string;
  cwd?: string;
}

type Values = Map<string, string>;

/** The values read so far, by origin; too-short ones are reported together once all are read. */
class SecretValues {
  readonly fleet: Values = new Map();
  readonly perSite = new Map<string, Values>();
  readonly envFleet: Values = new Map();
  /** By the site's environment name (envSiteName). */
  readonly envSite = new Map<string, Values>();
  readonly tooShort: Problem[] = [];

  /** false when the value is empty (not supplied) or too short (reported once every value is read). */
  usable(value: string, name: string, where: string, source: string): boolean {
    if (value === '') return false;
    if (value.length >= MIN_SECRET_LENGTH) return true;
    this.tooShort.push({
      file: where,
      message: `the secret "${name}" (${source}) is shorter than ${MIN_SECRET_LENGTH} characters, too short to be hidden reliably from logs and reports`,
      hint: `use a value of at least ${MIN_SECRET_LENGTH} characters, or leave it empty to not supply it`,
    });
    return false;
  }

  /** A value from the secrets file: for every site (site null) or one. */
  putFromFile(site: string | null, name: string, value: unknown, where: string): void {
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new InputError({ file: where, message: `the secret "${name}" must be a string`, hint: 'quote the value' });
    }
    if (!this.usable(String(value), name, where, site === null ? `fleet.${name}` : `sites.${site}.${name}`)) return;
    if (site === null) this.fleet.set(name, String(value));
    else inner(this.perSite, site).set(name, String(value));
  }

  /** RGO_SECRET_NAME, or RGO_SECRET_SITE__NAME. */
  putFromEnv(envName: string, value: string): void {
    const rest = envName.slice(SECRET_ENV_PREFIX.length);
    if (!this.usable(value, rest.includes('__') ? rest.slice(rest.indexOf('__') + 2) : rest, '(environment)', envName)) return;
    const i = rest.indexOf('__');
    if (i > 0) inner(this.envSite, rest.slice(0, i)).set(rest.slice(i + 2), value);
    else this.envFleet.set(rest, value);
  }
}

function inner(m: Map<string, Values>, key: string): Values {
  let v = m.get(key);
  if (!v) m.set(key, (v = new Map()));
  return v;
}

export async function loadSecrets(opts: SecretSourceOptions): Promise<SecretSource> {
  const values = new SecretValues();
  if (opts.file) await readSecretsFile(opts.file, opts, values);
  for (const [k, v] of Object.entries(opts.env)) if (k.startsWith(SECRET_ENV_PREFIX) && v !== undefined) values.putFromEnv(k, v);
  if (values.tooShort.length) throw new InputError(values.tooShort);
  const digestKey = opts.env[SECRETS_KEY_ENV] || undefined;
  if (digestKey !== undefined && digestKey.length < MIN_SECRETS_KEY_LENGTH) {
    throw new InputError({
      file: '(environment)',
      message: `${SECRETS_KEY_ENV} is ${digestKey.length} characters long; it must have at least ${MIN_SECRETS_KEY_LENGTH}, so that the digests in the state cannot be guessed`,
      hint: `make one with \`openssl rand -base64 32\`, keep it with your other secrets, and use the same key everywhere the state is shared`,
    });
  }
  return secretSource(values, digestKey);
}

/** The values of a secrets file (refused inside the repository). */
async function readSecretsFile(file: string, opts: SecretSourceOptions, values: SecretValues): Promise<void> {
  const path = resolve(opts.cwd ?? process.cwd(), file);
  if (opts.repoRoot) refuseInsideRepository(path, opts.repoRoot, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError({
      file,
      message: `cannot read the secrets file (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      hint: 'pass --secrets-file with a readable file',
    });
  }
  // The YAML parser is loaded only for a secrets file.
  const { parseSecretsYaml } = await import('./secrets-file-yaml.js');
  let doc: unknown;
  try {
    doc = parseSecretsYaml(text);
  } catch (e) {
    // The parser's message can quote the file's content: say only where.
    const line = (e as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    throw new InputError({
      file,
      line,
      message: 'the secrets file is not valid YAML',
      hint: 'write it as fleet: {NAME: value} and sites: {SITE: {NAME: value}}',
    });
  }
  const d = (doc ?? {}) as { fleet?: Record<string, unknown>; sites?: Record<string, Record<string, unknown>> };
  if (typeof d !== 'object' || Array.isArray(d) || Object.keys(d).some((k) => k !== 'fleet' && k !== 'sites')) {
    throw new InputError({
      file,
      message: 'the secrets file must have only the keys "fleet" and "sites"',
      hint: 'write it as fleet: {NAME: value} and sites: {SITE: {NAME: value}}',
    });
  }
  for (const [k, v] of Object.entries(d.fleet ?? {})) values.putFromFile(null, k, v, file);
  for (const [site, vs] of Object.entries(d.sites ?? {})) for (const [k, v] of Object.entries(vs ?? {})) values.putFromFile(site, k, v, file);
}

function refuseInsideRepository(path: string, repoRoot: string, file: string): void {
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    /* reported by the read */
  }
  const rel = relative(realpathSync(repoRoot), real);
  if (!rel.startsWith('..') && !isAbsolute(rel)) {
    throw new InputError({
      file,
      message: 'the secrets file is inside the repository; secrets must never be committed',
      hint: 'move it outside the repository (and out of git history)',
    });
  }
}

/** A per-site value wins over a fleet-wide one; the environment wins over the file. */
function secretSource(v: SecretValues, digestKey: string | undefined): SecretSource {
  const lookupEnv = (m: Values | undefined, name: string) => m?.get(name) ?? m?.get(name.toUpperCase());
  return {
    digestKey,
    get(site, name) {
      return lookupEnv(v.envSite.get(envSiteName(site)), name) ?? v.perSite.get(site)?.get(name) ?? lookupEnv(v.envFleet, name) ?? v.fleet.get(name);
    },
    forSite(site, name) {
      return lookupEnv(v.envSite.get(envSiteName(site)), name) !== undefined || v.perSite.get(site)?.get(name) !== undefined;
    },
    envScope(site) {
      const token = envSiteName(site);
      return v.envSite.has(token) ? `${SECRET_ENV_PREFIX}${token}__` : null;
    },
    identity() {
      const entries: string[][] = [];
      for (const [k, x] of v.fleet) entries.push(['file', '', k, x]);
      for (const [site, m] of v.perSite) for (const [k, x] of m) entries.push(['file', site, k, x]);
      for (const [k, x] of v.envFleet) entries.push(['env', '', k, x]);
      for (const [site, m] of v.envSite) for (const [k, x] of m) entries.push(['env', site, k, x]);
      if (!entries.length) return digestKey ? secretDigest('routeros-gitops:secrets-identity', '[]', digestKey) : '';
      // Keyed and stretched like the state's secret digests: the snapshot never holds a guessable
      // hash. Without a key there is none (and no incremental plan).
      if (!digestKey) return undefined;
      entries.sort((a, b) => (a.join('\0') < b.join('\0') ? -1 : 1));
      return secretDigest('routeros-gitops:secrets-identity', JSON.stringify(entries), digestKey);
    },
    values() {
      const all = [
        ...v.fleet.values(),
        ...[...v.perSite.values()].flatMap((m) => [...m.values()]),
        ...v.envFleet.values(),
        ...[...v.envSite.values()].flatMap((m) => [...m.values()]),
      ];
      if (digestKey) all.push(digestKey);
      return all;
    },
  };
}
