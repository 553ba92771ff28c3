import type { Kysely } from 'kysely';

/**
 * Issue 15 (TOTP, policy, amr/acr): one TOTP factor per user (secret encrypted at rest, last accepted
 * time step for replay protection), hashed one-time recovery codes, the per-user and per-client MFA
 * policy flags, and the RFC 8176 `amr` of sessions, codes and refresh families (JSON array; null = pwd).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mfa_totp')
    .addColumn('sub', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('confirmed_at', 'bigint')
    .addColumn('last_step', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('mfa_recovery_codes')
    .addColumn('code_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('sub', 'varchar(64)', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mfa_recovery_codes_sub').on('mfa_recovery_codes').column('sub').execute();
  await db.schema.alterTable('users').addColumn('mfa_required', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('clients').addColumn('require_mfa', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  for (const table of ['sessions', 'authorization_codes', 'refresh_families']) {
    await db.schema.alterTable(table).addColumn('amr', 'text').execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['refresh_families', 'authorization_codes', 'sessions']) {
    await db.schema.alterTable(table).dropColumn('amr').execute();
  }
  await db.schema.alterTable('clients').dropColumn('require_mfa').execute();
  await db.schema.alterTable('users').dropColumn('mfa_required').execute();
  await db.schema.dropTable('mfa_recovery_codes').execute();
  await db.schema.dropTable('mfa_totp').execute();
}
