import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { ClientRegistration, RegistrationStore } from '../stores.js';

/** RFC 7591/7592 registrations and initial access tokens, shared by every instance through the database. */
export class KyselyRegistrationStore implements RegistrationStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(r: Omit<ClientRegistration, 'deletedAt'>): Promise<void> {
    await this.db
      .insertInto('client_registrations')
      .values({ client_id: r.clientId, token_hash: r.tokenHash, created_ip: r.createdIp, created_at: r.createdAt, deleted_at: null })
      .execute();
  }

  async get(clientId: string): Promise<ClientRegistration | undefined> {
    const row = await this.db.selectFrom('client_registrations').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    if (!row) return undefined;
    return {
      clientId: row.client_id,
      tokenHash: row.token_hash,
      createdIp: row.created_ip,
      createdAt: Number(row.created_at),
      deletedAt: row.deleted_at === null ? undefined : Number(row.deleted_at),
    };
  }

  async countFrom(ip: string, since: number): Promise<number> {
    const row = await this.db
      .selectFrom('client_registrations')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('created_ip', '=', ip)
      .where('created_at', '>', since)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async markDeleted(clientId: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('client_registrations')
      .set({ deleted_at: now })
      .where('client_id', '=', clientId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async rotateToken(clientId: string, oldHash: string, newHash: string): Promise<boolean> {
    const r = await this.db
      .updateTable('client_registrations')
      .set({ token_hash: newHash })
      .where('client_id', '=', clientId)
      .where('token_hash', '=', oldHash)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async createInitialToken(t: { tokenHash: string; label: string; uses: number; createdAt: number; expiresAt: number }): Promise<void> {
    await this.db
      .insertInto('registration_initial_tokens')
      .values({ token_hash: t.tokenHash, label: t.label, uses_left: t.uses, created_at: t.createdAt, expires_at: t.expiresAt })
      .execute();
  }

  async useInitialToken(tokenHash: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('registration_initial_tokens')
      .set((eb) => ({ uses_left: eb('uses_left', '-', 1) }))
      .where('token_hash', '=', tokenHash)
      .where('uses_left', '>', 0)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
