// The one request made before anything is sent (and the first of `sites` and `init`): it shows that
// the URL reaches SDX and that SDX accepts the token, or says exactly why not, without retrying a
// server that cannot be reached (a wrong URL fails in milliseconds, not after minutes of retries).
import { SdxAccessError, SdxApiError } from '../core/errors.js';
import { networkCause } from '../core/sdx-failure.js';

/** The endpoint both use: the cheapest authenticated read the API documents that needs no site id. */
export const ACCESS_PATH = '/site-minimal';

/** What `e`, thrown by the first request to `apiUrl`, means for the whole run. */
export function accessError(e: unknown, apiUrl: string): SdxAccessError {
  if (!(e instanceof SdxApiError))
    return new SdxAccessError(`could not use SDX at ${apiUrl}: ${(e as Error)?.message ?? String(e)}`, 'unreachable', apiUrl, URL_HINT, 0);
  if (e.status === 0) {
    const cause = e.code === 'aborted' ? 'the run was stopped' : networkCause(e.code);
    return new SdxAccessError(`could not reach SDX at ${apiUrl} (${cause}); nothing was sent`, 'unreachable', apiUrl, URL_HINT, 0);
  }
  // The server's own words, after the request ("SDX GET /site-minimal: HTTP 401: Unauthenticated. - ...").
  const said = e.message.replace(/^SDX \w+ \S+: /, '').replace(/ - the SDX API token (was refused|may not act on this site).*$/, '');
  if (e.status === 401 || e.status === 403) {
    return new SdxAccessError(`SDX at ${apiUrl} refused the token (${said}); nothing was sent`, 'token-refused', apiUrl, TOKEN_HINT, e.status);
  }
  if (e.status >= 500 || e.status === 429) {
    return new SdxAccessError(
      `SDX at ${apiUrl} is failing (${said}); nothing was sent`,
      'server-error',
      apiUrl,
      'try again later; the SDX status page may say more',
      e.status,
    );
  }
  return new SdxAccessError(
    `the server at ${apiUrl} does not answer as the SDX API does (GET ${ACCESS_PATH}: ${said}); nothing was sent`,
    'not-sdx',
    apiUrl,
    URL_HINT,
    e.status,
  );
}

const URL_HINT =
  "check the SDX API URL (--api-url, SDX_API_URL or the Action's sdx-api-url; default https://v1.api.altostrat.io) and that this machine can reach it";
const TOKEN_HINT =
  "check SDX_API_TOKEN (the Action's sdx-api-token): an API key (alto_sk_...) or a JWT that has not expired, for the organisation that owns the sites";
