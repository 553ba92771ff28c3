import type { ClientConfig, UserConfig } from '../config/schema.js';
import type { Client, User } from '../storage/stores.js';

/** Drops what the config file need not say: undefined, empty lists, `false` flags. */
function prune<T extends Record<string, unknown>>(o: T): T {
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) delete o[k];
  }
  return o;
}

/**
 * A stored client as the config file would declare it (the inverse of `fromConfig`), with its secret
 * only as the stored `secretHash`. Fields that newer code adds under the same name in both shapes pass
 * through unchanged.
 */
export function clientToConfig(c: Client): ClientConfig {
  const {
    id, name, type, secretHash, redirectUris, grantTypes, scopes, audience, resources, accessTokenTtl, firstParty,
    postLogoutRedirectUris, permissions, secretEnc, source: _source, createdAt: _createdAt, updatedAt: _updatedAt, ...newer
  } = c;
  return prune({
    id,
    name: name === id ? undefined : name,
    type,
    secretHash,
    grants: grantTypes,
    scopes,
    redirectUris,
    postLogoutRedirectUris,
    audience,
    resources,
    accessTokenTtl,
    firstParty,
    permissions,
    // client_secret_jwt: the secret encrypted under TESSERA_SECRET, as `clients encrypt-secret` prints it.
    secretEncrypted: secretEnc,
    ...newer,
  }) as ClientConfig;
}

/** A stored user as the config file would declare it: the `sub` is kept (tokens and consents stay valid). */
export function userToConfig(u: User): UserConfig {
  return prune({
    username: u.username,
    sub: u.sub,
    passwordHash: u.passwordHash,
    name: u.name,
    email: u.email,
    emailVerified: u.emailVerified,
    roles: u.roles,
  });
}
