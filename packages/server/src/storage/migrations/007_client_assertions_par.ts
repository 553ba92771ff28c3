import type { Kysely } from 'kysely';

/**
 * JWT client authentication (RFC 7523) and pushed authorization requests (RFC 9126): per-client
 * authentication settings, the assertion `jti` replay store, and pushed requests.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').addColumn('token_endpoint_auth_method', 'varchar(32)').execute();
  await db.schema.alterTable('clients').addColumn('token_endpoint_auth_signing_alg', 'varchar(16)').execute();
  await db.schema.alterTable('clients').addColumn('jwks', 'text').execute();
  await db.schema.alterTable('clients').addColumn('jwks_uri', 'text').execute();
  await db.schema.alterTable('clients').addColumn('secret_enc', 'text').execute();
  await db.schema.alterTable('clients').addColumn('require_par', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  // One row per used assertion (SHA-256 of client id + jti), kept until the assertion's exp.
  await db.schema
    .createTable('client_assertion_jtis')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('client_assertion_jtis_expires').on('client_assertion_jtis').column('expires_at').execute();

  await db.schema
    .createTable('pushed_authorization_requests')
    .addColumn('uri_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('client_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('consumed_at', 'bigint')
    .execute();
  await db.schema.createIndex('pushed_authorization_requests_expires').on('pushed_authorization_requests').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('pushed_authorization_requests').execute();
  await db.schema.dropTable('client_assertion_jtis').execute();
  for (const c of ['require_par', 'secret_enc', 'jwks_uri', 'jwks', 'token_endpoint_auth_signing_alg', 'token_endpoint_auth_method']) {
    await db.schema.alterTable('clients').dropColumn(c).execute();
  }
}
