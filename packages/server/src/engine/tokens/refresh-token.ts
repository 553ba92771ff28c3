import { randomBytes } from 'node:crypto';
import type { RefreshFamily, RefreshToken } from '../../storage/stores.js';
import { randomToken, sha256 } from '../sessions/secrets.js';
import type { EngineContext } from '../context.js';
import type { SecretBox } from '../keys/secret-box.js';

/** What a new family is granted: the family record without its bookkeeping. */
export type RefreshGrant = Pick<RefreshFamily, 'clientId' | 'sub' | 'sid' | 'scopes' | 'resources' | 'authTime' | 'amr' | 'dpopJkt'>;

/** A new opaque refresh token (256-bit, B14) for `familyId`; only its SHA-256 is stored (D9). */
export function newRefreshToken(familyId: string, now: number, idleTtl: number, absoluteExpiresAt: number, value = randomToken()): { value: string; row: RefreshToken } {
  return {
    value,
    row: {
      tokenHash: sha256(value),
      familyId,
      createdAt: now,
      expiresAt: Math.min(now + idleTtl, absoluteExpiresAt),
      rotatedAt: undefined,
      graceUsed: false,
      revokedAt: undefined,
    },
  };
}

/** Starts a refresh-token family for a new grant; returns the first token and the family id. */
export async function startRefreshFamily(ctx: EngineContext, grant: RefreshGrant): Promise<{ token: string; familyId: string }> {
  const now = ctx.now();
  const familyId = randomBytes(16).toString('base64url');
  const absoluteExpiresAt = now + ctx.config.refreshTokens.absoluteTtl;
  const { value, row } = newRefreshToken(familyId, now, ctx.config.refreshTokens.idleTtl, absoluteExpiresAt);
  await ctx.stores.refreshTokens.createFamily({ familyId, ...grant, createdAt: now, absoluteExpiresAt, revokedAt: undefined }, row);
  return { token: value, familyId };
}

/**
 * The one successor of refresh token `presented`: an HMAC of it under a key derived from the deployment
 * secret, shaped like `randomToken()` (256 bits, unpredictable without the secret). Deterministic so that
 * a retry of the same token within the retry window (refreshTokens.graceSeconds) is answered with the
 * very token the first request got, on any instance, without storing a token value: a family never has
 * more than one live refresh token.
 */
export function successorRefreshToken(box: SecretBox, presented: string, familyId: string, now: number, idleTtl: number, absoluteExpiresAt: number): { value: string; row: RefreshToken } {
  return newRefreshToken(familyId, now, idleTtl, absoluteExpiresAt, box.mac('refresh-successor', presented));
}
