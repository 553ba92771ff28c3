import { randomBytes } from 'node:crypto';
import type { AuditEvent, AuditOutcome, AuditStore } from './store.js';

/** Fields of an audit hook call that become columns; everything else goes into `details`. */
export interface AuditFields {
  actor?: string;
  /** The user concerned. */
  sub?: string;
  clientId?: string;
  ip?: string;
  userAgent?: string;
  outcome?: AuditOutcome;
  [detail: string]: unknown;
}

export interface AuditLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

const SECRET_KEY = /secret|password|passwd|token|assertion|code|cookie|authorization|credential|private|jwk|hash|otp/i;
/** Ids that carry none of the above despite their names. */
const NOT_SECRET = new Set(['familyId', 'clientId', 'kid', 'sid', 'jti']);

/** Replaces every value under a credential-like key with `[masked]`, at any depth. */
export function maskSecrets(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = !NOT_SECRET.has(k) && SECRET_KEY.test(k) ? '[masked]' : maskSecrets(v, depth + 1);
    return out;
  }
  if (typeof value === 'string' && value.length > 1000) return `${value.slice(0, 1000)}…`;
  return value;
}

export function newId(prefix: string): string {
  return `${prefix}${randomBytes(16).toString('base64url')}`;
}

const str = (v: unknown, max: number): string | undefined => (typeof v === 'string' && v.length ? v.slice(0, max) : undefined);

/** Builds the event from an audit hook call: known fields to columns, the rest masked into details. */
export function buildEvent(type: string, data: AuditFields, nowMs: number): AuditEvent {
  const { actor, sub, clientId, ip, userAgent, outcome, ...rest } = data;
  return {
    id: newId('evt_'),
    type,
    time: nowMs,
    actor: str(actor, 256),
    subject: str(sub, 256),
    clientId: str(clientId, 256),
    ip: str(ip, 64),
    userAgent: str(userAgent, 512),
    outcome: outcome === 'success' || outcome === 'failure' ? outcome : /_failed$|reuse|replay/.test(type) ? 'failure' : 'success',
    details: maskSecrets(rest) as Record<string, unknown>,
  };
}

/** The Standard Webhooks body of an event: `{ type, timestamp, data }`. */
export function webhookPayload(e: AuditEvent): string {
  return JSON.stringify({ type: e.type, timestamp: new Date(e.time).toISOString(), data: e });
}

/**
 * The durable audit log (issue 16 §4): every event is written as a JSON log line (pino) and persisted
 * with its webhook outbox rows in one transaction. The hook is fire-and-forget for protocol code;
 * `flush` waits for writes still in flight (shutdown, the CLI).
 */
export class AuditRecorder {
  readonly #pending = new Set<Promise<unknown>>();

  constructor(
    private readonly store: AuditStore,
    private readonly log: AuditLogger,
    /** Told after an event was stored with outbox rows (wakes the webhook worker). */
    private readonly onQueued: () => void = () => undefined,
  ) {}

  /** Records the event; resolves once stored (never rejects: a failed write is logged). */
  record(type: string, data: AuditFields): Promise<AuditEvent> {
    const event = buildEvent(type, data, Date.now());
    this.log[event.outcome === 'failure' || type.includes('reuse') || type.includes('replay') ? 'warn' : 'info']({ audit: event }, `audit event: ${type}`);
    const p = this.store.append(event, () => webhookPayload(event), newId).then(
      (queued) => {
        if (queued > 0) this.onQueued();
        return event;
      },
      (e: unknown) => {
        this.log.warn({ err: e, eventId: event.id, event: type }, 'audit event could not be stored');
        return event;
      },
    );
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
    return p;
  }

  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}
