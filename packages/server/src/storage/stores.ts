/**
 * Storage interfaces, one per artifact (DESIGN.md §5). The engine depends on these only; the Kysely
 * implementations in ./kysely serve SQLite and PostgreSQL alike.
 */
export type ClientType = 'confidential' | 'public';

export interface Client {
  id: string;
  name: string;
  type: ClientType;
  /** `hmac-sha256$…` of the client secret; absent for public clients. */
  secretHash: string | undefined;
  redirectUris: string[];
  grantTypes: string[];
  scopes: string[];
  /** Default `aud` when the request names no `resource` (RFC 8707). */
  audience: string | undefined;
  /** Further resource indicators this client may ask for. */
  resources: string[];
  accessTokenTtl: number | undefined;
  firstParty: boolean;
  source: 'config' | 'cli';
  createdAt: number;
  updatedAt: number;
}

export interface ClientStore {
  get(id: string): Promise<Client | undefined>;
  list(): Promise<Client[]>;
  /** Inserts or replaces by id (config clients are applied idempotently at start). */
  upsert(client: Client): Promise<void>;
  delete(id: string): Promise<boolean>;
}

export type KeyState = 'next' | 'active' | 'retired';

export interface StoredKey {
  kid: string;
  alg: string;
  state: KeyState;
  publicJwk: Record<string, unknown>;
  /** The private JWK, encrypted with the key-encryption key (AES-256-GCM). */
  privateJwkEnc: string;
  createdAt: number;
  activatedAt: number | undefined;
  retiredAt: number | undefined;
  publishUntil: number | undefined;
}

export interface KeyStore {
  list(): Promise<StoredKey[]>;
  insert(key: StoredKey): Promise<void>;
  /**
   * Atomically makes `nextKid` active and retires the current active key (published until
   * `publishUntil`). Returns false when another instance rotated first (nothing changed).
   */
  rotate(nextKid: string, now: number, publishUntil: number): Promise<boolean>;
  /** Drops retired keys whose tokens have all expired. */
  purgeRetired(now: number): Promise<number>;
}

export interface Stores {
  clients: ClientStore;
  keys: KeyStore;
}
