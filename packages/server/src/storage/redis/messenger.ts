import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type * as IORedis from 'ioredis';

export type Channel = 'revoked' | 'keys' | 'clients';
export type MessageHandler = (payload: unknown) => void;

/**
 * Fast fan-out between instances (DESIGN.md §6). Never the only copy of anything: every message is
 * about a change already committed to the database, which other instances also find by polling.
 */
export interface Messenger {
  publish(channel: Channel, payload: unknown): void;
  subscribe(channel: Channel, handler: MessageHandler): void;
  /** True while the messenger is connected (always true for the in-process one). */
  healthy(): boolean;
  close(): Promise<void>;
}

/** One instance, or no Redis configured: nothing to fan out to. */
export class LocalMessenger implements Messenger {
  publish(): void {}
  subscribe(): void {}
  healthy(): boolean {
    return true;
  }
  async close(): Promise<void> {}
}

/**
 * Redis pub/sub (ioredis). Publishing while Redis is down is dropped with a warning, never queued.
 * Channels are named after the issuer: pub/sub ignores the database number in the URL, so two
 * deployments sharing one Redis would otherwise hear each other's revocations and key reloads.
 */
export class RedisMessenger implements Messenger {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #handlers = new Map<string, MessageHandler[]>();
  readonly #prefix: string;
  #warned = false;

  constructor(url: string, namespace: string, private readonly warn: (message: string, err?: unknown) => void) {
    this.#prefix = `tessera:${namespace}:`;
    const options = { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, retryStrategy: (n: number) => Math.min(n * 200, 2000) };
    // Loaded only when Redis is configured: a single instance does not pay ioredis's memory.
    const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof IORedis;
    this.#pub = new RedisClient(url, options);
    this.#sub = new RedisClient(url, { ...options, enableOfflineQueue: true });
    for (const c of [this.#pub, this.#sub]) {
      c.on('error', (e: unknown) => this.#down(e));
      c.on('ready', () => {
        if (this.#warned) this.warn('redis reachable again');
        this.#warned = false;
      });
    }
    this.#sub.on('message', (channel: string, message: string) => {
      let payload: unknown;
      try {
        payload = JSON.parse(message);
      } catch {
        return;
      }
      for (const h of this.#handlers.get(channel) ?? []) h(payload);
    });
  }

  publish(channel: Channel, payload: unknown): void {
    if (this.#pub.status !== 'ready') return this.#down(new Error(`redis ${this.#pub.status}`));
    this.#pub.publish(this.#prefix + channel, JSON.stringify(payload)).catch((e: unknown) => this.#down(e));
  }

  subscribe(channel: Channel, handler: MessageHandler): void {
    const name = this.#prefix + channel;
    const list = this.#handlers.get(name);
    if (list) list.push(handler);
    else {
      this.#handlers.set(name, [handler]);
      this.#sub.subscribe(name).catch((e: unknown) => this.#down(e));
    }
  }

  healthy(): boolean {
    return this.#pub.status === 'ready' && this.#sub.status === 'ready';
  }

  async close(): Promise<void> {
    this.#pub.disconnect();
    this.#sub.disconnect();
  }

  #down(e: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    this.warn('redis unavailable: revocations fan out by database polling until it returns', e);
  }
}
