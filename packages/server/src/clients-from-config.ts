import type { ClientConfig } from './config/schema.js';
import { ConfigError, seconds } from './config/load.js';
import { clientSecretAad } from './engine/client-auth/jwt-assertion.js';
import type { SecretBox } from './engine/keys/secret-box.js';
import type { Client, ClientStore } from './storage/stores.js';

/**
 * Applies the clients declared in the config file idempotently: each is inserted or replaced, and a
 * config-declared client that left the file is deleted, so a deployment is reproducible from its file.
 * Clients made with the CLI are left alone.
 */
export async function applyConfigClients(declared: ClientConfig[], store: ClientStore, box: SecretBox, now: number, source = 'config'): Promise<void> {
  const unreadable = declared.flatMap((c, i) => {
    if (!c.secretEncrypted) return [];
    try {
      box.decrypt(c.secretEncrypted, clientSecretAad(c.id));
      return [];
    } catch {
      return [`clients.${i} (${c.id}).secretEncrypted: does not decrypt with this TESSERA_SECRET, or was made for another client id`];
    }
  });
  if (unreadable.length) throw new ConfigError(source, unreadable);
  const existing = new Map((await store.list()).map((c) => [c.id, c]));
  for (const c of declared) {
    await store.upsert(fromConfig(c, box, existing.get(c.id)?.createdAt ?? now, now));
  }
  const ids = new Set(declared.map((c) => c.id));
  for (const c of existing.values()) {
    if (c.source === 'config' && !ids.has(c.id)) await store.delete(c.id);
  }
}

export function fromConfig(c: ClientConfig, box: SecretBox, createdAt: number, now: number): Client {
  const type = c.type ?? 'confidential';
  const jwtAuth = c.tokenEndpointAuthMethod === 'private_key_jwt' || c.tokenEndpointAuthMethod === 'client_secret_jwt';
  return {
    id: c.id,
    name: c.name ?? c.id,
    type,
    secretHash: type === 'public' || jwtAuth ? undefined : (c.secretHash ?? box.hashClientSecret(c.secret!)),
    redirectUris: c.redirectUris ?? [],
    grantTypes: c.grants,
    scopes: c.scopes ?? [],
    audience: c.audience,
    resources: c.resources ?? [],
    accessTokenTtl: c.accessTokenTtl === undefined ? undefined : seconds(c.accessTokenTtl),
    firstParty: c.firstParty ?? false,
    postLogoutRedirectUris: c.postLogoutRedirectUris ?? [],
    permissions: c.permissions ?? [],
    allowedOrigins: c.allowedOrigins ?? [],
    idTokenSignedResponseAlg: c.idTokenSignedResponseAlg,
    ...jwtAuthFields(c, box),
    dpopBoundAccessTokens: c.dpopBoundAccessTokens ?? false,
    source: 'config',
    createdAt,
    updatedAt: now,
  };
}

/** RFC 7523 settings; a client_secret_jwt secret is kept encrypted (it must be recoverable to check an HMAC). */
function jwtAuthFields(c: ClientConfig, box: SecretBox): Partial<Client> {
  const out: Partial<Client> = {};
  if (c.tokenEndpointAuthMethod) out.tokenEndpointAuthMethod = c.tokenEndpointAuthMethod;
  if (c.tokenEndpointAuthSigningAlg) out.tokenEndpointAuthSigningAlg = c.tokenEndpointAuthSigningAlg;
  if (c.jwks) out.jwks = c.jwks as { keys: Record<string, unknown>[] };
  if (c.jwksUri) out.jwksUri = c.jwksUri;
  if (c.tokenEndpointAuthMethod === 'client_secret_jwt') {
    out.secretEnc = c.secretEncrypted ?? box.encrypt(c.secret!, clientSecretAad(c.id));
  }
  if (c.requirePushedAuthorizationRequests) out.requirePushedAuthorizationRequests = true;
  if (c.requireMfa) out.requireMfa = true;
  return out;
}
