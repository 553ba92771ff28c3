import type { Kysely, Selectable } from 'kysely';
import type { Database, InteractionsTable } from '../schema.js';
import type { Interaction, InteractionStore } from '../stores.js';

function toInteraction(r: Selectable<InteractionsTable>): Interaction {
  return {
    idHash: r.id_hash,
    browserHash: r.browser_hash,
    clientId: r.client_id,
    request: JSON.parse(r.request) as Record<string, unknown>,
    loginSub: r.login_sub ?? undefined,
    loginAt: r.login_at === null ? undefined : Number(r.login_at),
    consented: r.consented === 1,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
  };
}

export class KyselyInteractionStore implements InteractionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(i: Interaction): Promise<void> {
    await this.db
      .insertInto('interactions')
      .values({
        id_hash: i.idHash,
        browser_hash: i.browserHash,
        client_id: i.clientId,
        request: JSON.stringify(i.request),
        login_sub: i.loginSub ?? null,
        login_at: i.loginAt ?? null,
        consented: i.consented ? 1 : 0,
        created_at: i.createdAt,
        expires_at: i.expiresAt,
      })
      .execute();
  }

  async get(idHash: string, now: number): Promise<Interaction | undefined> {
    const row = await this.db
      .selectFrom('interactions')
      .selectAll()
      .where('id_hash', '=', idHash)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row ? toInteraction(row) : undefined;
  }

  async recordLogin(idHash: string, sub: string, at: number): Promise<void> {
    await this.db.updateTable('interactions').set({ login_sub: sub, login_at: at }).where('id_hash', '=', idHash).execute();
  }

  async recordConsent(idHash: string): Promise<void> {
    await this.db.updateTable('interactions').set({ consented: 1 }).where('id_hash', '=', idHash).execute();
  }

  async consume(idHash: string): Promise<boolean> {
    const r = await this.db.deleteFrom('interactions').where('id_hash', '=', idHash).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('interactions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
