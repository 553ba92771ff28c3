import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../../storage/schema.js';
import type { DeviceCode, DeviceCodeStatus, DeviceCodeStore, PollOutcome } from './store.js';

/** The `device_codes` table (migration 009). Times in epoch seconds, `last_poll_ms` in milliseconds. */
export interface DeviceCodesTable {
  device_code_hash: string;
  user_code_hash: string;
  client_id: string;
  scope: string;
  resources: string;
  status: string;
  sub: string | null;
  auth_time: number | null;
  poll_interval: number;
  last_poll_ms: number | null;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
}

type DeviceDb = Database & { device_codes: DeviceCodesTable };

function toCode(r: Selectable<DeviceCodesTable>): DeviceCode {
  return {
    deviceCodeHash: r.device_code_hash,
    userCodeHash: r.user_code_hash,
    clientId: r.client_id,
    scopes: JSON.parse(r.scope) as string[],
    resources: JSON.parse(r.resources) as string[],
    status: r.status as DeviceCodeStatus,
    sub: r.sub ?? undefined,
    authTime: r.auth_time === null ? undefined : Number(r.auth_time),
    interval: Number(r.poll_interval),
    lastPollMs: r.last_poll_ms === null ? undefined : Number(r.last_poll_ms),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
  };
}

/** Unique-constraint violations: SQLite and PostgreSQL (SQLSTATE 23505). */
function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** Device codes over SQLite and PostgreSQL; every state change is one conditional UPDATE (DESIGN.md §5). */
export class KyselyDeviceCodeStore implements DeviceCodeStore {
  readonly #db: Kysely<DeviceDb>;

  constructor(db: Kysely<Database>) {
    this.#db = db.withTables<{ device_codes: DeviceCodesTable }>();
  }

  async insert(c: DeviceCode): Promise<boolean> {
    try {
      await this.#db
        .insertInto('device_codes')
        .values({
          device_code_hash: c.deviceCodeHash,
          user_code_hash: c.userCodeHash,
          client_id: c.clientId,
          scope: JSON.stringify(c.scopes),
          resources: JSON.stringify(c.resources),
          status: c.status,
          sub: c.sub ?? null,
          auth_time: c.authTime ?? null,
          poll_interval: c.interval,
          last_poll_ms: c.lastPollMs ?? null,
          created_at: c.createdAt,
          expires_at: c.expiresAt,
          decided_at: null,
        })
        .execute();
      return true;
    } catch (e) {
      if (isUniqueViolation(e)) return false;
      throw e;
    }
  }

  async byDeviceCode(deviceCodeHash: string): Promise<DeviceCode | undefined> {
    const row = await this.#db.selectFrom('device_codes').selectAll().where('device_code_hash', '=', deviceCodeHash).executeTakeFirst();
    return row ? toCode(row) : undefined;
  }

  async pendingByUserCode(userCodeHash: string, now: number): Promise<DeviceCode | undefined> {
    const row = await this.#db
      .selectFrom('device_codes')
      .selectAll()
      .where('user_code_hash', '=', userCodeHash)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row ? toCode(row) : undefined;
  }

  async poll(deviceCodeHash: string, nowMs: number, toleranceMs: number): Promise<PollOutcome> {
    const onTime = await this.#db
      .updateTable('device_codes')
      .set({ last_poll_ms: nowMs })
      .where('device_code_hash', '=', deviceCodeHash)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([
        eb('last_poll_ms', 'is', null),
        // The parameter stands alone on one side, so PostgreSQL types it as the bigint it is compared with.
        eb(sql<number>`last_poll_ms + poll_interval * 1000`, '<=', nowMs + toleranceMs),
      ]))
      .executeTakeFirst();
    if (Number(onTime.numUpdatedRows) === 1) return 'pending';
    // RFC 8628 §3.5: too fast; the interval grows by 5 s "for this and all subsequent requests".
    const early = await this.#db
      .updateTable('device_codes')
      .set({ last_poll_ms: nowMs, poll_interval: sql<number>`poll_interval + 5` })
      .where('device_code_hash', '=', deviceCodeHash)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(early.numUpdatedRows) === 1 ? 'slow_down' : 'changed';
  }

  async decide(userCodeHash: string, d: { approved: boolean; sub: string; authTime: number }, now: number): Promise<boolean> {
    const r = await this.#db
      .updateTable('device_codes')
      .set({ status: d.approved ? 'approved' : 'denied', sub: d.sub, auth_time: d.authTime, decided_at: now })
      .where('user_code_hash', '=', userCodeHash)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async consume(deviceCodeHash: string, now: number): Promise<boolean> {
    const r = await this.#db
      .updateTable('device_codes')
      .set({ status: 'consumed' })
      .where('device_code_hash', '=', deviceCodeHash)
      .where('status', '=', 'approved')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async purgeExpired(before: number): Promise<number> {
    const r = await this.#db.deleteFrom('device_codes').where('expires_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
