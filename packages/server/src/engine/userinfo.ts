import { InsufficientScope, InvalidToken } from '@tessera/protocol';
import { USER_SUB_PREFIX } from '../config/load.js';
import type { EngineContext } from './context.js';
import { verifyAccessToken } from './tokens/verify-access-token.js';
import { checkSenderConstraint, type PresentedToken } from './dpop/binding.js';

/**
 * OIDC Core §5.3 UserInfo: the bearer token must be ours, for this issuer, granted `openid`, issued to
 * a user, sent the way it is bound (Bearer, or DPoP with a proof — RFC 9449 §7), and not revoked (denylist: logout, refresh-token reuse, code replay). Returns `sub` plus the standard claims (§5.1) of the granted
 * scopes (§5.4): `profile` → name, preferred_username, updated_at; `email` → email, email_verified.
 */
export async function userinfo(presented: PresentedToken, ctx: EngineContext): Promise<Record<string, unknown>> {
  const claims = await verifyAccessToken(presented.token, ctx.keyring, ctx.config.issuer, ctx.config.issuer);
  // RFC 9449 §7: a DPoP-bound token only with the DPoP scheme and a proof of its key.
  await checkSenderConstraint(presented, claims, ctx.dpop);
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  if (!scopes.includes('openid')) throw new InsufficientScope('the access token was not granted the openid scope', { scope: 'openid' });
  if (!claims.sub!.startsWith(USER_SUB_PREFIX)) throw new InvalidToken('the access token was not issued to a user');
  if (await ctx.revoker.isRevoked(claims.jti!)) {
    throw new InvalidToken('the access token was revoked', { debug: 'denylisted or grant revoked' });
  }
  const user = await ctx.stores.users.get(claims.sub!);
  if (!user) throw new InvalidToken('the user no longer exists');

  const out: Record<string, unknown> = { sub: user.sub };
  if (scopes.includes('profile')) {
    out.preferred_username = user.username;
    if (user.name) out.name = user.name;
    out.updated_at = user.updatedAt;
  }
  if (scopes.includes('email') && user.email) {
    out.email = user.email;
    out.email_verified = user.emailVerified;
  }
  return out;
}
