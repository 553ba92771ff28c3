import type { Insertable, Kysely, Selectable } from 'kysely';
import type { ClientsTable, Database } from '../schema.js';
import type { Client, ClientStore, TokenEndpointAuthMethod } from '../stores.js';

function toClient(r: Selectable<ClientsTable>): Client {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    secretHash: r.secret_hash ?? undefined,
    redirectUris: JSON.parse(r.redirect_uris) as string[],
    grantTypes: JSON.parse(r.grant_types) as string[],
    scopes: JSON.parse(r.scopes) as string[],
    audience: r.audience ?? undefined,
    resources: JSON.parse(r.resources) as string[],
    accessTokenTtl: r.access_token_ttl ?? undefined,
    firstParty: r.first_party === 1,
    postLogoutRedirectUris: JSON.parse(r.post_logout_redirect_uris) as string[],
    permissions: JSON.parse(r.permissions) as string[],
    allowedOrigins: JSON.parse(r.allowed_origins) as string[],
    idTokenSignedResponseAlg: r.id_token_signed_response_alg ?? undefined,
    ...(r.token_endpoint_auth_method ? { tokenEndpointAuthMethod: r.token_endpoint_auth_method as TokenEndpointAuthMethod } : {}),
    ...(r.token_endpoint_auth_signing_alg ? { tokenEndpointAuthSigningAlg: r.token_endpoint_auth_signing_alg } : {}),
    ...(r.jwks ? { jwks: JSON.parse(r.jwks) as { keys: Record<string, unknown>[] } } : {}),
    ...(r.jwks_uri ? { jwksUri: r.jwks_uri } : {}),
    ...(r.secret_enc ? { secretEnc: r.secret_enc } : {}),
    ...(r.require_par === 1 ? { requirePushedAuthorizationRequests: true } : {}),
    dpopBoundAccessTokens: r.dpop_bound_access_tokens === 1,
    ...(Number(r.disabled) === 1 ? { disabled: true } : {}),
    ...(Number(r.require_mfa) === 1 ? { requireMfa: true } : {}),
    source: r.source,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function toRow(c: Client): Insertable<ClientsTable> {
  if (c.source === 'metadata-document') throw new Error('clients from metadata documents are not stored');
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    secret_hash: c.secretHash ?? null,
    redirect_uris: JSON.stringify(c.redirectUris),
    grant_types: JSON.stringify(c.grantTypes),
    scopes: JSON.stringify(c.scopes),
    audience: c.audience ?? null,
    resources: JSON.stringify(c.resources),
    access_token_ttl: c.accessTokenTtl ?? null,
    first_party: c.firstParty ? 1 : 0,
    post_logout_redirect_uris: JSON.stringify(c.postLogoutRedirectUris ?? []),
    permissions: JSON.stringify(c.permissions ?? []),
    allowed_origins: JSON.stringify(c.allowedOrigins ?? []),
    id_token_signed_response_alg: c.idTokenSignedResponseAlg ?? null,
    token_endpoint_auth_method: c.tokenEndpointAuthMethod ?? null,
    token_endpoint_auth_signing_alg: c.tokenEndpointAuthSigningAlg ?? null,
    jwks: c.jwks ? JSON.stringify(c.jwks) : null,
    jwks_uri: c.jwksUri ?? null,
    secret_enc: c.secretEnc ?? null,
    require_par: c.requirePushedAuthorizationRequests ? 1 : 0,
    dpop_bound_access_tokens: c.dpopBoundAccessTokens ? 1 : 0,
    disabled: c.disabled ? 1 : 0,
    require_mfa: c.requireMfa ? 1 : 0,
    source: c.source,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

export class KyselyClientStore implements ClientStore {
  constructor(private readonly db: Kysely<Database>) {}

  async get(id: string): Promise<Client | undefined> {
    const row = await this.db.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toClient(row) : undefined;
  }

  async list(): Promise<Client[]> {
    const rows = await this.db.selectFrom('clients').selectAll().orderBy('id').execute();
    return rows.map(toClient);
  }

  async upsert(client: Client): Promise<void> {
    const row = toRow(client);
    const { id: _id, created_at: _created, ...update } = row;
    await this.db
      .insertInto('clients')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet(update))
      .execute();
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('clients').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
