import type { Kysely } from 'kysely';
import type { Database, IssuedAccessTokensTable } from '../schema.js';
import type { DeniedToken, IssuedAccessToken, RevocationStore } from '../stores.js';

export class KyselyRevocationStore implements RevocationStore {
  constructor(private readonly db: Kysely<Database>) {}

  async recordIssued(t: IssuedAccessToken): Promise<void> {
    await this.db.insertInto('issued_access_tokens').values(issuedRow(t)).execute();
  }

  async liveTokens(filter: { familyId?: string; sid?: string; sub?: string }, now: number): Promise<{ jti: string; exp: number }[]> {
    if (filter.familyId === undefined && filter.sid === undefined && filter.sub === undefined) return [];
    let q = this.db.selectFrom('issued_access_tokens').select(['jti', 'expires_at']).where('expires_at', '>', now);
    if (filter.familyId !== undefined) q = q.where('family_id', '=', filter.familyId);
    if (filter.sid !== undefined) q = q.where('sid', '=', filter.sid);
    if (filter.sub !== undefined) q = q.where('sub', '=', filter.sub);
    return (await q.execute()).map((r) => ({ jti: r.jti, exp: Number(r.expires_at) }));
  }

  async deny(tokens: { jti: string; exp: number }[], nowMs: number, reason: string): Promise<DeniedToken[]> {
    const added: DeniedToken[] = [];
    for (const t of tokens) {
      const r = await this.db
        .insertInto('revoked_tokens')
        .values({ jti: t.jti, exp: t.exp, revoked_at_ms: nowMs, reason })
        .onConflict((oc) => oc.column('jti').doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0) > 0) added.push({ jti: t.jti, exp: t.exp, revokedAtMs: nowMs });
    }
    return added;
  }

  async isDenied(jti: string): Promise<boolean> {
    return (await this.db.selectFrom('revoked_tokens').select('jti').where('jti', '=', jti).executeTakeFirst()) !== undefined;
  }

  async deniedSince(sinceMs: number, now: number, limit: number): Promise<DeniedToken[]> {
    const rows = await this.db
      .selectFrom('revoked_tokens')
      .select(['jti', 'exp', 'revoked_at_ms'])
      .where('revoked_at_ms', '>=', sinceMs)
      .where('exp', '>', now)
      .orderBy('revoked_at_ms')
      .orderBy('jti')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ jti: r.jti, exp: Number(r.exp), revokedAtMs: Number(r.revoked_at_ms) }));
  }

  async purgeExpired(now: number): Promise<number> {
    await this.db.deleteFrom('issued_access_tokens').where('expires_at', '<', now).execute();
    const r = await this.db.deleteFrom('revoked_tokens').where('exp', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

export function issuedRow(t: IssuedAccessToken): IssuedAccessTokensTable {
  return { jti: t.jti, family_id: t.familyId ?? null, sid: t.sid ?? null, sub: t.sub, client_id: t.clientId, expires_at: t.expiresAt };
}
