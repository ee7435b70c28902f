// Validation of a POST /site/{siteId}/job request as the seed spec describes it: the headers, the
// media type and the script. Pure: a request in, either what it asks for or the 400 the API gives.
import { codePointLength } from '../core/code-points.js';
import { UUID_RE } from '../core/keys.js';
import { type Answer, header, invalid } from './answers.js';

const BOOLEAN_HEADERS = ['x-needs-ack', 'x-backup', 'x-express-execute'] as const;
const HEADER_NAMES: Record<(typeof BOOLEAN_HEADERS)[number], string> = {
  'x-needs-ack': 'X-Needs-Ack',
  'x-backup': 'X-Backup',
  'x-express-execute': 'X-Express-Execute',
};

/** What a valid job request asks for. */
export interface JobRequest {
  idempotencyKey: string;
  /** As the client meant it (UTF-8), not as node:http decoded the header bytes. */
  description: string;
  needsAck: boolean;
  backup: boolean;
  express: boolean;
  script: string;
}

/**
 * Check a job request's headers and body (the site is checked by the caller). `maxScriptLength` is
 * in characters (code points); 0 turns the check off.
 */
export function parseJobRequest(headers: Record<string, string | string[] | undefined>, body: string, maxScriptLength: number): JobRequest | Answer {
  const key = header(headers, 'x-idempotency-key');
  if (key === undefined || key === '') return invalid('parameter_missing', 'The X-Idempotency-Key header is required.');
  if (!UUID_RE.test(key)) return invalid('parameter_invalid', 'The X-Idempotency-Key header must be a UUID.');
  const description = parseDescription(header(headers, 'x-description'));
  if (typeof description !== 'string') return description;
  const flags: Partial<Record<(typeof BOOLEAN_HEADERS)[number], boolean>> = {};
  for (const name of BOOLEAN_HEADERS) {
    const v = header(headers, name);
    if (v === undefined) continue;
    if (v !== 'true' && v !== 'false') return invalid('parameter_invalid', `The ${HEADER_NAMES[name]} header must be true or false.`);
    flags[name] = v === 'true';
  }
  const problem = checkScript(header(headers, 'content-type'), body, maxScriptLength);
  if (problem) return problem;
  return {
    idempotencyKey: key,
    description,
    needsAck: flags['x-needs-ack'] ?? true,
    backup: flags['x-backup'] ?? false,
    express: flags['x-express-execute'] ?? false,
    script: body,
  };
}

export function isAnswer(r: JobRequest | Answer): r is Answer {
  return 'status' in r;
}

function parseDescription(raw: string | undefined): string | Answer {
  if (raw === undefined || raw === '') return invalid('parameter_missing', 'The X-Description header is required.');
  // node:http decodes header bytes as latin1; count the characters the client meant (UTF-8).
  const description = Buffer.from(raw, 'latin1').toString('utf8');
  const chars = [...description].length;
  if (chars < 3 || chars > 100) return invalid('parameter_invalid', `The X-Description header must be between 3 and 100 characters, got ${chars}.`);
  return description;
}

function checkScript(contentTypeHeader: string | undefined, body: string, maxScriptLength: number): Answer | undefined {
  const contentType = (contentTypeHeader ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== 'text/plain')
    return invalid(
      'parameter_invalid',
      `The request body must be text/plain (the RouterOS script), got ${contentType ? JSON.stringify(contentType) : 'no Content-Type'}.`,
    );
  if (body.trim() === '') return invalid('parameter_missing', 'The request body (the RouterOS script) is required.');
  // Characters as the API counts them: code points (UTF-16 length is never less, so count only when it matters).
  const scriptChars = maxScriptLength > 0 && body.length > maxScriptLength ? codePointLength(body) : 0;
  if (scriptChars > maxScriptLength) {
    return invalid('parameter_invalid', `The request body (the RouterOS script) may not be longer than ${maxScriptLength} characters, got ${scriptChars}.`);
  }
  return undefined;
}
