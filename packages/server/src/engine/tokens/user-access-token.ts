import type { EngineContext } from '../context.js';
import { mintAccessToken, type AccessTokenInput, type MintedAccessToken } from './access-token.js';

/**
 * Mints an access token for a user and records its jti with its family and session, so that logout,
 * family revocation and reuse detection can put it on the denylist before it expires.
 */
export async function issueUserAccessToken(ctx: EngineContext, input: Omit<AccessTokenInput, 'issuer' | 'now'>, familyId: string | undefined): Promise<MintedAccessToken> {
  const at = await mintAccessToken(ctx.keyring, { ...input, issuer: ctx.config.issuer, now: ctx.now() });
  await ctx.stores.revocations.recordIssued({ jti: at.jti, familyId, sid: input.sid, sub: input.subject, clientId: input.clientId, expiresAt: at.exp });
  return at;
}
