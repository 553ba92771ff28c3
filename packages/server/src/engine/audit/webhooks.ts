import { createHmac, randomBytes } from 'node:crypto';
import type { SecretBox } from '../keys/secret-box.js';
import type { AuditLogger } from './recorder.js';
import { newId } from './recorder.js';
import type { WebhookDelivery, WebhookStore, WebhookSubscription } from './store.js';

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 (key: the secret's base64 part) over `id.timestamp.body`. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export class WebhookUrlError extends Error {}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https only in production; plain http only to loopback, and only outside production (tests, local receivers). */
export function checkWebhookUrl(raw: string, production: boolean): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new WebhookUrlError(`not a URL: ${raw}`);
  }
  if (u.username || u.password) throw new WebhookUrlError('a webhook URL must not carry credentials');
  if (u.hash) throw new WebhookUrlError('a webhook URL must not have a fragment');
  if (u.protocol === 'https:') return u.href;
  if (u.protocol === 'http:' && !production && LOOPBACK.has(u.hostname)) return u.href;
  throw new WebhookUrlError(production ? 'a webhook URL must use https in production' : 'a webhook URL must use https (http only to 127.0.0.1, [::1] or localhost outside production)');
}

export interface WebhookSettings {
  production: boolean;
  /** Per attempt, seconds. */
  timeout: number;
  /** First retry delay, seconds; doubled per attempt up to maxBackoff. */
  retryBase: number;
  maxBackoff: number;
  maxAttempts: number;
}

/** Delay before attempt `attempts + 1`, in ms: exponential, capped, with up to 10 % jitter. */
export function backoffMs(attempts: number, s: Pick<WebhookSettings, 'retryBase' | 'maxBackoff'>): number {
  const base = Math.min(s.maxBackoff, s.retryBase * 2 ** Math.max(0, attempts - 1)) * 1000;
  return Math.round(base * (1 + Math.random() * 0.1));
}

/** Creates a subscription; the secret is returned once and stored encrypted. */
export async function addSubscription(store: WebhookStore, box: SecretBox, input: { url: string; eventTypes: string[]; production: boolean }): Promise<{ subscription: WebhookSubscription; secret: string }> {
  const url = checkWebhookUrl(input.url, input.production);
  const types = [...new Set(input.eventTypes.map((t) => t.trim()).filter(Boolean))];
  if (!types.length) throw new WebhookUrlError('name at least one event type (or *)');
  for (const t of types) if (t !== '*' && !/^[a-z][a-z0-9_.]{0,63}$/.test(t)) throw new WebhookUrlError(`not an event type: ${t}`);
  const id = newId('wh_');
  const secret = generateWebhookSecret();
  const subscription = { id, url, eventTypes: types, secretEnc: box.encrypt(secret, `webhook:${id}`), createdAt: Date.now() };
  await store.add(subscription);
  return { subscription, secret };
}

/**
 * Delivers the outbox (issue 16 §5): leases due rows (so two instances never send the same row at
 * once), POSTs each signed body (no redirects, a timeout), and records the outcome: delivered on 2xx,
 * otherwise retried with exponential backoff until maxAttempts, then failed. At least once: a crash
 * after the receiver answered but before the outcome was stored sends it again (same webhook-id).
 */
export class WebhookWorker {
  readonly #owner = newId('w_');
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;
  #warnedAt = 0;

  constructor(
    private readonly store: WebhookStore,
    private readonly box: SecretBox,
    private readonly settings: WebhookSettings,
    private readonly log: AuditLogger,
    private readonly pollMs = 1000,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.kick(), this.pollMs);
    this.#timer.unref();
    this.kick();
  }

  /** Runs a pass now (or right after the current one). */
  kick(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass()
      .catch((e: unknown) => {
        // While the database is down every poll fails: one warning per 30 s says it.
        if (Date.now() - this.#warnedAt < 30_000) return;
        this.#warnedAt = Date.now();
        this.log.warn({ err: e }, 'webhook delivery pass failed');
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }

  async #pass(): Promise<void> {
    for (;;) {
      const now = Date.now();
      const batch = await this.store.claim(this.#owner, now, now + (this.settings.timeout * 2 + 10) * 1000, 20);
      if (!batch.length) return;
      const subs = new Map<string, WebhookSubscription | undefined>();
      await Promise.all(
        batch.map(async (d) => {
          if (!subs.has(d.subscriptionId)) subs.set(d.subscriptionId, await this.store.get(d.subscriptionId));
          await this.#deliver(d, subs.get(d.subscriptionId));
        }),
      );
      if (this.#closed) return;
    }
  }

  async #deliver(d: WebhookDelivery, sub: WebhookSubscription | undefined): Promise<void> {
    let httpStatus: number | undefined;
    let error: string | undefined;
    if (!sub) {
      error = 'subscription removed';
    } else {
      try {
        const url = checkWebhookUrl(sub.url, this.settings.production);
        const secret = this.box.decrypt(sub.secretEnc, `webhook:${sub.id}`);
        const timestamp = Math.floor(Date.now() / 1000);
        const res = await fetch(url, {
          method: 'POST',
          redirect: 'manual',
          signal: AbortSignal.timeout(this.settings.timeout * 1000),
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Tessera-Webhooks/1',
            'webhook-id': d.id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhook(secret, d.id, timestamp, d.payload),
          },
          body: d.payload,
        });
        httpStatus = res.status;
        await res.body?.cancel().catch(() => undefined);
        if (res.status < 200 || res.status > 299) error = res.status >= 300 && res.status < 400 ? `redirect (${res.status}) not followed` : `HTTP ${res.status}`;
      } catch (e) {
        error = e instanceof Error ? (e.name === 'TimeoutError' ? 'timed out' : e.message) : String(e);
      }
    }
    const now = Date.now();
    const attempts = d.attempts + 1;
    const status = error === undefined ? 'delivered' : !sub || attempts >= this.settings.maxAttempts ? 'failed' : 'pending';
    const nextAttemptAt = status === 'pending' ? now + backoffMs(attempts, this.settings) : now;
    await this.store.finish(d.id, this.#owner, { status, httpStatus, error, nextAttemptAt, nowMs: now });
    if (status !== 'delivered') this.log.warn({ deliveryId: d.id, subscriptionId: d.subscriptionId, attempts, httpStatus, error }, `webhook delivery ${status === 'failed' ? 'failed for good' : 'failed; will retry'}`);
  }
}
