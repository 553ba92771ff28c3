import { InvalidDpopProof, InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '@tessera/protocol';
import { authenticateClientThrottled } from './client-auth/index.js';
import type { EngineContext } from './context.js';
import type { GrantRegistry } from './grants/registry.js';
import type { GrantHandler, TokenResponse } from './grants/types.js';
import { required, singleValued, type RawParams } from './params.js';
import type { Client } from '../storage/stores.js';
import { requireResource } from './scope-policy.js';

export interface TokenRequest {
  authorization: string | undefined;
  body: RawParams;
  ip: string;
  /** The `DPoP` header(s) (RFC 9449 §5). */
  dpop?: string | string[] | undefined;
}

/**
 * POST /token (RFC 6749 §3.2, §5), as the spec's ordered steps: parameters, grant type, client
 * authentication, grant permission, the DPoP proof (RFC 9449 §5), then the grant's own handler with
 * only its declared parameters.
 */
export async function tokenEndpoint(req: TokenRequest, grants: GrantRegistry, ctx: EngineContext): Promise<{ response: TokenResponse; handler: GrantHandler; client: Client }> {
  const { params, multi } = singleValued(req.body);
  const grantType = required(params, 'grant_type');
  const handler = grants.get(grantType);
  if (!handler) throw new UnsupportedGrantType('unsupported grant_type');

  const { client, method } = await authenticateClientThrottled({ authorization: req.authorization, params }, req.ip, ctx);
  if (!client.grantTypes.includes(grantType)) throw new UnauthorizedClient('this client may not use this grant type');
  if (method === 'none' && !handler.publicClients) throw new UnauthorizedClient('this grant type requires client authentication');
  // RFC 9449 §5: a valid proof binds what is issued to its key; §5.2: a DPoP-bound client must send one.
  const proof = await ctx.dpop.check({ header: req.dpop, method: 'POST', url: `${ctx.config.issuer}/token` });
  if (!proof && client.dpopBoundAccessTokens) throw new InvalidDpopProof('this client must send a DPoP proof', { debug: 'dpopBoundAccessTokens' });

  const declared: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const name of handler.parameters) if (params[name] !== undefined) declared[name] = params[name];
  const resources = multi.resource ?? [];
  if (resources.length > 10) throw new InvalidRequest('too many resource parameters');
  requireResource(ctx.config, resources);
  const response = await handler.handle({ client, authMethod: method, params: declared, resources, ip: req.ip, dpopJkt: proof?.jkt }, ctx);
  return { response, handler, client };
}
