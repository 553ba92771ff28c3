import type { Kysely, Selectable } from 'kysely';
import type { Database, SessionsTable } from '../schema.js';
import type { Session, SessionStore } from '../stores.js';

function toSession(r: Selectable<SessionsTable>): Session {
  return {
    idHash: r.id_hash,
    sid: r.sid,
    sub: r.sub,
    authTime: Number(r.auth_time),
    ...(r.amr !== null ? { amr: JSON.parse(r.amr) as string[] } : {}),
    createdAt: Number(r.created_at),
    lastSeenAt: Number(r.last_seen_at),
    expiresAt: Number(r.expires_at),
  };
}

export class KyselySessionStore implements SessionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(s: Session): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        id_hash: s.idHash,
        sid: s.sid,
        sub: s.sub,
        auth_time: s.authTime,
        amr: s.amr ? JSON.stringify(s.amr) : null,
        created_at: s.createdAt,
        last_seen_at: s.lastSeenAt,
        expires_at: s.expiresAt,
      })
      .execute();
  }

  async get(idHash: string): Promise<Session | undefined> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    return row ? toSession(row) : undefined;
  }

  async touch(idHash: string, now: number): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
  }

  async upgrade(idHash: string, amr: string[], authTime: number): Promise<void> {
    await this.db.updateTable('sessions').set({ amr: JSON.stringify(amr), auth_time: authTime }).where('id_hash', '=', idHash).execute();
  }

  async delete(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  async deleteForUser(sub: string): Promise<number> {
    const r = await this.db.deleteFrom('sessions').where('sub', '=', sub).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async purgeExpired(idleBefore: number, now: number): Promise<number> {
    const r = await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<', idleBefore)]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
