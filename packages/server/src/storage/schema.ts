import type { Generated } from 'kysely';

/** Row types of Tessera's tables. Times are epoch seconds; JSON columns hold text. */
export interface ClientsTable {
  id: string;
  name: string;
  type: 'confidential' | 'public';
  secret_hash: string | null;
  redirect_uris: string;
  grant_types: string;
  scopes: string;
  audience: string | null;
  resources: string;
  access_token_ttl: number | null;
  first_party: number;
  source: 'config' | 'cli';
  created_at: number;
  updated_at: number;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  state: 'next' | 'active' | 'retired';
  public_jwk: string;
  private_jwk_enc: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
  /** While state is retired: published until this time (every token it signed has expired). */
  publish_until: number | null;
}

export interface MigrationMarkerTable {
  id: Generated<number>;
}

export interface Database {
  clients: ClientsTable;
  signing_keys: SigningKeysTable;
}
