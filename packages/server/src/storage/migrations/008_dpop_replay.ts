import type { Kysely } from 'kysely';

/**
 * DPoP (RFC 9449): the proof `jti` replay cache shared by every instance, the per-client
 * `dpopBoundAccessTokens` flag, and the key thumbprint (`jkt`) an authorization code (`dpop_jkt`,
 * §10) or a public client's refresh-token family (§5) is bound to.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('dpop_replay')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dpop_replay_expires').on('dpop_replay').column('expires_at').execute();
  await db.schema.alterTable('clients').addColumn('dpop_bound_access_tokens', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('authorization_codes').addColumn('dpop_jkt', 'varchar(64)').execute();
  await db.schema.alterTable('refresh_families').addColumn('dpop_jkt', 'varchar(64)').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('refresh_families').dropColumn('dpop_jkt').execute();
  await db.schema.alterTable('authorization_codes').dropColumn('dpop_jkt').execute();
  await db.schema.alterTable('clients').dropColumn('dpop_bound_access_tokens').execute();
  await db.schema.dropTable('dpop_replay').execute();
}
