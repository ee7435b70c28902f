// RouterOS version numbers: 7.16.2, 7.16, 7.23beta2, 7.23rc1. Pre-releases come before the
// release they lead to: 7.23beta2 < 7.23rc1 < 7.23 < 7.23.1. (scripts/build-routeros-data.mjs sorts
// the data set's versions with the same key.)

/** A version as written, with its sort key. */
export interface RouterOsVersion {
  /** As written, trimmed: '7.16.2'. */
  readonly text: string;
  readonly major: number;
  /** [major, minor, stage (0 beta, 1 rc, 2 release), pre-release number, patch]. */
  readonly key: readonly number[];
}

/** The form `routeros:` and `--routeros` take. SDX's `software_version` may add " (stable)" and the like, which parsing drops. */
export const VERSION_PATTERN = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:(beta|rc)(\d+))?$/;

/** Parse a version such as '7.16.2', '7.23rc1' or '7.16.2 (stable)'; undefined when it is not one. */
export function parseRouterOsVersion(input: string): RouterOsVersion | undefined {
  const text = input.trim().replace(/\s*\([^)]*\)$/, '');
  const m = VERSION_PATTERN.exec(text);
  if (!m) return undefined;
  const stage = m[4] === 'beta' ? 0 : m[4] === 'rc' ? 1 : 2;
  const major = Number(m[1]);
  return { text: text.replace(/^v/, ''), major, key: [major, Number(m[2]), stage, Number(m[5] ?? 0), Number(m[3] ?? 0)] };
}

export function compareRouterOsVersions(a: RouterOsVersion, b: RouterOsVersion): number {
  for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return a.key[i]! - b.key[i]!;
  return 0;
}
