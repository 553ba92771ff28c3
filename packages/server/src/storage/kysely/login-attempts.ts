import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { LoginAttemptStore } from '../stores.js';

/** Failed-login counters in fixed windows, shared by every instance through the database. */
export class KyselyLoginAttemptStore implements LoginAttemptStore {
  constructor(private readonly db: Kysely<Database>) {}

  async get(key: string): Promise<{ failures: number; windowStart: number } | undefined> {
    const row = await this.db.selectFrom('login_attempts').selectAll().where('key', '=', key).executeTakeFirst();
    return row ? { failures: Number(row.failures), windowStart: Number(row.window_start) } : undefined;
  }

  async recordFailure(key: string, now: number, staleBefore: number): Promise<void> {
    // One statement (no read-then-write), so concurrent failures are all counted.
    await this.db
      .insertInto('login_attempts')
      .values({ key, failures: 1, window_start: now })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql<number>`case when login_attempts.window_start < ${staleBefore} then 1 else login_attempts.failures + 1 end`,
          window_start: sql<number>`case when login_attempts.window_start < ${staleBefore} then ${now} else login_attempts.window_start end`,
        }),
      )
      .execute();
  }

  async clear(key: string): Promise<void> {
    await this.db.deleteFrom('login_attempts').where('key', '=', key).execute();
  }

  async purgeOlderThan(before: number): Promise<number> {
    const r = await this.db.deleteFrom('login_attempts').where('window_start', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
