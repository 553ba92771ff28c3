import type { ClientConfig } from './config/schema.js';
import { seconds } from './config/load.js';
import type { SecretBox } from './engine/keys/secret-box.js';
import type { Client, ClientStore } from './storage/stores.js';

/**
 * Applies the clients declared in the config file idempotently: each is inserted or replaced, and a
 * config-declared client that left the file is deleted, so a deployment is reproducible from its file.
 * Clients made with the CLI are left alone.
 */
export async function applyConfigClients(declared: ClientConfig[], store: ClientStore, box: SecretBox, now: number): Promise<void> {
  const existing = new Map((await store.list()).map((c) => [c.id, c]));
  for (const c of declared) {
    await store.upsert(fromConfig(c, box, existing.get(c.id)?.createdAt ?? now, now));
  }
  const ids = new Set(declared.map((c) => c.id));
  for (const c of existing.values()) {
    if (c.source === 'config' && !ids.has(c.id)) await store.delete(c.id);
  }
}

function fromConfig(c: ClientConfig, box: SecretBox, createdAt: number, now: number): Client {
  const type = c.type ?? 'confidential';
  return {
    id: c.id,
    name: c.name ?? c.id,
    type,
    secretHash: type === 'public' ? undefined : (c.secretHash ?? box.hashClientSecret(c.secret!)),
    redirectUris: c.redirectUris ?? [],
    grantTypes: c.grants,
    scopes: c.scopes ?? [],
    audience: c.audience,
    resources: c.resources ?? [],
    accessTokenTtl: c.accessTokenTtl === undefined ? undefined : seconds(c.accessTokenTtl),
    firstParty: c.firstParty ?? false,
    postLogoutRedirectUris: c.postLogoutRedirectUris ?? [],
    permissions: c.permissions ?? [],
    dpopBoundAccessTokens: c.dpopBoundAccessTokens ?? false,
    source: 'config',
    createdAt,
    updatedAt: now,
  };
}
