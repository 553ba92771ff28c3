import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { MfaStore, TotpFactor } from '../stores.js';

/** TOTP factors and recovery codes (migration 012); every consume is one conditional UPDATE. */
export class KyselyMfaStore implements MfaStore {
  constructor(private readonly db: Kysely<Database>) {}

  async getTotp(sub: string): Promise<TotpFactor | undefined> {
    const r = await this.db.selectFrom('mfa_totp').selectAll().where('sub', '=', sub).executeTakeFirst();
    if (!r) return undefined;
    return {
      sub: r.sub,
      secretEnc: r.secret_enc,
      confirmedAt: r.confirmed_at === null ? undefined : Number(r.confirmed_at),
      lastStep: r.last_step === null ? undefined : Number(r.last_step),
      createdAt: Number(r.created_at),
    };
  }

  async beginTotp(sub: string, secretEnc: string, now: number): Promise<boolean> {
    await this.db.deleteFrom('mfa_totp').where('sub', '=', sub).where('confirmed_at', 'is', null).execute();
    const r = await this.db
      .insertInto('mfa_totp')
      .values({ sub, secret_enc: secretEnc, confirmed_at: null, last_step: null, created_at: now })
      .onConflict((oc) => oc.column('sub').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  confirmTotp(sub: string, step: number, now: number, recoveryHashes: string[]): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const won = await tx
        .updateTable('mfa_totp')
        .set({ confirmed_at: now, last_step: step })
        .where('sub', '=', sub)
        .where('confirmed_at', 'is', null)
        .executeTakeFirst();
      if (Number(won.numUpdatedRows) !== 1) return false;
      await tx.deleteFrom('mfa_recovery_codes').where('sub', '=', sub).execute();
      if (recoveryHashes.length) {
        await tx.insertInto('mfa_recovery_codes').values(recoveryHashes.map((h) => ({ code_hash: h, sub, used_at: null, created_at: now }))).execute();
      }
      return true;
    });
  }

  async useStep(sub: string, step: number): Promise<boolean> {
    const r = await this.db
      .updateTable('mfa_totp')
      .set({ last_step: step })
      .where('sub', '=', sub)
      .where('confirmed_at', 'is not', null)
      .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async useRecoveryCode(sub: string, codeHash: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('mfa_recovery_codes')
      .set({ used_at: now })
      .where('code_hash', '=', codeHash)
      .where('sub', '=', sub)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async unusedRecoveryCodes(sub: string): Promise<number> {
    const r = await this.db
      .selectFrom('mfa_recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sub', '=', sub)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async reset(sub: string): Promise<boolean> {
    await this.db.deleteFrom('mfa_recovery_codes').where('sub', '=', sub).execute();
    const r = await this.db.deleteFrom('mfa_totp').where('sub', '=', sub).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
