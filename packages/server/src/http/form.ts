import { InvalidRequest } from '@tessera/protocol';
import { isCleanText, type RawParams } from '../engine/params.js';

const MAX_PARAMS = 100;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Strict `application/x-www-form-urlencoded` parser (WHATWG URL §5, as RFC 6749 App. B uses it):
 * malformed percent-encoding or UTF-8, NUL and unpaired surrogates are `invalid_request` rather than
 * passed through; empty values count as absent (RFC 6749 §3.1); repeated names become arrays so the
 * endpoint can reject them; the result has no prototype, so names like `__proto__` are plain, ignored keys.
 * `where` names the part of the request in the error ("the request body", "the query string").
 */
export function parseForm(body: string, where = 'the request body'): RawParams {
  const out = Object.create(null) as RawParams;
  let count = 0;
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    if (++count > MAX_PARAMS) throw new InvalidRequest('too many parameters');
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq), where);
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1), where);
    if (value === '' || name === '') continue;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/**
 * A form body as bytes: UTF-8 (RFC 6749 App. B) decoded strictly, then parsed. A body declared in
 * another charset (`charset=utf-16`, `iso-8859-1`, …) is refused rather than misread as UTF-8;
 * `us-ascii` is accepted as the subset it is, and then must hold only ASCII bytes.
 */
export function parseFormBytes(body: Buffer, contentType: string | undefined): RawParams {
  const charset = charsetOf(contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw new InvalidRequest('form bodies must be UTF-8 (RFC 6749 App. B)', { debug: `charset ${charset.slice(0, 40)}` });
  }
  if (charset === 'us-ascii' && body.some((b) => b > 0x7f)) throw new InvalidRequest('the request body is not US-ASCII as declared');
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw new InvalidRequest('the request body is not valid UTF-8');
  }
  return parseForm(text);
}

/** The `charset` parameter of a Content-Type (RFC 9110 §8.3.1), lower-cased, unquoted; undefined if none. */
function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType ?? '');
  return m ? (m[1] ?? m[2] ?? '').toLowerCase() : undefined;
}

function decode(s: string, where: string): string {
  if (BAD_PERCENT.test(s)) throw new InvalidRequest(`malformed percent-encoding in ${where}`);
  let text: string;
  try {
    text = decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new InvalidRequest(`${where} is not valid UTF-8`);
  }
  if (!isCleanText(text)) throw new InvalidRequest(`${where} holds a NUL character or an unpaired surrogate`);
  return text;
}
