import type { Kysely } from 'kysely';

/**
 * Issue 12 items 5 and 6, two client columns: `allowed_origins` (JSON array of browser origins that may
 * call /token, /revoke and /userinfo besides a public client's redirect-URI origins) and
 * `id_token_signed_response_alg` (OIDC Dynamic Client Registration §2; null = RS256).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').addColumn('allowed_origins', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('clients').addColumn('id_token_signed_response_alg', 'varchar(16)').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').dropColumn('id_token_signed_response_alg').execute();
  await db.schema.alterTable('clients').dropColumn('allowed_origins').execute();
}
