import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, UsersTable } from '../schema.js';
import type { User, UserStore } from '../stores.js';

function toUser(r: Selectable<UsersTable>): User {
  return {
    sub: r.sub,
    username: r.username,
    email: r.email ?? undefined,
    emailVerified: r.email_verified === 1,
    name: r.name ?? undefined,
    passwordHash: r.password_hash,
    roles: JSON.parse(r.roles) as string[],
    ...(Number(r.mfa_required) === 1 ? { mfaRequired: true } : {}),
    source: r.source,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function toRow(u: User): Insertable<UsersTable> {
  return {
    sub: u.sub,
    username: u.username,
    email: u.email ?? null,
    email_verified: u.emailVerified ? 1 : 0,
    name: u.name ?? null,
    password_hash: u.passwordHash,
    roles: JSON.stringify(u.roles),
    mfa_required: u.mfaRequired ? 1 : 0,
    source: u.source,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
  };
}

export class KyselyUserStore implements UserStore {
  constructor(private readonly db: Kysely<Database>) {}

  async get(sub: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('sub', '=', sub).executeTakeFirst();
    return row ? toUser(row) : undefined;
  }

  async findByLogin(login: string): Promise<User | undefined> {
    // A username match wins over an e-mail match.
    const byName = await this.db.selectFrom('users').selectAll().where('username', '=', login).executeTakeFirst();
    const row = byName ?? (await this.db.selectFrom('users').selectAll().where('email', '=', login).executeTakeFirst());
    return row ? toUser(row) : undefined;
  }

  async list(): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('username').execute();
    return rows.map(toUser);
  }

  async upsert(user: User): Promise<void> {
    const row = toRow(user);
    const { sub: _sub, created_at: _created, ...update } = row;
    await this.db
      .insertInto('users')
      .values(row)
      .onConflict((oc) => oc.column('sub').doUpdateSet(update))
      .execute();
  }

  async delete(sub: string): Promise<boolean> {
    const r = await this.db.deleteFrom('users').where('sub', '=', sub).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
