import type { Kysely } from 'kysely';

/**
 * Device authorization grant (RFC 8628): one row per device authorization request. Codes are stored
 * only as hashes; the user code hash is unique so a lookup by user code finds exactly one request.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('device_codes')
    .addColumn('device_code_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_code_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('client_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('resources', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('sub', 'varchar(64)')
    .addColumn('auth_time', 'bigint')
    .addColumn('poll_interval', 'integer', (c) => c.notNull())
    .addColumn('last_poll_ms', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .execute();
  await db.schema.createIndex('device_codes_expires').on('device_codes').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('device_codes').execute();
}
