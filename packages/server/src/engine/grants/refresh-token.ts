import { InvalidGrant, InvalidRequest, InvalidScope, parseScope } from '@tessera/protocol';
import { isRandomToken, sha256 } from '../sessions/secrets.js';
import { successorRefreshToken } from '../tokens/refresh-token.js';
import { mintAccessToken } from '../tokens/access-token.js';
import { audienceFor, narrowedResources, scopesForResources } from '../scope-policy.js';
import type { GrantHandler } from './types.js';
import { amrOf } from '../mfa/policy.js';

const INVALID = 'the refresh token is invalid, expired or revoked';

/**
 * `grant_type=refresh_token` (RFC 6749 §6; RFC 9700 §4.14.2; OAuth 2.1 §4.3). Every use rotates the
 * token in one atomic update; presenting a token that was already rotated is reuse: the whole family
 * is revoked, its newest refresh token and its live access tokens included.
 *
 * Retry window (`refreshTokens.graceSeconds`, default 10 s, 0 = strict): the same token presented again
 * by its own client within that many seconds of its rotation — a second browser tab racing the first, or
 * a retry of a lost response (FAPI 2.0 SP §5.3.2.1) — is answered with the same successor the first
 * request got (it is derived from the presented token, see successorRefreshToken) and a new access
 * token of the family, as long as that successor has not itself been used. No second live branch is
 * ever made; later, or after the successor moved on, it is reuse as before.
 */
export const refreshToken: GrantHandler = {
  grantType: 'refresh_token',
  parameters: ['refresh_token', 'scope'],
  publicClients: true,
  async handle(req, ctx) {
    const value = req.params.refresh_token;
    if (value === undefined) throw new InvalidRequest('missing parameter: refresh_token');
    // B15: only values shaped like our tokens are looked up, and only in the refresh-token table.
    const found = isRandomToken(value) ? await ctx.stores.refreshTokens.find(sha256(value)) : undefined;
    if (!found) throw new InvalidGrant(INVALID, { debug: 'unknown refresh token' });
    const { token, family } = found;
    const now = ctx.now();
    // D4: another client's token is refused and left alone.
    if (family.clientId !== req.client.id) throw new InvalidGrant(INVALID, { debug: `refresh token of ${family.clientId} presented by ${req.client.id}` });
    if (family.revokedAt !== undefined || token.revokedAt !== undefined) throw new InvalidGrant(INVALID, { debug: 'family revoked' });
    if (family.absoluteExpiresAt <= now || token.expiresAt <= now) throw new InvalidGrant(INVALID, { debug: 'refresh token expired' });
    // RFC 9449 §5: a bound family is refreshed only with a proof of its key (a thief's own key is refused).
    if (family.dpopJkt !== undefined && family.dpopJkt !== req.dpopJkt) {
      throw new InvalidGrant('the refresh token is bound to another DPoP key', { debug: req.dpopJkt ? 'DPoP key mismatch' : 'no DPoP proof for a bound refresh token' });
    }
    // A public client's family first refreshed with DPoP is bound from then on (its new token is issued to that key).
    if (family.dpopJkt === undefined && req.dpopJkt !== undefined && req.client.type === 'public'
      && !(await ctx.stores.refreshTokens.bindDpopKey(family.familyId, req.dpopJkt))) {
      throw new InvalidGrant('the refresh token is bound to another DPoP key', { debug: 'family bound concurrently to another key' });
    }

    // C12: a narrower scope is allowed for the access token; the new refresh token keeps the grant's scope.
    const requested = parseScope(req.params.scope);
    if (requested.some((s) => !family.scopes.includes(s))) throw new InvalidScope('the requested scope exceeds the original grant');
    // RFC 8707 §2.2: `resource` down-scopes the access token to some of the grant's resources.
    const resources = narrowedResources(req.client, family.resources, req.resources);
    const scopes = scopesForResources(ctx.config, resources, requested.length ? requested : family.scopes, requested.length ? 'refuse' : 'narrow');
    const user = await ctx.stores.users.get(family.sub);
    if (!user) throw new InvalidGrant(INVALID, { debug: 'the user no longer exists' });

    // The retry window applies to every client type: public clients (SPAs in several tabs) race the most.
    const window = ctx.config.refreshTokens.graceSeconds;
    if (token.rotatedAt === undefined || (window > 0 && token.rotatedAt >= now - window)) {
      // The access token is minted first so the rotation and its record commit together; a request that
      // then loses the race never returns it.
      const audience = audienceFor(req.client, resources, ctx.config.issuer);
      if (scopes.includes('openid') && resources.length === 0 && !audience.includes(ctx.config.issuer)) audience.push(ctx.config.issuer);
      const ttl = req.client.accessTokenTtl ?? ctx.config.tokens.accessTokenTtl;
      const at = await mintAccessToken(ctx.keyring, {
        issuer: ctx.config.issuer, subject: user.sub, clientId: req.client.id, audience, scopes, ttl, now,
        roles: user.roles, authTime: family.authTime, amr: amrOf(family), sid: family.sid, jkt: req.dpopJkt,
      });
      const next = successorRefreshToken(ctx.box, value, family.familyId, now, ctx.config.refreshTokens.idleTtl, family.absoluteExpiresAt);
      const issued = { jti: at.jti, familyId: family.familyId, sid: family.sid, sub: user.sub, clientId: req.client.id, expiresAt: at.exp };
      const outcome = await ctx.stores.refreshTokens.rotate(token.tokenHash, next.row, now, window, issued);
      if (outcome !== 'lost') {
        return {
          access_token: at.token,
          token_type: req.dpopJkt ? 'DPoP' : 'Bearer',
          expires_in: ttl,
          refresh_token: next.value,
          ...(scopes.length ? { scope: scopes.join(' ') } : {}),
        };
      }
    }
    // RFC 9700 §4.14.2: reuse of an invalidated token revokes the whole grant (J6: audited).
    await ctx.revoker.revokeFamily(family.familyId, 'refresh_token_reuse');
    ctx.audit('refresh_token_reuse', { familyId: family.familyId, clientId: req.client.id, sub: family.sub, ip: req.ip, outcome: 'failure' });
    throw new InvalidGrant(INVALID, { debug: 'refresh token reuse: family revoked' });
  },
};
