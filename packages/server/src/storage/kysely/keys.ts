import type { Kysely, Selectable } from 'kysely';
import type { Database, SigningKeysTable } from '../schema.js';
import type { KeyStore, StoredKey } from '../stores.js';

function toKey(r: Selectable<SigningKeysTable>): StoredKey {
  return {
    kid: r.kid,
    alg: r.alg,
    state: r.state,
    publicJwk: JSON.parse(r.public_jwk) as Record<string, unknown>,
    privateJwkEnc: r.private_jwk_enc,
    createdAt: Number(r.created_at),
    activatedAt: r.activated_at === null ? undefined : Number(r.activated_at),
    retiredAt: r.retired_at === null ? undefined : Number(r.retired_at),
    publishUntil: r.publish_until === null ? undefined : Number(r.publish_until),
  };
}

export class KyselyKeyStore implements KeyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async list(): Promise<StoredKey[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
    return rows.map(toKey);
  }

  async insert(k: StoredKey): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values({
        kid: k.kid,
        alg: k.alg,
        state: k.state,
        public_jwk: JSON.stringify(k.publicJwk),
        private_jwk_enc: k.privateJwkEnc,
        created_at: k.createdAt,
        activated_at: k.activatedAt ?? null,
        retired_at: k.retiredAt ?? null,
        publish_until: k.publishUntil ?? null,
      })
      .execute();
  }

  async rotate(nextKid: string, now: number, publishUntil: number): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('signing_keys').select('alg').where('kid', '=', nextKid).executeTakeFirst();
      if (!row) return false;
      // Conditional update: only one racer can move this key out of `next`.
      const promoted = await tx
        .updateTable('signing_keys')
        .set({ state: 'active', activated_at: now })
        .where('kid', '=', nextKid)
        .where('state', '=', 'next')
        .executeTakeFirst();
      if (Number(promoted.numUpdatedRows) !== 1) return false;
      await tx
        .updateTable('signing_keys')
        .set({ state: 'retired', retired_at: now, publish_until: publishUntil })
        .where('state', '=', 'active')
        .where('alg', '=', row.alg)
        .where('kid', '!=', nextKid)
        .execute();
      return true;
    });
  }

  async retire(kid: string, now: number, publishUntil: number): Promise<boolean> {
    const r = await this.db
      .updateTable('signing_keys')
      .set({ state: 'retired', retired_at: now, publish_until: publishUntil })
      .where('kid', '=', kid)
      .where('state', '!=', 'retired')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async purgeRetired(now: number): Promise<number> {
    const r = await this.db
      .deleteFrom('signing_keys')
      .where('state', '=', 'retired')
      .where('publish_until', '<', now)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
