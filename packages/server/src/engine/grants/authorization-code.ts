import { InvalidGrant, InvalidRequest, InvalidTarget } from '@tessera/protocol';
import { isPkceValue, verifyS256 } from '../authorize/pkce.js';
import { isRandomToken, sha256 } from '../sessions/secrets.js';
import { issueUserAccessToken } from '../tokens/user-access-token.js';
import { startRefreshFamily } from '../tokens/refresh-token.js';
import { idTokenAlg, mintIdToken } from '../tokens/id-token.js';
import { audienceFor, scopesForResources } from '../scope-policy.js';
import type { EngineContext } from '../context.js';
import type { AuthorizationCode } from '../../storage/stores.js';
import type { GrantHandler, GrantRequest } from './types.js';
import { amrOf } from '../mfa/policy.js';

const INVALID = 'the authorization code is invalid, expired or was already used';

/**
 * `grant_type=authorization_code` (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3, RFC 7636 §4.6) for confidential
 * and public clients. Every check runs before the code is consumed, so a request with a wrong verifier,
 * client or redirect URI neither burns the code nor revokes anything (B10). The consume itself is one
 * conditional UPDATE: of any number of concurrent redemptions exactly one wins (D8 analogue). A valid
 * redemption of an already-used code revokes the grant and what it issued (RFC 6749 §4.1.2, B9): its
 * access tokens go on the denylist and its refresh-token family ends.
 */
export const authorizationCode: GrantHandler = {
  grantType: 'authorization_code',
  parameters: ['code', 'redirect_uri', 'code_verifier'],
  publicClients: true,
  async handle(req, ctx) {
    const code = await checkedCode(req, ctx);
    // Resolved before the code is consumed: a client whose ID token alg has no key fails without burning it.
    const idAlg = code.scopes.includes('openid') ? idTokenAlg(req.client, ctx.keyring) : undefined;
    const now = ctx.now();
    if (code.consumedAt !== undefined || !(await ctx.stores.codes.consume(code.codeHash, now))) {
      const issued = await revokeGrant(code.codeHash, ctx);
      ctx.audit('authorization_code_replay', { clientId: req.client.id, sub: code.sub, revoked: issued });
      throw new InvalidGrant(INVALID, { debug: `authorization code replayed by ${req.client.id}; grant revoked` });
    }
    const user = await ctx.stores.users.get(code.sub);
    if (!user) throw new InvalidGrant(INVALID, { debug: 'the user no longer exists' });

    const amr = amrOf(code);
    const resources = req.resources.length ? [...new Set(req.resources)] : code.resources;
    const audience = audienceFor(req.client, resources, ctx.config.issuer);
    // RFC 8707: a token for named resources carries exactly those in `aud`, and only their scopes.
    const scopes = scopesForResources(ctx.config, resources, code.scopes, 'narrow');
    // OIDC Core §5.3: without a named resource the token must be usable at /userinfo (aud = the issuer).
    if (code.scopes.includes('openid') && resources.length === 0 && !audience.includes(ctx.config.issuer)) audience.push(ctx.config.issuer);
    // OAuth 2.1 §4.3: a refresh token for clients allowed the refresh_token grant, bound to this session.
    // It keeps the whole grant (every resource of the authorization request) for later down-scoping.
    const refresh = req.client.grantTypes.includes('refresh_token')
      ? await startRefreshFamily(ctx, { clientId: req.client.id, sub: user.sub, sid: code.sid, scopes: code.scopes, resources: code.resources.length ? code.resources : resources, authTime: code.authTime, amr, dpopJkt: refreshBinding(req) })
      : undefined;
    const ttl = req.client.accessTokenTtl ?? ctx.config.tokens.accessTokenTtl;
    const at = await issueUserAccessToken(
      ctx,
      { subject: user.sub, clientId: req.client.id, audience, scopes, ttl, roles: user.roles, authTime: code.authTime, amr, sid: code.sid, jkt: req.dpopJkt },
      refresh?.familyId,
    );
    await ctx.stores.codes.recordIssued(code.codeHash, [
      { jti: at.jti, type: 'access_token', expiresAt: at.exp },
      ...(refresh ? [{ jti: refresh.familyId, type: 'refresh_family' as const, expiresAt: at.exp }] : []),
    ]);
    // A replay may have revoked the grant between our consume and the record above. The replay marks
    // the code before reading what it issued, and we record before re-reading the mark, so one of the
    // two always sees the other: what we issued is revoked either way.
    if ((await ctx.stores.codes.get(code.codeHash))?.revokedAt !== undefined) await revokeGrant(code.codeHash, ctx);

    const idToken = idAlg
      ? await mintIdToken(ctx.keyring, {
        issuer: ctx.config.issuer,
        subject: user.sub,
        clientId: req.client.id,
        authTime: code.authTime,
        amr,
        nonce: code.nonce,
        accessToken: at.token,
        sid: code.sid,
        ttl: ctx.config.tokens.idTokenTtl,
        now,
        alg: idAlg,
      })
      : undefined;
    return {
      access_token: at.token,
      token_type: req.dpopJkt ? 'DPoP' : 'Bearer',
      expires_in: ttl,
      ...(refresh ? { refresh_token: refresh.token } : {}),
      ...(scopes.length ? { scope: scopes.join(' ') } : {}),
      ...(idToken ? { id_token: idToken } : {}),
    };
  },
};

