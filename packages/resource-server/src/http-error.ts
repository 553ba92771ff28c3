import { challenge, InsufficientScope, InsufficientUserAuthentication, InvalidDpopProof, InvalidRequest, InvalidToken, OAuthError, ServerError, UseDpopNonce } from '@tessera/protocol';
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
 * With RFC 9728 metadata, every challenge names it (`resource_metadata`, RFC 9728 §5.1).
 * Anything that is not an OAuthError becomes a 500 `server_error` (fail closed).
 *
 * With `dpop` (the request used the DPoP scheme, or DPoP is required) the challenge is RFC 9449 §7.1's
 * `DPoP algs="…"` instead, proof errors (`invalid_dpop_proof`, `use_dpop_nonce`) are 401, and
 * `use_dpop_nonce` carries the nonce in `DPoP-Nonce` (§9).
 *
 * @example toHttpResponse(new MissingToken(), 'orders') // 401, 'Bearer realm="orders"'
 */
export function toHttpResponse(error: unknown, realm: string, dpop?: { algs: string }, resourceMetadata?: string): HttpErrorResponse {
  const e = error instanceof OAuthError ? error : new ServerError('internal error');
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
  if (dpop || e instanceof InvalidDpopProof || e instanceof UseDpopNonce) {
    const algs = dpop?.algs;
    if (e instanceof MissingToken) headers['www-authenticate'] = challenge('DPoP', { algs, resource_metadata: resourceMetadata });
    else if (e instanceof InvalidToken || e instanceof InvalidRequest || e instanceof InsufficientScope || e instanceof InvalidDpopProof || e instanceof UseDpopNonce) {
      const scope = e instanceof InsufficientScope ? e.scope : undefined;
      headers['www-authenticate'] = challenge('DPoP', { error: e.error, error_description: e.description, scope, algs, resource_metadata: resourceMetadata });
    }
    if (e instanceof UseDpopNonce) headers['dpop-nonce'] = e.nonce;
    const status = e instanceof InvalidDpopProof || e instanceof UseDpopNonce ? 401 : e.status;
    if (e.retryAfter !== undefined) headers['retry-after'] = String(e.retryAfter);
    return { status, headers, body: e.toJSON() };
  }
  if (e instanceof MissingToken) headers['www-authenticate'] = challenge('Bearer', { realm, resource_metadata: resourceMetadata });
  else if (e instanceof InvalidToken || e instanceof InvalidRequest || e instanceof InsufficientScope) {
    const scope = e instanceof InsufficientScope ? e.scope : undefined;
    headers['www-authenticate'] = challenge('Bearer', { realm, error: e.error, error_description: e.description, scope, resource_metadata: resourceMetadata });
  }
  else if (e instanceof InsufficientUserAuthentication) {
    // RFC 9470 §3: the client re-authorizes with these acr_values / max_age.
    const maxAge = e.maxAge === undefined ? undefined : String(e.maxAge);
    headers['www-authenticate'] = challenge('Bearer', { realm, error: e.error, error_description: e.description, acr_values: e.acrValues, max_age: maxAge });
  }
  if (e.retryAfter !== undefined) headers['retry-after'] = String(e.retryAfter);
  return { status: e.status, headers, body: e.toJSON() };
}
