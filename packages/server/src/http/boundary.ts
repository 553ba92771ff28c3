import type { FastifyRequest } from 'fastify';
import { InvalidRequest } from '@tessera/protocol';
import { isCleanText } from '../engine/params.js';
import { parseForm } from './form.js';

/**
 * The request-wide half of the input boundary (the form parser is the other): the query string parses
 * strictly as UTF-8 without NUL or unpaired surrogates, and so do the values of the named cookies
 * (after the cookie parser's percent-decoding). Anything else is `invalid_request` — a JSON error on
 * the back-channel endpoints, the HTML error page on the browser ones — before any route looks it up.
 */
export function assertCleanRequest(request: FastifyRequest, cookieNames: readonly string[]): void {
  const q = request.url.indexOf('?');
  if (q >= 0) parseForm(request.url.slice(q + 1), 'the query string');
  const cookies = (request as { cookies?: Record<string, string | undefined> }).cookies;
  for (const name of cookieNames) {
    const value = cookies?.[name];
    if (value !== undefined && !isCleanText(value)) throw new InvalidRequest('a cookie holds a NUL character or an unpaired surrogate');
  }
}