/** RFC 9449 §5: a public client's refresh tokens are bound to its DPoP key; a confidential client's are not. */
export function refreshBinding(req: GrantRequest): string | undefined {
  return req.client.type === 'public' ? req.dpopJkt : undefined;
}

/** RFC 6749 §4.1.2 (B9): marks the grant revoked and revokes everything its redemption issued. */
async function revokeGrant(codeHash: string, ctx: EngineContext): Promise<number> {
  const issued = await ctx.stores.codes.revoke(codeHash, ctx.now());
  for (const t of issued) if (t.type === 'refresh_family') await ctx.revoker.revokeFamily(t.jti, 'authorization_code_replay');
  const tokens = issued.filter((t) => t.type === 'access_token').map((t) => ({ jti: t.jti, exp: t.expiresAt }));
  await ctx.revoker.denyAccessTokens(tokens, 'authorization_code_replay');
  return issued.length;
}

/** Everything that must hold for this client to redeem this code, before it is consumed. */
async function checkedCode(req: GrantRequest, ctx: EngineContext): Promise<AuthorizationCode> {
  const { code: value, code_verifier: verifier, redirect_uri: redirectUri } = req.params;
  if (value === undefined) throw new InvalidRequest('missing parameter: code');
  // B15: only values shaped like our codes are looked up, in the codes table alone.
  const code = isRandomToken(value) ? await ctx.stores.codes.get(sha256(value)) : undefined;
  if (!code) throw new InvalidGrant(INVALID, { debug: 'unknown code' });
  if (code.clientId !== req.client.id) throw new InvalidGrant(INVALID, { debug: `code of ${code.clientId} presented by ${req.client.id}` });
  if (code.expiresAt <= ctx.now()) throw new InvalidGrant(INVALID, { debug: 'code expired' });
  if (code.revokedAt !== undefined) throw new InvalidGrant(INVALID, { debug: 'code revoked after replay' });
  // RFC 6749 §4.1.3: required and identical when the authorization request carried one (B12).
  if (code.redirectUriSent ? redirectUri !== code.redirectUri : redirectUri !== undefined && redirectUri !== code.redirectUri) {
    throw new InvalidGrant('redirect_uri does not match the authorization request');
  }
  // RFC 8707 §2.2: the token request may narrow the resources of the grant, never widen them.
  if (code.resources.length && req.resources.some((r) => !code.resources.includes(r))) {
    throw new InvalidTarget('resource was not part of the authorization request');
  }
  // B4, B5: missing, malformed or wrong verifier.
  if (verifier === undefined) throw new InvalidGrant('code_verifier is required');
  if (!isPkceValue(verifier)) throw new InvalidGrant('code_verifier must be 43-128 characters of [A-Za-z0-9-._~]');
  if (!verifyS256(verifier, code.codeChallenge)) throw new InvalidGrant('code_verifier does not match the code_challenge');
  // RFC 9449 §10: a code bound with `dpop_jkt` is redeemed only with a proof of that key.
  if (code.dpopJkt !== undefined && code.dpopJkt !== req.dpopJkt) {
    throw new InvalidGrant('the DPoP proof key does not match the dpop_jkt of the authorization request');
  }
  return code;
}
