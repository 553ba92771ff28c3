import type { DeniedToken, Stores } from '../../storage/stores.js';
import type { RevocationHub } from './hub.js';

export type AuditLog = (event: string, data: Record<string, unknown>) => void;

/**
 * The one place tokens are revoked: refresh-token families end, and the live access tokens issued from
 * them (or from a session, or to a user) go on the jti denylist until their `exp` (DESIGN.md §3), which
 * the revocation feed then carries to resource servers.
 */
export class Revoker {
  constructor(
    private readonly stores: Stores,
    private readonly hub: RevocationHub,
    private readonly now: () => number,
    private readonly audit: AuditLog,
    /** Told of every newly denylisted batch (Redis fan-out, metrics). */
    private readonly onDenied: (added: DeniedToken[], reason: string) => void = () => undefined,
  ) {}

  /** Denylists access tokens by jti until their exp. */
  async denyAccessTokens(tokens: { jti: string; exp: number }[], reason: string): Promise<DeniedToken[]> {
    const live = tokens.filter((t) => t.exp > this.now());
    if (!live.length) return [];
    const added = await this.stores.revocations.deny(live, Date.now(), reason);
    this.hub.publish(added);
    if (added.length) this.onDenied(added, reason);
    return added;
  }

  /** Ends a family (RFC 7009 §2.1, RFC 9700 §4.14.2) and denylists the access tokens it issued. */
  async revokeFamily(familyId: string, reason: string): Promise<void> {
    await this.stores.refreshTokens.revokeFamily(familyId, this.now(), reason);
    await this.denyAccessTokens(await this.stores.revocations.liveTokens({ familyId }, this.now()), reason);
  }

  /** Logout: every family of the session, and every live access token tied to it. */
  async revokeSession(sid: string, reason: string): Promise<void> {
    for (const f of await this.stores.refreshTokens.familiesFor({ sid })) await this.stores.refreshTokens.revokeFamily(f, this.now(), reason);
    await this.denyAccessTokens(await this.stores.revocations.liveTokens({ sid }, this.now()), reason);
    this.audit('session_revoked', { sid, reason });
  }

  /** `tessera users logout`, password change: every family and access token of the user. */
  async revokeUser(sub: string, reason: string): Promise<void> {
    for (const f of await this.stores.refreshTokens.familiesFor({ sub })) await this.stores.refreshTokens.revokeFamily(f, this.now(), reason);
    await this.denyAccessTokens(await this.stores.revocations.liveTokens({ sub }, this.now()), reason);
    this.audit('user_tokens_revoked', { sub, reason });
  }

  /** True for an access token on the denylist or issued from a code whose grant was revoked (replay). */
  async isRevoked(jti: string): Promise<boolean> {
    return (await this.stores.revocations.isDenied(jti)) || (await this.stores.codes.isRevokedToken(jti));
  }
}
