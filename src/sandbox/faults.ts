// Fault injection (the faults setting): which requests get a fault, drawn from a seeded PRNG so a
// run is reproducible, and the canned answers of the faults that are answers.
import { seededRandom } from '../core/random.js';
import { type Answer, errorBody } from './answers.js';
import { FAULT_KINDS, type FaultKind, SANDBOX_DEFAULTS } from './options.js';
import type { SandboxSettings } from './settings.js';

export class FaultInjector {
  private random: () => number;
  private injected = 0;

  /** @param settings read live (faults); call restart() when they change */
  constructor(private readonly settings: SandboxSettings) {
    this.random = seededRandom(settings.faults?.seed ?? 1);
  }

  /** Draws start again from the seed, and the limit counts from zero. */
  restart(): void {
    this.random = seededRandom(this.settings.faults?.seed ?? 1);
    this.injected = 0;
  }

  /** The fault this request gets, if any. */
  draw(method: string): FaultKind | undefined {
    const f = this.settings.faults;
    if (!f || !(f.probability! > 0)) return undefined;
    if (f.methods && !f.methods.includes(method as 'GET')) return undefined;
    const kinds = f.kinds && f.kinds.length > 0 ? f.kinds : FAULT_KINDS;
    if (f.limit !== undefined && this.injected >= f.limit) return undefined;
    if (this.random() >= f.probability!) return undefined;
    this.injected++;
    return kinds[Math.floor(this.random() * kinds.length)];
  }

  /** The answer of a fault that is an answer; undefined for resets and stalls. */
  answer(kind: FaultKind): Answer | undefined {
    return faultAnswer(kind, this.settings.faults?.retryAfterSeconds ?? SANDBOX_DEFAULTS.faultRetryAfterSeconds);
  }
}

export function faultAnswer(kind: FaultKind, retryAfterSeconds: number): Answer | undefined {
  switch (kind) {
    case 'error500':
      return { status: 500, body: errorBody('api_error', 'internal_server_error', 'An internal server error occurred. Please try again later.') };
    case 'html502':
      return {
        status: 502,
        raw: {
          contentType: 'text/html',
          text: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n',
        },
      };
    case 'unavailable503':
      return { status: 503, raw: { contentType: 'text/plain', text: 'Service Unavailable' } };
    case 'throttle429':
      return { status: 429, body: { message: 'Too Many Attempts.' }, headers: { 'retry-after': String(retryAfterSeconds) } };
    case 'throttle429NoRetryAfter':
      return { status: 429, body: { message: 'Too Many Attempts.' } };
    default:
      return undefined;
  }
}
