import { UnauthorizedClient } from '@tessera/protocol';
import { mintAccessToken } from '../tokens/access-token.js';
import { audienceFor, grantedScopes, scopesForResources } from '../scope-policy.js';
import type { GrantHandler } from './types.js';

/** RFC 6749 §4.4: confidential clients only; no refresh token (§4.4.3). `sub` is the client id (RFC 9068 §2.2). */
export const clientCredentials: GrantHandler = {
  grantType: 'client_credentials',
  parameters: ['scope'],
  publicClients: false,
  async handle(req, ctx) {
    if (req.client.type !== 'confidential') throw new UnauthorizedClient('client_credentials requires a confidential client');
    const audience = audienceFor(req.client, req.resources, ctx.config.issuer);
    const scopes = scopesForResources(ctx.config, req.resources, grantedScopes(req.client, req.params.scope), req.params.scope === undefined ? 'narrow' : 'refuse');
    const ttl = req.client.accessTokenTtl ?? ctx.config.tokens.accessTokenTtl;
    const { token } = await mintAccessToken(ctx.keyring, {
      issuer: ctx.config.issuer,
      subject: req.client.id,
      clientId: req.client.id,
      audience,
      scopes,
      ttl,
      now: ctx.now(),
      jkt: req.dpopJkt,
    });
    return { access_token: token, token_type: req.dpopJkt ? 'DPoP' : 'Bearer', expires_in: ttl, ...(scopes.length ? { scope: scopes.join(' ') } : {}) };
  },
};
