import { LRUCache } from 'lru-cache';
import type { Config } from '../../config/schema.js';
import type { Client, ClientStore } from '../../storage/stores.js';
import { seconds } from '../../config/load.js';
import { clientFromDocument, documentUrl, type DocumentRules } from './document.js';
import { DocumentRefused, fetchJson, type FetchPolicy } from './fetch.js';

/** The operator's settings with their defaults (README "Client ID metadata documents"). */
export interface MetadataDocumentSettings extends FetchPolicy, DocumentRules {
  /** Longest use of a fetched document, whatever its Cache-Control says (s). */
  cacheMaxAge: number;
  cacheEntries: number;
  /** A refused URL is not fetched again for this long (s), so one bad client cannot make us hammer a host. */
  refusedFor: number;
}

/** Scopes of this server itself that a document client may always have. */
const SERVER_SCOPES = ['openid', 'profile', 'email'];
/** Used when the document sends no Cache-Control (s). */
const DEFAULT_MAX_AGE = 300;

export function metadataDocumentSettings(config: Config): MetadataDocumentSettings | undefined {
  const c = config.clientIdMetadataDocuments;
  if (!c?.enabled) return undefined;
  const resources = c.resources ?? (config.resourceServers ?? []).map((r) => r.resource);
  const resourceScopes = (config.resourceServers ?? []).filter((r) => resources.includes(r.resource)).flatMap((r) => r.scopes ?? []);
  return {
    // config/load.ts refuses allowLoopback in production; this keeps it off there regardless.
    allowLoopback: c.allowLoopback === true && !config.production,
    timeoutMs: c.timeoutMs ?? 3000,
    maxBytes: c.maxBytes ?? 5120,
    cacheMaxAge: seconds(c.cacheMaxAge ?? '1h'),
    cacheEntries: c.cacheEntries ?? 1000,
    refusedFor: 30,
    scopes: [...new Set(c.scopes ?? [...SERVER_SCOPES, ...resourceScopes])],
    resources,
  };
}

type Entry = { client: Client } | { refused: string };

/**
 * Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document): a `client_id` that is a
 * document URL is fetched (fetch.ts), validated (document.ts) and kept in a cache bounded in entries and
 * in time (the document's `Cache-Control: max-age`, at most `cacheMaxAge`). Every other id, and every
 * write, goes to the registered clients. So /authorize, /par and /token take such clients unchanged;
 * private_key_jwt keys come from the document's `jwks_uri`, fetched with the same defences and handed
 * to the existing assertion code as the client's JWK Set.
 */
export class MetadataDocumentClients implements ClientStore {
  readonly #cache: LRUCache<string, Entry>;
  readonly #inflight = new Map<string, Promise<Entry>>();

  constructor(
    private readonly inner: ClientStore,
    private readonly settings: MetadataDocumentSettings,
    private readonly onRefused: (url: string, reason: string) => void = () => {},
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.#cache = new LRUCache<string, Entry>({ max: settings.cacheEntries, ttl: settings.cacheMaxAge * 1000 });
  }

  async get(id: string): Promise<Client | undefined> {
    const url = documentUrl(id, this.settings.allowLoopback);
    if (!url) return id.includes('://') ? undefined : this.inner.get(id);
    const hit = this.#cache.get(id);
    const entry = hit ?? (await this.#load(url));
    return 'client' in entry ? entry.client : undefined;
  }

  /** How many documents are cached (tests, metrics). */
  get cached(): number {
    return this.#cache.size;
  }

  list(): Promise<Client[]> {
    return this.inner.list();
  }

  upsert(client: Client): Promise<void> {
    if (client.source === 'metadata-document') return Promise.reject(new Error('clients from metadata documents are not stored'));
    return this.inner.upsert(client);
  }

  delete(id: string): Promise<boolean> {
    return this.inner.delete(id);
  }

  /** One fetch per URL at a time: concurrent requests for the same client share it. */
  #load(url: URL): Promise<Entry> {
    const key = url.href;
    const running = this.#inflight.get(key);
    if (running) return running;
    const p = this.#fetch(url).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #fetch(url: URL): Promise<Entry> {
    const key = url.href;
    try {
      const { body, maxAge } = await fetchJson(url, this.settings);
      const client = clientFromDocument(url, body, this.settings, this.now());
      if (client.jwksUri !== undefined) {
        const keysAt = safeUrl(client.jwksUri);
        if (!keysAt) throw new DocumentRefused('jwks_uri is not a URL');
        const { body: jwks } = await fetchJson(keysAt, this.settings);
        if (!isJwks(jwks)) throw new DocumentRefused('jwks_uri did not return a JWK Set');
        client.jwks = jwks;
        client.jwksUri = undefined;
      }
      const ttl = Math.min(maxAge ?? DEFAULT_MAX_AGE, this.settings.cacheMaxAge);
      const entry = { client };
      if (ttl > 0) this.#cache.set(key, entry, { ttl: ttl * 1000 });
      return entry;
    } catch (e) {
      // Only the network and the document are involved here: whatever failed, the client is refused.
      const reason = e instanceof DocumentRefused ? e.message : 'the fetch failed';
      this.onRefused(key, reason);
      const entry = { refused: reason };
      this.#cache.set(key, entry, { ttl: this.settings.refusedFor * 1000 });
      return entry;
    }
  }
}

function safeUrl(s: string): URL | undefined {
  try {
    const u = new URL(s);
    return u.username || u.password || u.hash ? undefined : u;
  } catch {
    return undefined;
  }
}

function isJwks(v: unknown): v is { keys: Record<string, unknown>[] } {
  if (typeof v !== 'object' || v === null) return false;
  const keys = (v as { keys?: unknown }).keys;
  return Array.isArray(keys) && keys.length > 0 && keys.length <= 20 && keys.every((k) => typeof k === 'object' && k !== null && typeof (k as { kty?: unknown }).kty === 'string');
}
