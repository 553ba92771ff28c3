import type { Kysely } from 'kysely';

/** SECURITY-CHECKLIST B13: find earlier codes of a client with the same PKCE challenge. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('authorization_codes_challenge').on('authorization_codes').columns(['client_id', 'code_challenge']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('authorization_codes_challenge').execute();
}
