import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { PushedRequest, PushedRequestStore } from '../stores.js';

/** RFC 9126 pushed authorization requests, shared by every instance through the database. */
export class KyselyPushedRequestStore implements PushedRequestStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(r: PushedRequest): Promise<void> {
    await this.db
      .insertInto('pushed_authorization_requests')
      .values({ uri_hash: r.uriHash, client_id: r.clientId, params: JSON.stringify(r.params), created_at: r.createdAt, expires_at: r.expiresAt, consumed_at: null })
      .execute();
  }

  async consume(uriHash: string, clientId: string, now: number): Promise<PushedRequest | undefined> {
    const won = await this.db
      .updateTable('pushed_authorization_requests')
      .set({ consumed_at: now })
      .where('uri_hash', '=', uriHash)
      .where('client_id', '=', clientId)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (Number(won.numUpdatedRows) !== 1) return undefined;
    const row = await this.db.selectFrom('pushed_authorization_requests').selectAll().where('uri_hash', '=', uriHash).executeTakeFirst();
    if (!row) return undefined;
    return {
      uriHash: row.uri_hash,
      clientId: row.client_id,
      params: JSON.parse(row.params) as Record<string, string | string[]>,
      createdAt: Number(row.created_at),
      expiresAt: Number(row.expires_at),
    };
  }

  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('pushed_authorization_requests').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
