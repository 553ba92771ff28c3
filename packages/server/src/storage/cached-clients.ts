import type { Client, ClientStore } from './stores.js';
import type { Messenger } from './redis/messenger.js';

const MAX_ENTRIES = 10_000;

/**
 * A short-lived cache of client records in front of the database, so the token endpoint does not read
 * the clients table on every request (issue 7). Changes made through this store invalidate at once
 * here and, through the messenger, on every instance; without a messenger other instances see a change
 * within `ttlSeconds`. Unknown ids are cached too (bounded), so random ids cannot flood the database.
 */
export class CachedClientStore implements ClientStore {
  readonly #cache = new Map<string, { client: Client | undefined; until: number }>();
  readonly #listeners: (() => void)[] = [];

  constructor(
    private readonly inner: ClientStore,
    private readonly messenger: Messenger,
    private readonly ttlSeconds = 5,
  ) {
    messenger.subscribe('clients', (payload) => {
      if (typeof payload === 'string') this.#cache.delete(payload);
      for (const l of this.#listeners) l();
    });
  }

  /** Called after any client change made here or announced by another instance or the CLI. */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  async get(id: string): Promise<Client | undefined> {
    // Metadata-document clients (engine/cimd) have their own cache, bounded by the document's Cache-Control.
    if (id.includes('://')) return this.inner.get(id);
    const now = Date.now();
    const hit = this.#cache.get(id);
    if (hit && hit.until > now) return hit.client;
    const client = await this.inner.get(id);
    if (this.#cache.size >= MAX_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(id, { client, until: now + this.ttlSeconds * 1000 });
    return client;
  }

  list(): Promise<Client[]> {
    return this.inner.list();
  }

  async upsert(client: Client): Promise<void> {
    await this.inner.upsert(client);
    this.#changed(client.id);
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.inner.delete(id);
    this.#changed(id);
    return r;
  }

  #changed(id: string): void {
    this.#cache.delete(id);
    for (const l of this.#listeners) l();
    this.messenger.publish('clients', id);
  }
}
