import { UnauthorizedClient, UnsupportedTokenType } from '@tessera/protocol';
import { authenticateClientThrottled } from './client-auth/index.js';
import type { EngineContext } from './context.js';
import { inspectToken } from './tokens/inspect.js';
import { required, singleValued, type RawParams } from './params.js';

export interface RevokeRequest {
  authorization: string | undefined;
  body: RawParams;
  ip: string;
}

/**
 * POST /revoke (RFC 7009). The client authenticates (public clients by client_id); `token_type_hint`
 * is only a hint (§2.1); a refresh token ends its whole family and the access tokens issued from it
 * (§2.1 SHOULD); an access token goes on the denylist until its exp. A token issued to another client
 * is refused and left untouched (§2.1: "the request is refused and the client is informed of the
 * error"): 400 `unauthorized_client`. An unknown token is answered 200 (§2.2). A storage failure
 * propagates (503), never a false 200.
 */
export async function revokeEndpoint(req: RevokeRequest, ctx: EngineContext): Promise<void> {
  const { params } = singleValued(req.body);
  const { client } = await authenticateClientThrottled({ authorization: req.authorization, params }, req.ip, ctx);
  const token = required(params, 'token');
  const found = await inspectToken(token, ctx);
  switch (found.kind) {
    case 'refresh':
      if (found.family.clientId !== client.id) throw notYours(client.id, found.family.clientId);
      await ctx.revoker.revokeFamily(found.family.familyId, 'revoked_by_client');
      ctx.audit('token_revoked', { actor: client.id, clientId: client.id, sub: found.family.sub, ip: req.ip, kind: 'refresh_token', familyId: found.family.familyId });
      return;
    case 'access':
      if (found.claims.client_id !== client.id) throw notYours(client.id, found.claims.client_id);
      if (typeof found.claims.jti === 'string' && typeof found.claims.exp === 'number') {
        await ctx.revoker.denyAccessTokens([{ jti: found.claims.jti, exp: found.claims.exp }], 'revoked_by_client');
        ctx.audit('token_revoked', { actor: client.id, clientId: client.id, sub: typeof found.claims.sub === 'string' ? found.claims.sub : undefined, ip: req.ip, kind: 'access_token', jti: found.claims.jti });
      }
      return;
    case 'id':
      throw new UnsupportedTokenType('ID tokens cannot be revoked');
    case 'unknown':
      return;
  }
}

function notYours(caller: string, owner: unknown): UnauthorizedClient {
  return new UnauthorizedClient('the token was not issued to this client', { debug: `${caller} tried to revoke a token of ${String(owner).slice(0, 128)}` });
}
