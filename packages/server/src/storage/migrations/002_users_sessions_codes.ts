import type { Kysely } from 'kysely';

/**
 * Users, browser sessions, pending authorization interactions, consents, login throttling and
 * authorization codes (issue 3). Dialect-neutral: booleans are integers, times bigint epoch seconds,
 * JSON text. Secrets (session ids, interaction ids, codes) are stored only as SHA-256 hashes (D9).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('clients')
    .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('sub', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('username', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('email', 'varchar(254)', (c) => c.unique())
    .addColumn('email_verified', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('name', 'varchar(200)')
    .addColumn('password_hash', 'varchar(200)', (c) => c.notNull())
    .addColumn('roles', 'text', (c) => c.notNull())
    .addColumn('source', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('sid', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('sub', 'varchar(64)', (c) => c.notNull().references('users.sub').onDelete('cascade'))
    .addColumn('auth_time', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_sub').on('sessions').column('sub').execute();
  await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();

  await db.schema
    .createTable('interactions')
    .addColumn('id_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('browser_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('client_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('login_sub', 'varchar(64)')
    .addColumn('login_at', 'bigint')
    .addColumn('consented', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('interactions_expires').on('interactions').column('expires_at').execute();

  await db.schema
    .createTable('consents')
    .addColumn('sub', 'varchar(64)', (c) => c.notNull().references('users.sub').onDelete('cascade'))
    .addColumn('client_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('consents_pk', ['sub', 'client_id'])
    .execute();

  await db.schema
    .createTable('login_attempts')
    .addColumn('key', 'varchar(300)', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('authorization_codes')
    .addColumn('code_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('client_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('sub', 'varchar(64)', (c) => c.notNull())
    .addColumn('redirect_uri', 'varchar(2000)', (c) => c.notNull())
    .addColumn('redirect_uri_sent', 'integer', (c) => c.notNull())
    .addColumn('code_challenge', 'varchar(128)', (c) => c.notNull())
    .addColumn('code_challenge_method', 'varchar(16)', (c) => c.notNull())
    .addColumn('nonce', 'varchar(512)')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('resources', 'text', (c) => c.notNull())
    .addColumn('auth_time', 'bigint', (c) => c.notNull())
    .addColumn('sid', 'varchar(64)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('consumed_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('authorization_codes_expires').on('authorization_codes').column('expires_at').execute();

  // What each code's redemption issued, so a replay can revoke it (RFC 6749 §4.1.2). Issue 4's
  // denylist and refresh-token families key off this table.
  await db.schema
    .createTable('code_issued_tokens')
    .addColumn('code_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('jti', 'varchar(64)', (c) => c.notNull())
    .addColumn('token_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('code_issued_tokens_pk', ['code_hash', 'jti'])
    .execute();
  await db.schema.createIndex('code_issued_tokens_jti').on('code_issued_tokens').column('jti').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['code_issued_tokens', 'authorization_codes', 'login_attempts', 'consents', 'interactions', 'sessions', 'users']) {
    await db.schema.dropTable(t).execute();
  }
  await db.schema.alterTable('clients').dropColumn('post_logout_redirect_uris').execute();
}
