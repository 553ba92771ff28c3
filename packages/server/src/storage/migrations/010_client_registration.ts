import type { Kysely } from 'kysely';

/**
 * Dynamic client registration (RFC 7591, RFC 7592): a `disabled` flag on clients, one row per registered
 * client (its hashed registration access token, the registering source and time, kept after deletion so
 * the per-source hourly limit cannot be reset by deleting), and the operator's initial access tokens.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema
    .createTable('client_registrations')
    .addColumn('client_id', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_ip', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await db.schema.createIndex('client_registrations_source').on('client_registrations').columns(['created_ip', 'created_at']).execute();
  await db.schema
    .createTable('registration_initial_tokens')
    .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('label', 'varchar(200)', (c) => c.notNull())
    .addColumn('uses_left', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('registration_initial_tokens').execute();
  await db.schema.dropTable('client_registrations').execute();
  await db.schema.alterTable('clients').dropColumn('disabled').execute();
}
