import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type * as IORedis from 'ioredis';
import type { DpopReplayStore } from '../../engine/dpop/store.js';

/**
 * The DPoP replay cache in Redis (`SET NX` with the window as its expiry), shared by every instance.
 * While Redis cannot answer, proofs are recorded in the database instead (the `fallback`), so replay
 * protection never lapses; keys are named after the issuer, like the messenger's channels.
 */
export class RedisDpopReplayStore implements DpopReplayStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  #warnedAt = 0;

  constructor(
    url: string,
    namespace: string,
    private readonly fallback: DpopReplayStore,
    private readonly warn: (message: string, err?: unknown) => void,
  ) {
    this.#prefix = `tessera:${namespace}:dpop:`;
    const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof IORedis;
    this.#redis = new RedisClient(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, retryStrategy: (n: number) => Math.min(n * 200, 2000) });
    this.#redis.on('error', () => undefined);
  }

  async use(id: string, expiresAt: number, now: number): Promise<boolean> {
    const ttl = Math.max(1, expiresAt - now);
    if (this.#redis.status === 'ready') {
      try {
        return (await this.#redis.set(this.#prefix + id, '1', 'EX', ttl, 'NX')) === 'OK';
      } catch (e) {
        // One warning per 30 s while Redis fails, not one per proof.
        if (Date.now() - this.#warnedAt > 30_000) {
          this.#warnedAt = Date.now();
          this.warn('redis unavailable: DPoP replay cache falls back to the database', e);
        }
      }
    }
    return this.fallback.use(id, expiresAt, now);
  }

  purgeExpired(now: number): Promise<number> {
    return this.fallback.purgeExpired(now);
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}
