import type { RegistrationConfig } from '../../config/schema.js';
import type { Client } from '../../storage/stores.js';
import type { ClientMetadata } from './metadata.js';

/** A registered client as a Tessera client record: never first-party (consent is always asked). */
export function toClient(id: string, meta: ClientMetadata, policy: RegistrationConfig, secretHash: string | undefined, createdAt: number, now: number, previous?: Client): Client {
  return {
    id,
    name: meta.client_name ?? id,
    type: meta.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
    secretHash,
    redirectUris: meta.redirect_uris,
    grantTypes: meta.grant_types,
    scopes: meta.scope,
    audience: undefined,
    // RFC 8707: the resource indicators the policy opens to registered clients (e.g. MCP servers).
    resources: [...policy.resources],
    accessTokenTtl: undefined,
    firstParty: false,
    tokenEndpointAuthMethod: meta.token_endpoint_auth_method,
    ...(previous?.disabled ? { disabled: true } : {}),
    source: 'registration',
    createdAt,
    updatedAt: now,
  };
}

/** RFC 7591 §3.2.1 / RFC 7592 §3: the client information response. */
export function clientInformation(client: Client, issuer: string, registrationToken: string, secret?: string): Record<string, unknown> {
  const method = client.tokenEndpointAuthMethod ?? (client.type === 'public' ? 'none' : 'client_secret_basic');
  return {
    client_id: client.id,
    client_id_issued_at: client.createdAt,
    ...(secret !== undefined ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
    ...(client.name !== client.id ? { client_name: client.name } : {}),
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    response_types: client.grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: method,
    scope: client.scopes.join(' '),
    registration_client_uri: `${issuer}/register/${encodeURIComponent(client.id)}`,
    registration_access_token: registrationToken,
  };
}
