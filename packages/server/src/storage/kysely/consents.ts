import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { ConsentStore } from '../stores.js';

export class KyselyConsentStore implements ConsentStore {
  constructor(private readonly db: Kysely<Database>) {}

  async get(sub: string, clientId: string): Promise<string[]> {
    const row = await this.db
      .selectFrom('consents')
      .select('scopes')
      .where('sub', '=', sub)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row ? (JSON.parse(row.scopes) as string[]) : [];
  }

  async grant(sub: string, clientId: string, scopes: string[], now: number): Promise<void> {
    // Read-merge-write is fine here: two concurrent grants for one user+client can only lose a scope
    // from the remembered set, which costs the user one more consent screen, never extra access.
    const merged = [...new Set([...(await this.get(sub, clientId)), ...scopes])].sort();
    await this.db
      .insertInto('consents')
      .values({ sub, client_id: clientId, scopes: JSON.stringify(merged), updated_at: now })
      .onConflict((oc) => oc.columns(['sub', 'client_id']).doUpdateSet({ scopes: JSON.stringify(merged), updated_at: now }))
      .execute();
  }

  async revoke(sub: string, clientId: string): Promise<void> {
    await this.db.deleteFrom('consents').where('sub', '=', sub).where('client_id', '=', clientId).execute();
  }
}
