// The SDX API URL of the CLI's commands (plan, apply, watch): the operator's, never the repository's.
import { operatorApiUrl, type OperatorApiUrl } from '../core/api-url.js';

/** --api-url, else SDX_API_URL, else the default; refused when it cannot carry the token (see core/api-url.ts). */
export function cliApiUrl(env: Readonly<Record<string, string | undefined>>, flag?: string): OperatorApiUrl {
  return operatorApiUrl([
    { source: '--api-url', value: flag },
    { source: 'SDX_API_URL', value: env.SDX_API_URL },
  ]);
}
