import type { Kysely, Selectable } from 'kysely';
import type { AuditEventsTable, Database, WebhookDeliveriesTable } from '../schema.js';
import type { AuditEvent, AuditQuery, AuditStore, DeliveryStatus, WebhookDelivery, WebhookStore, WebhookSubscription } from '../../engine/audit/store.js';

const MAX_LIMIT = 1000;

export class KyselyAuditStore implements AuditStore {
  constructor(private readonly db: Kysely<Database>) {}

  async append(e: AuditEvent, payloadFor: (deliveryId: string) => string, newId: (prefix: string) => string): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('audit_events')
        .values({
          id: e.id,
          type: e.type,
          time_ms: e.time,
          actor: e.actor ?? null,
          subject: e.subject ?? null,
          client_id: e.clientId ?? null,
          ip: e.ip ?? null,
          user_agent: e.userAgent ?? null,
          outcome: e.outcome,
          details: JSON.stringify(e.details),
        })
        .execute();
      const subs = await tx.selectFrom('webhook_subscriptions').select(['id', 'event_types']).execute();
      const wanted = subs.filter((s) => {
        const types = JSON.parse(s.event_types) as string[];
        return types.includes('*') || types.includes(e.type);
      });
      for (const s of wanted) {
        const id = newId('msg_');
        await tx
          .insertInto('webhook_deliveries')
          .values({
            id,
            subscription_id: s.id,
            event_id: e.id,
            event_type: e.type,
            payload: payloadFor(id),
            status: 'pending',
            attempts: 0,
            next_attempt_at_ms: e.time,
            lease_owner: null,
            lease_until_ms: null,
            last_status: null,
            last_error: null,
            created_at_ms: e.time,
            updated_at_ms: e.time,
          })
          .execute();
      }
      return wanted.length;
    });
  }

  async query(q: AuditQuery): Promise<AuditEvent[]> {
    let s = this.db.selectFrom('audit_events').selectAll();
    if (q.type !== undefined) s = s.where('type', '=', q.type);
    if (q.user !== undefined) {
      const user = q.user;
      s = s.where((eb) => eb.or([eb('subject', '=', user), eb('actor', '=', user)]));
    }
    if (q.client !== undefined) s = s.where('client_id', '=', q.client);
    if (q.since !== undefined) s = s.where('time_ms', '>=', q.since);
    if (q.until !== undefined) s = s.where('time_ms', '<=', q.until);
    const limit = Math.min(Math.max(1, q.limit ?? 100), MAX_LIMIT);
    const rows = await s.orderBy('time_ms', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(eventOf);
  }

  async prune(beforeMs: number): Promise<number> {
    await this.db.deleteFrom('webhook_deliveries').where('status', '!=', 'pending').where('updated_at_ms', '<', beforeMs).execute();
    const r = await this.db.deleteFrom('audit_events').where('time_ms', '<', beforeMs).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

export class KyselyWebhookStore implements WebhookStore {
  constructor(private readonly db: Kysely<Database>) {}

  async add(s: WebhookSubscription): Promise<void> {
    await this.db
      .insertInto('webhook_subscriptions')
      .values({ id: s.id, url: s.url, event_types: JSON.stringify(s.eventTypes), secret_enc: s.secretEnc, created_at_ms: s.createdAt })
      .execute();
  }

  async get(id: string): Promise<WebhookSubscription | undefined> {
    const r = await this.db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    return r && { id: r.id, url: r.url, eventTypes: JSON.parse(r.event_types) as string[], secretEnc: r.secret_enc, createdAt: Number(r.created_at_ms) };
  }

  async list(): Promise<WebhookSubscription[]> {
    const rows = await this.db.selectFrom('webhook_subscriptions').selectAll().orderBy('created_at_ms').orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, url: r.url, eventTypes: JSON.parse(r.event_types) as string[], secretEnc: r.secret_enc, createdAt: Number(r.created_at_ms) }));
  }

  async remove(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('webhook_deliveries').where('subscription_id', '=', id).where('status', '=', 'pending').execute();
      const r = await tx.deleteFrom('webhook_subscriptions').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async deliveries(q: { subscriptionId?: string; status?: DeliveryStatus; limit?: number }): Promise<WebhookDelivery[]> {
    let s = this.db.selectFrom('webhook_deliveries').selectAll();
    if (q.subscriptionId !== undefined) s = s.where('subscription_id', '=', q.subscriptionId);
    if (q.status !== undefined) s = s.where('status', '=', q.status);
    const rows = await s.orderBy('created_at_ms', 'desc').orderBy('id', 'desc').limit(Math.min(Math.max(1, q.limit ?? 100), MAX_LIMIT)).execute();
    return rows.map(deliveryOf);
  }

  async claim(owner: string, nowMs: number, leaseUntil: number, limit: number): Promise<WebhookDelivery[]> {
    const due = await this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at_ms', '<=', nowMs)
      .where((eb) => eb.or([eb('lease_until_ms', 'is', null), eb('lease_until_ms', '<', nowMs)]))
      .orderBy('next_attempt_at_ms')
      .limit(limit)
      .execute();
    const claimed: WebhookDelivery[] = [];
    for (const { id } of due) {
      // The conditions again, in the UPDATE itself: of two instances that saw the row, one takes it.
      const row = await this.db
        .updateTable('webhook_deliveries')
        .set({ lease_owner: owner, lease_until_ms: leaseUntil })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where('next_attempt_at_ms', '<=', nowMs)
        .where((eb) => eb.or([eb('lease_until_ms', 'is', null), eb('lease_until_ms', '<', nowMs)]))
        .returningAll()
        .executeTakeFirst();
      if (row) claimed.push(deliveryOf(row));
    }
    return claimed;
  }

  async finish(id: string, owner: string, r: { status: DeliveryStatus; httpStatus: number | undefined; error: string | undefined; nextAttemptAt: number; nowMs: number }): Promise<boolean> {
    const res = await this.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({
        status: r.status,
        attempts: eb('attempts', '+', 1),
        next_attempt_at_ms: r.nextAttemptAt,
        lease_owner: null,
        lease_until_ms: null,
        last_status: r.httpStatus ?? null,
        last_error: r.error?.slice(0, 500) ?? null,
        updated_at_ms: r.nowMs,
      }))
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
}

function eventOf(r: Selectable<AuditEventsTable>): AuditEvent {
  return {
    id: r.id,
    type: r.type,
    time: Number(r.time_ms),
    actor: r.actor ?? undefined,
    subject: r.subject ?? undefined,
    clientId: r.client_id ?? undefined,
    ip: r.ip ?? undefined,
    userAgent: r.user_agent ?? undefined,
    outcome: r.outcome === 'failure' ? 'failure' : 'success',
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}

function deliveryOf(r: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: r.id,
    subscriptionId: r.subscription_id,
    eventId: r.event_id,
    eventType: r.event_type,
    payload: r.payload,
    status: r.status,
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at_ms),
    lastStatus: r.last_status ?? undefined,
    lastError: r.last_error ?? undefined,
    createdAt: Number(r.created_at_ms),
    updatedAt: Number(r.updated_at_ms),
  };
}
