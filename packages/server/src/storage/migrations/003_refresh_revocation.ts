import type { Kysely } from 'kysely';

/** Refresh-token families (rotation, reuse detection), issued user access tokens, and the jti denylist. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').addColumn('permissions', 'text', (c) => c.notNull().defaultTo('[]')).execute();

  await db.schema
    .createTable('refresh_families')
    .addColumn('family_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('client_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('sub', 'varchar(128)', (c) => c.notNull())
    .addColumn('sid', 'varchar(64)')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('resources', 'text', (c) => c.notNull())
    .addColumn('auth_time', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('absolute_expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoked_reason', 'varchar(64)')
    .execute();
  await db.schema.createIndex('refresh_families_sub').on('refresh_families').column('sub').execute();
  await db.schema.createIndex('refresh_families_sid').on('refresh_families').column('sid').execute();

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('family_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('rotated_at', 'bigint')
    .addColumn('grace_used', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('refresh_tokens_family').on('refresh_tokens').column('family_id').execute();

  await db.schema
    .createTable('issued_access_tokens')
    .addColumn('jti', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('family_id', 'varchar(64)')
    .addColumn('sid', 'varchar(64)')
    .addColumn('sub', 'varchar(128)', (c) => c.notNull())
    .addColumn('client_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('issued_access_tokens_family').on('issued_access_tokens').column('family_id').execute();
  await db.schema.createIndex('issued_access_tokens_sid').on('issued_access_tokens').column('sid').execute();
  await db.schema.createIndex('issued_access_tokens_sub').on('issued_access_tokens').column('sub').execute();

  await db.schema
    .createTable('revoked_tokens')
    .addColumn('jti', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('exp', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'varchar(64)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('revoked_tokens_revoked_at').on('revoked_tokens').column('revoked_at_ms').execute();
  await db.schema.createIndex('revoked_tokens_exp').on('revoked_tokens').column('exp').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['revoked_tokens', 'issued_access_tokens', 'refresh_tokens', 'refresh_families']) await db.schema.dropTable(t).execute();
  await db.schema.alterTable('clients').dropColumn('permissions').execute();
}
