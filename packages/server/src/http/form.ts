import { InvalidRequest } from '@tessera/protocol';
import type { RawParams } from '../engine/params.js';

const MAX_PARAMS = 100;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

/**
 * Strict `application/x-www-form-urlencoded` parser (WHATWG URL §5, as RFC 6749 App. B uses it):
 * malformed percent-encoding or UTF-8 is `invalid_request` rather than passed through; empty values
 * count as absent (RFC 6749 §3.1); repeated names become arrays so the endpoint can reject them; the
 * result has no prototype, so names like `__proto__` are plain, ignored keys.
 */
export function parseForm(body: string): RawParams {
  const out = Object.create(null) as RawParams;
  let count = 0;
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    if (++count > MAX_PARAMS) throw new InvalidRequest('too many parameters');
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    if (value === '' || name === '') continue;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

function decode(s: string): string {
  if (BAD_PERCENT.test(s)) throw new InvalidRequest('malformed percent-encoding in the request body');
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new InvalidRequest('the request body is not valid UTF-8');
  }
}
