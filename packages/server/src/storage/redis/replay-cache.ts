import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type * as IORedis from 'ioredis';

/**
 * The Redis side of a replay store (DESIGN.md §6): `SET key NX EXAT exp` marks an identifier used on
 * every instance at once. Only a fast first check: the database stays the record that survives a Redis
 * restart, so `claim` answering undefined (Redis down) just leaves the decision to the database.
 */
export class RedisReplayCache {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(url: string, namespace: string, kind: string) {
    const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof IORedis;
    this.#redis = new RedisClient(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, retryStrategy: (n: number) => Math.min(n * 200, 2000) });
    // Connection errors are reported by the messenger; here they only mean "ask the database".
    this.#redis.on('error', () => undefined);
    this.#prefix = `tessera:${namespace}:${kind}:`;
  }

  /** True when this call marked `id` (first use), false when it was already marked, undefined when Redis is unavailable. */
  async claim(id: string, expiresAt: number): Promise<boolean | undefined> {
    if (this.#redis.status !== 'ready') return undefined;
    try {
      const r = await this.#redis.set(this.#prefix + id, '1', 'EXAT', expiresAt, 'NX');
      return r === 'OK';
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}
