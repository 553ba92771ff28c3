import type { Kysely, Selectable } from 'kysely';
import type { AuthorizationCodesTable, Database } from '../schema.js';
import type { AuthorizationCode, AuthorizationCodeStore, IssuedToken } from '../stores.js';

function toCode(r: Selectable<AuthorizationCodesTable>): AuthorizationCode {
  return {
    codeHash: r.code_hash,
    clientId: r.client_id,
    sub: r.sub,
    redirectUri: r.redirect_uri,
    redirectUriSent: r.redirect_uri_sent === 1,
    codeChallenge: r.code_challenge,
    codeChallengeMethod: 'S256',
    nonce: r.nonce ?? undefined,
    scopes: JSON.parse(r.scope) as string[],
    resources: JSON.parse(r.resources) as string[],
    authTime: Number(r.auth_time),
    ...(r.amr !== null ? { amr: JSON.parse(r.amr) as string[] } : {}),
    sid: r.sid ?? undefined,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    consumedAt: r.consumed_at === null ? undefined : Number(r.consumed_at),
    revokedAt: r.revoked_at === null ? undefined : Number(r.revoked_at),
    dpopJkt: r.dpop_jkt ?? undefined,
  };
}

export class KyselyAuthorizationCodeStore implements AuthorizationCodeStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(c: AuthorizationCode): Promise<void> {
    await this.db
      .insertInto('authorization_codes')
      .values({
        code_hash: c.codeHash,
        client_id: c.clientId,
        sub: c.sub,
        redirect_uri: c.redirectUri,
        redirect_uri_sent: c.redirectUriSent ? 1 : 0,
        code_challenge: c.codeChallenge,
        code_challenge_method: c.codeChallengeMethod,
        nonce: c.nonce ?? null,
        scope: JSON.stringify(c.scopes),
        resources: JSON.stringify(c.resources),
        auth_time: c.authTime,
        amr: c.amr ? JSON.stringify(c.amr) : null,
        sid: c.sid ?? null,
        created_at: c.createdAt,
        expires_at: c.expiresAt,
        consumed_at: null,
        revoked_at: null,
        dpop_jkt: c.dpopJkt ?? null,
      })
      .execute();
  }

  async get(codeHash: string): Promise<AuthorizationCode | undefined> {
    const row = await this.db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
    return row ? toCode(row) : undefined;
  }

  async consume(codeHash: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('authorization_codes')
      .set({ consumed_at: now })
      .where('code_hash', '=', codeHash)
      .where('consumed_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async revoke(codeHash: string, now: number): Promise<IssuedToken[]> {
    await this.db
      .updateTable('authorization_codes')
      .set({ revoked_at: now })
      .where('code_hash', '=', codeHash)
      .where('revoked_at', 'is', null)
      .execute();
    const rows = await this.db.selectFrom('code_issued_tokens').selectAll().where('code_hash', '=', codeHash).execute();
    return rows.map((r) => ({ jti: r.jti, type: r.token_type === 'refresh_family' ? 'refresh_family' : 'access_token', expiresAt: Number(r.expires_at) }));
  }

  async recordIssued(codeHash: string, tokens: IssuedToken[]): Promise<void> {
    if (!tokens.length) return;
    await this.db
      .insertInto('code_issued_tokens')
      .values(tokens.map((t) => ({ code_hash: codeHash, jti: t.jti, token_type: t.type, expires_at: t.expiresAt })))
      .execute();
  }

  async challengeSeen(clientId: string, codeChallenge: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('authorization_codes')
      .select('code_hash')
      .where('client_id', '=', clientId)
      .where('code_challenge', '=', codeChallenge)
      .executeTakeFirst();
    return row !== undefined;
  }

  async isRevokedToken(jti: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('code_issued_tokens')
      .innerJoin('authorization_codes', 'authorization_codes.code_hash', 'code_issued_tokens.code_hash')
      .select('authorization_codes.revoked_at')
      .where('code_issued_tokens.jti', '=', jti)
      .where('authorization_codes.revoked_at', 'is not', null)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Deletes codes past expiry whose issued tokens have all expired too (a revoked code must stay
   * until then so its tokens keep failing checks).
   */
  async purgeExpired(before: number): Promise<number> {
    const r = await this.db
      .deleteFrom('authorization_codes')
      .where('expires_at', '<', before)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb.selectFrom('code_issued_tokens')
              .select('code_issued_tokens.jti')
              .whereRef('code_issued_tokens.code_hash', '=', 'authorization_codes.code_hash')
              .where('code_issued_tokens.expires_at', '>=', before),
          ),
        ),
      )
      .executeTakeFirst();
    await this.db
      .deleteFrom('code_issued_tokens')
      .where('expires_at', '<', before)
      .where((eb) =>
        eb.not(eb.exists(eb.selectFrom('authorization_codes').select('code_hash').whereRef('authorization_codes.code_hash', '=', 'code_issued_tokens.code_hash'))),
      )
      .execute();
    return Number(r.numDeletedRows);
  }
}
