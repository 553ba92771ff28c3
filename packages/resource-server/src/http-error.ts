import { challenge, InsufficientScope, InsufficientUserAuthentication, InvalidRequest, InvalidToken, OAuthError, ServerError } from '@tessera/protocol';
import { MissingToken } from './bearer.js';

/** What an adapter sends for a failed request. */
export interface HttpErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

/**
 * The one error → HTTP mapping both adapters use (RFC 6750 §3, §3.1): `WWW-Authenticate: Bearer` with
 * `realm`, plus `error`/`error_description` (and `scope` for insufficient_scope) unless no token was sent.
 * Anything that is not an OAuthError becomes a 500 `server_error` (fail closed).
 *
 * @example toHttpResponse(new MissingToken(), 'orders') // 401, 'Bearer realm="orders"'
 */
export function toHttpResponse(error: unknown, realm: string): HttpErrorResponse {
  const e = error instanceof OAuthError ? error : new ServerError('internal error');
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
  if (e instanceof MissingToken) headers['www-authenticate'] = challenge('Bearer', { realm });
  else if (e instanceof InvalidToken || e instanceof InvalidRequest || e instanceof InsufficientScope) {
    const scope = e instanceof InsufficientScope ? e.scope : undefined;
    headers['www-authenticate'] = challenge('Bearer', { realm, error: e.error, error_description: e.description, scope });
  }
  else if (e instanceof InsufficientUserAuthentication) {
    // RFC 9470 §3: the client re-authorizes with these acr_values / max_age.
    const maxAge = e.maxAge === undefined ? undefined : String(e.maxAge);
    headers['www-authenticate'] = challenge('Bearer', { realm, error: e.error, error_description: e.description, acr_values: e.acrValues, max_age: maxAge });
  }
  if (e.retryAfter !== undefined) headers['retry-after'] = String(e.retryAfter);
  return { status: e.status, headers, body: e.toJSON() };
}
