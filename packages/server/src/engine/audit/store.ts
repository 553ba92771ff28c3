/**
 * Storage interfaces of the audit log and of webhooks (issue 16 §4–5). The Kysely implementation
 * (storage/kysely/audit.ts) serves SQLite and PostgreSQL; the management API will use the same stores.
 */
export type AuditOutcome = 'success' | 'failure';

export interface AuditEvent {
  /** `evt_` + random. */
  id: string;
  type: string;
  /** Epoch milliseconds. */
  time: number;
  /** Who did it: `cli:<os user>`, a client id, a user's sub; absent when nobody authenticated. */
  actor: string | undefined;
  /** The user concerned (sub), when there is one. */
  subject: string | undefined;
  clientId: string | undefined;
  ip: string | undefined;
  userAgent: string | undefined;
  outcome: AuditOutcome;
  /** Further facts, secrets already masked. */
  details: Record<string, unknown>;
}

export interface AuditQuery {
  type?: string;
  /** Matches the subject or the actor. */
  user?: string;
  client?: string;
  /** Epoch milliseconds, inclusive. */
  since?: number;
  until?: number;
  limit?: number;
}

export interface WebhookSubscription {
  /** `wh_` + random. */
  id: string;
  url: string;
  /** Event types delivered; `*` = all. */
  eventTypes: string[];
  secretEnc: string;
  createdAt: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  /** `msg_` + random: the Standard Webhooks `webhook-id`, the same on every retry. */
  id: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  /** The JSON body, fixed when the event happened. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lastStatus: number | undefined;
  lastError: string | undefined;
  createdAt: number;
  updatedAt: number;
}

export interface AuditStore {
  /**
   * Records the event and, in the same transaction, one outbox row per webhook subscription that wants
   * it (`payloadFor` builds the body), so neither exists without the other.
   */
  append(event: AuditEvent, payloadFor: (deliveryId: string) => string, newId: (prefix: string) => string): Promise<number>;
  /** Newest first. */
  query(q: AuditQuery): Promise<AuditEvent[]>;
  /** Deletes events older than `beforeMs` (and finished deliveries of that age); idempotent. */
  prune(beforeMs: number): Promise<number>;
}

export interface WebhookStore {
  add(sub: WebhookSubscription): Promise<void>;
  get(id: string): Promise<WebhookSubscription | undefined>;
  list(): Promise<WebhookSubscription[]>;
  /** Removes the subscription and its pending deliveries. */
  remove(id: string): Promise<boolean>;
  deliveries(q: { subscriptionId?: string; status?: DeliveryStatus; limit?: number }): Promise<WebhookDelivery[]>;
  /**
   * Leases up to `limit` due deliveries to `owner` until `leaseUntil`, each by one conditional UPDATE
   * (only a row that is pending, due and not leased by a live lease is taken), so two instances never
   * hold the same row at once.
   */
  claim(owner: string, nowMs: number, leaseUntil: number, limit: number): Promise<WebhookDelivery[]>;
  /** Records an attempt by the lease holder: delivered, retried at `nextAttemptAt`, or given up (`failed`). */
  finish(id: string, owner: string, result: { status: DeliveryStatus; httpStatus: number | undefined; error: string | undefined; nextAttemptAt: number; nowMs: number }): Promise<boolean>;
}
