import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, RefreshFamiliesTable, RefreshTokensTable } from '../schema.js';
import { issuedRow } from './revocations.js';
import type { IssuedAccessToken, RefreshFamily, RefreshToken, RefreshTokenStore, RotateOutcome } from '../stores.js';

function toFamily(r: Selectable<RefreshFamiliesTable>): RefreshFamily {
  return {
    familyId: r.family_id,
    clientId: r.client_id,
    sub: r.sub,
    sid: r.sid ?? undefined,
    scopes: JSON.parse(r.scope) as string[],
    resources: JSON.parse(r.resources) as string[],
    authTime: Number(r.auth_time),
    ...(r.amr !== null ? { amr: JSON.parse(r.amr) as string[] } : {}),
    createdAt: Number(r.created_at),
    absoluteExpiresAt: Number(r.absolute_expires_at),
    revokedAt: r.revoked_at === null ? undefined : Number(r.revoked_at),
    dpopJkt: r.dpop_jkt ?? undefined,
  };
}

function toToken(r: Selectable<RefreshTokensTable>): RefreshToken {
  return {
    tokenHash: r.token_hash,
    familyId: r.family_id,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    rotatedAt: r.rotated_at === null ? undefined : Number(r.rotated_at),
    graceUsed: Number(r.grace_used) > 0,
    revokedAt: r.revoked_at === null ? undefined : Number(r.revoked_at),
  };
}

function tokenRow(t: RefreshToken): RefreshTokensTable {
  return {
    token_hash: t.tokenHash,
    family_id: t.familyId,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    rotated_at: null,
    grace_used: 0,
    revoked_at: null,
  };
}

export class KyselyRefreshTokenStore implements RefreshTokenStore {
  constructor(private readonly db: Kysely<Database>) {}

  async createFamily(f: RefreshFamily, first: RefreshToken): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('refresh_families')
        .values({
          family_id: f.familyId,
          client_id: f.clientId,
          sub: f.sub,
          sid: f.sid ?? null,
          scope: JSON.stringify(f.scopes),
          resources: JSON.stringify(f.resources),
          auth_time: f.authTime,
          amr: f.amr ? JSON.stringify(f.amr) : null,
          created_at: f.createdAt,
          absolute_expires_at: f.absoluteExpiresAt,
          revoked_at: null,
          revoked_reason: null,
          dpop_jkt: f.dpopJkt ?? null,
        })
        .execute();
      await tx.insertInto('refresh_tokens').values(tokenRow(first)).execute();
    });
  }

  async find(tokenHash: string): Promise<{ token: RefreshToken; family: RefreshFamily } | undefined> {
    // One statement on the hot path: the token joined with its family.
    const r = await this.db
      .selectFrom('refresh_tokens as t')
      .innerJoin('refresh_families as f', 'f.family_id', 't.family_id')
      .select([
        't.token_hash', 't.family_id', 't.created_at', 't.expires_at', 't.rotated_at', 't.grace_used', 't.revoked_at',
        'f.client_id', 'f.sub', 'f.sid', 'f.scope', 'f.resources', 'f.auth_time', 'f.amr', 'f.created_at as family_created_at',
        'f.absolute_expires_at', 'f.revoked_at as family_revoked_at', 'f.revoked_reason', 'f.dpop_jkt',
      ])
      .where('t.token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!r) return undefined;
    return {
      token: toToken(r),
      family: toFamily({ ...r, created_at: r.family_created_at, revoked_at: r.family_revoked_at }),
    };
  }

  async rotate(oldHash: string, next: RefreshToken, now: number, retryWindow: number, issued?: IssuedAccessToken): Promise<RotateOutcome> {
    return this.db.transaction().execute(async (tx) => {
      const outcome = await rotateIn(tx, oldHash, next, now, retryWindow);
      // The access token minted for this refresh is recorded in the same commit (one fewer on the hot path).
      if (outcome !== 'lost' && issued) await tx.insertInto('issued_access_tokens').values(issuedRow(issued)).execute();
      return outcome;
    });
  }

  async revokeFamily(familyId: string, now: number, reason: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('refresh_families')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('family_id', '=', familyId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      await tx.updateTable('refresh_tokens').set({ revoked_at: now }).where('family_id', '=', familyId).where('revoked_at', 'is', null).execute();
      return Number(r.numUpdatedRows) === 1;
    });
  }

  async bindDpopKey(familyId: string, jkt: string): Promise<boolean> {
    await this.db.updateTable('refresh_families').set({ dpop_jkt: jkt }).where('family_id', '=', familyId).where('dpop_jkt', 'is', null).execute();
    const row = await this.db.selectFrom('refresh_families').select('dpop_jkt').where('family_id', '=', familyId).executeTakeFirst();
    return row?.dpop_jkt === jkt;
  }

  async familiesFor(filter: { sid?: string; sub?: string }): Promise<string[]> {
    if (filter.sid === undefined && filter.sub === undefined) return [];
    let q = this.db.selectFrom('refresh_families').select('family_id').where('revoked_at', 'is', null);
    if (filter.sid !== undefined) q = q.where('sid', '=', filter.sid);
    if (filter.sub !== undefined) q = q.where('sub', '=', filter.sub);
    return (await q.execute()).map((r) => r.family_id);
  }

  async purgeExpired(now: number): Promise<number> {
    const gone = await this.db.selectFrom('refresh_families').select('family_id').where('absolute_expires_at', '<', now).execute();
    if (!gone.length) return 0;
    const ids = gone.map((g) => g.family_id);
    await this.db.deleteFrom('refresh_tokens').where('family_id', 'in', ids).execute();
    await this.db.deleteFrom('refresh_families').where('family_id', 'in', ids).execute();
    return ids.length;
  }
}

/** Retries answered per token within its window (several tabs at once); past it, one more is reuse. */
const MAX_RETRIES = 20;

/** Rotation proper, inside the caller's transaction (see RefreshTokenStore.rotate). */
async function rotateIn(tx: Transaction<Database>, oldHash: string, next: RefreshToken, now: number, retryWindow: number): Promise<RotateOutcome> {
  const won = await tx
    .updateTable('refresh_tokens')
    .set({ rotated_at: now })
    .where('token_hash', '=', oldHash)
    .where('rotated_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(won.numUpdatedRows) === 1) {
    await tx.insertInto('refresh_tokens').values(tokenRow(next)).execute();
    return 'rotated';
  }
  if (retryWindow <= 0) return 'lost';
  // A retry: the old token was rotated at most `retryWindow` seconds ago (counted, at most MAX_RETRIES)...
  const retry = await tx
    .updateTable('refresh_tokens')
    .set({ grace_used: sql<number>`grace_used + 1` })
    .where('token_hash', '=', oldHash)
    .where('revoked_at', 'is', null)
    .where('rotated_at', '>=', now - retryWindow)
    .where('grace_used', '<', MAX_RETRIES)
    .executeTakeFirst();
  if (Number(retry.numUpdatedRows) !== 1) return 'lost';
  // ...and its successor (`next` is derived from the old token, so it is the same row the winner made) is
  // still the family's live token. The no-op UPDATE locks that row (PostgreSQL): a concurrent rotation of
  // the successor waits for this commit instead of racing it.
  const live = await tx
    .updateTable('refresh_tokens')
    .set({ grace_used: sql<number>`grace_used` })
    .where('token_hash', '=', next.tokenHash)
    .where('family_id', '=', next.familyId)
    .where('rotated_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(live.numUpdatedRows) === 1 ? 'grace' : 'lost';
}
