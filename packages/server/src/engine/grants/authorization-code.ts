import { InvalidGrant, InvalidRequest, InvalidTarget } from '@tessera/protocol';
import { isPkceValue, verifyS256 } from '../authorize/pkce.js';
import { isRandomToken, sha256 } from '../sessions/secrets.js';
import { mintAccessToken } from '../tokens/access-token.js';
import { mintIdToken } from '../tokens/id-token.js';
import { audienceFor } from '../scope-policy.js';
import type { EngineContext } from '../context.js';
import type { AuthorizationCode } from '../../storage/stores.js';
import type { GrantHandler, GrantRequest } from './types.js';

const INVALID = 'the authorization code is invalid, expired or was already used';

/**
 * `grant_type=authorization_code` (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3, RFC 7636 §4.6) for confidential
 * and public clients. Every check runs before the code is consumed, so a request with a wrong verifier,
 * client or redirect URI neither burns the code nor revokes anything (B10). The consume itself is one
 * conditional UPDATE: of any number of concurrent redemptions exactly one wins (D8 analogue). A valid
 * redemption of an already-used code revokes the grant and what it issued (RFC 6749 §4.1.2, B9).
 */
export const authorizationCode: GrantHandler = {
  grantType: 'authorization_code',
  parameters: ['code', 'redirect_uri', 'code_verifier'],
  publicClients: true,
  async handle(req, ctx) {
    const code = await checkedCode(req, ctx);
    const now = ctx.now();
    if (code.consumedAt !== undefined || !(await ctx.stores.codes.consume(code.codeHash, now))) {
      const issued = code.revokedAt === undefined ? await ctx.stores.codes.revoke(code.codeHash, now) : [];
      throw new InvalidGrant(INVALID, { debug: `authorization code replayed by ${req.client.id}; revoked grant with ${issued.length} issued token(s)` });
    }
    const user = await ctx.stores.users.get(code.sub);
    if (!user) throw new InvalidGrant(INVALID, { debug: 'the user no longer exists' });

    const audience = audienceFor(req.client, req.resources.length ? req.resources : code.resources, ctx.config.issuer);
    const openid = code.scopes.includes('openid');
    // OIDC Core §5.3: the token must be usable at /userinfo, whose audience is the issuer.
    if (openid && !audience.includes(ctx.config.issuer)) audience.push(ctx.config.issuer);
    const ttl = req.client.accessTokenTtl ?? ctx.config.tokens.accessTokenTtl;
    const at = await mintAccessToken(ctx.keyring, {
      issuer: ctx.config.issuer,
      subject: user.sub,
      clientId: req.client.id,
      audience,
      scopes: code.scopes,
      ttl,
      now,
      roles: user.roles,
      authTime: code.authTime,
      sid: code.sid,
    });
    await ctx.stores.codes.recordIssued(code.codeHash, [{ jti: at.jti, type: 'access_token', expiresAt: at.exp }]);

    const idToken = openid
      ? await mintIdToken(ctx.keyring, {
        issuer: ctx.config.issuer,
        subject: user.sub,
        clientId: req.client.id,
        authTime: code.authTime,
        nonce: code.nonce,
        accessToken: at.token,
        sid: code.sid,
        ttl: ctx.config.tokens.idTokenTtl,
        now,
      })
      : undefined;
    return {
      access_token: at.token,
      token_type: 'Bearer',
      expires_in: ttl,
      ...(code.scopes.length ? { scope: code.scopes.join(' ') } : {}),
      ...(idToken ? { id_token: idToken } : {}),
    };
  },
};

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
  return code;
}
