import { InvalidRequest } from '@tessera/protocol';
import type { EngineContext } from '../context.js';
import type { RawParams } from '../params.js';
import type { Client } from '../../storage/stores.js';
import { AuthorizationError } from '../authorize/errors.js';
import { parseAuthorizationRequest, type AuthorizationRequest } from '../authorize/request.js';
import { isRandomToken, sha256 } from '../sessions/secrets.js';
import { InvalidRequestUri } from './errors.js';
import { REQUEST_URI_PREFIX } from './par-endpoint.js';

const page = (e: InvalidRequest | InvalidRequestUri) => new AuthorizationError(e);

/**
 * The authorization request behind `GET/POST /authorize` (RFC 9126 §4): with `request_uri`, only
 * `client_id` may accompany it (SECURITY-CHECKLIST L2: nothing is ignored silently), the pushed request
 * must be this client's, unexpired and unused, and it is consumed atomically; its parameters are then
 * validated as a direct request would be. Without `request_uri`, a client (or a server) that requires
 * PAR is refused (§5, §6). Request-URI errors are pages: the redirect URI is not yet known.
 */
export async function resolveAuthorizationRequest(raw: RawParams, ctx: EngineContext): Promise<{ client: Client; request: AuthorizationRequest }> {
  if (raw.request_uri === undefined) {
    const parsed = await parseAuthorizationRequest(raw, ctx.stores.clients, ctx.config);
    if (ctx.config.requirePushedAuthorizationRequests || parsed.client.requirePushedAuthorizationRequests) {
      throw new AuthorizationError(new InvalidRequest('this client must use pushed authorization requests (PAR)'), { uri: parsed.request.redirectUri, state: parsed.request.state });
    }
    return parsed;
  }
  const uri = raw.request_uri;
  if (Array.isArray(uri)) throw page(new InvalidRequest('parameter request_uri is repeated'));
  const others = Object.keys(raw).filter((k) => k !== 'request_uri' && k !== 'client_id');
  if (others.length) throw page(new InvalidRequest(`with request_uri only client_id may be sent (got ${others.slice(0, 3).join(', ').slice(0, 80)})`));
  const clientId = raw.client_id;
  if (typeof clientId !== 'string') throw page(new InvalidRequest(clientId === undefined ? 'missing parameter: client_id' : 'parameter client_id is repeated'));
  const id = uri.startsWith(REQUEST_URI_PREFIX) ? uri.slice(REQUEST_URI_PREFIX.length) : undefined;
  if (!isRandomToken(id) || clientId.length > 128) throw page(new InvalidRequestUri('request_uri is invalid, expired or already used'));
  const pushed = await ctx.stores.pushedRequests.consume(sha256(id), clientId, ctx.now());
  if (!pushed) throw page(new InvalidRequestUri('request_uri is invalid, expired or already used', { debug: `client ${clientId}` }));
  return parseAuthorizationRequest(pushed.params, ctx.stores.clients, ctx.config);
}
