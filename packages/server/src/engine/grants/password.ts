import { InvalidGrant, InvalidRequest } from '@tessera/protocol';
import { authenticateUser, InvalidCredentials } from '../login/authenticate-user.js';
import type { LoginThrottle } from '../login/throttle.js';
import { issueUserAccessToken } from '../tokens/user-access-token.js';
import { startRefreshFamily } from '../tokens/refresh-token.js';
import { audienceFor, grantedScopes, scopesForResources } from '../scope-policy.js';
import type { GrantHandler } from './types.js';
import { mfaRequired, PASSWORD_AMR } from '../mfa/policy.js';

const MAX_USERNAME = 254;

/**
 * Legacy `grant_type=password` (RFC 6749 §4.3; removed by OAuth 2.1, RFC 9700 §2.4). Only for clients
 * that list it (E1); throttled like the login page (E2; per source, per account + source, a bounded
 * slowdown per account; there is no device cookie here); unknown user and wrong
 * password are the same `invalid_grant`; scope capped by the client's (E3). Responses carry
 * `Deprecation` so operators can see who still uses it.
 */
export function passwordGrant(throttle: LoginThrottle): GrantHandler {
  return {
    grantType: 'password',
    parameters: ['username', 'password', 'scope'],
    publicClients: false,
    deprecated: true,
    async handle(req, ctx) {
      const { username, password } = req.params;
      if (username === undefined || password === undefined) throw new InvalidRequest('username and password are required');
      // E4: whitespace-only is malformed; over-long cannot be an account.
      if (username.trim() === '') throw new InvalidRequest('username is blank');
      if (username.length > MAX_USERNAME || password.length > 1024) throw new InvalidGrant('invalid username or password');
      const scopes = scopesForResources(ctx.config, req.resources, grantedScopes(req.client, req.params.scope), req.params.scope === undefined ? 'narrow' : 'refuse');
      let user;
      try {
        user = await authenticateUser(username, password, req.ip, ctx.stores.users, throttle);
      } catch (e) {
        if (e instanceof InvalidCredentials) {
          ctx.audit('login_failed', { clientId: req.client.id, ip: req.ip, username: username.slice(0, 128), via: 'password_grant' });
          throw new InvalidGrant('invalid username or password');
        }
        throw e;
      }
      // Issue 15: a password cannot satisfy an MFA policy, and must not bypass a user's second factor.
      // Checked only after the password was right, so it tells a guesser nothing.
      if (mfaRequired(user, req.client, undefined) || (await ctx.stores.mfa.getTotp(user.sub))?.confirmedAt !== undefined) {
        ctx.audit('mfa_password_grant_refused', { sub: user.sub, clientId: req.client.id });
        throw new InvalidGrant('this user must sign in with a second factor, which the password grant cannot provide; use the authorization code flow');
      }
      const audience = audienceFor(req.client, req.resources, ctx.config.issuer);
      const now = ctx.now();
      const refresh = req.client.grantTypes.includes('refresh_token')
        ? await startRefreshFamily(ctx, { clientId: req.client.id, sub: user.sub, sid: undefined, scopes, resources: req.resources, authTime: now, amr: [...PASSWORD_AMR] })
        : undefined;
      const ttl = req.client.accessTokenTtl ?? ctx.config.tokens.accessTokenTtl;
      const at = await issueUserAccessToken(
        ctx,
        { subject: user.sub, clientId: req.client.id, audience, scopes, ttl, roles: user.roles, authTime: now, amr: PASSWORD_AMR, jkt: req.dpopJkt },
        refresh?.familyId,
      );
      return {
        access_token: at.token,
        token_type: req.dpopJkt ? 'DPoP' : 'Bearer',
        expires_in: ttl,
        ...(refresh ? { refresh_token: refresh.token } : {}),
        ...(scopes.length ? { scope: scopes.join(' ') } : {}),
      };
    },
  };
}
