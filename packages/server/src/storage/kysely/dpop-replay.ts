import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { DpopReplayStore } from '../../engine/dpop/store.js';

/** The DPoP replay cache in the database: one conditional INSERT, so of two racing uses one wins. */
export class KyselyDpopReplayStore implements DpopReplayStore {
  constructor(private readonly db: Kysely<Database>) {}

  async use(id: string, expiresAt: number, now: number): Promise<boolean> {
    const r = await this.db
      .insertInto('dpop_replay')
      .values({ id, expires_at: expiresAt })
      .onConflict((oc) => oc.column('id').doUpdateSet({ expires_at: expiresAt }).where('dpop_replay.expires_at', '<', now))
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('dpop_replay').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
