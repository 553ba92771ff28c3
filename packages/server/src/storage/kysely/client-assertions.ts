import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { AssertionReplayStore } from '../stores.js';

/**
 * Used client-assertion jtis. One INSERT … ON CONFLICT decides (DESIGN.md §5): of two instances racing
 * on one assertion, the database lets exactly one write; an entry whose assertion has expired may be
 * taken over by a new one with the same jti (RFC 7523 §3: unique only within its lifetime).
 */
export class KyselyAssertionReplayStore implements AssertionReplayStore {
  constructor(private readonly db: Kysely<Database>) {}

  async use(id: string, expiresAt: number, now: number): Promise<boolean> {
    const r = await this.db
      .insertInto('client_assertion_jtis')
      .values({ id, expires_at: expiresAt })
      .onConflict((oc) => oc.column('id').doUpdateSet({ expires_at: expiresAt }).where('client_assertion_jtis.expires_at', '<', now))
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('client_assertion_jtis').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
