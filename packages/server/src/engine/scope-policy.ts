import { InvalidRequest, InvalidScope, InvalidTarget, parseScope } from '@tessera/protocol';
import type { Client } from '../storage/stores.js';
import { resourceUriProblem } from '../config/validate-uri.js';

/**
 * RFC 6749 §3.3: the requested scope must be within what the client may have; with none requested the
 * client's registered scopes are the default.
 */
export function grantedScopes(client: Client, requested: string | undefined): string[] {
  const scopes = parseScope(requested);
  if (scopes.length === 0) return [...client.scopes];
  const unknown = scopes.filter((s) => !client.scopes.includes(s));
  if (unknown.length) throw new InvalidScope('requested scope is not allowed for this client', { debug: `not allowed: ${unknown.join(' ')}` });
  return scopes;
}

/**
 * RFC 8707: `aud` is the requested resource(s), each of which this client must be allowed; without
 * `resource` the client's default audience, else the issuer itself.
 */
export function audienceFor(client: Client, resources: string[], issuer: string): string[] {
  if (resources.length === 0) return [client.audience ?? issuer];
  const allowed = new Set([...(client.audience ? [client.audience] : []), ...client.resources]);
  for (const r of resources) {
    if (r.length > 512 || resourceUriProblem(r)) throw new InvalidTarget('resource must be an absolute URI without a fragment');
    if (!allowed.has(r)) throw new InvalidTarget('the requested resource is not available to this client');
  }
  return [...new Set(resources)];
}

/** What the resource rules read from the configuration (RFC 8707). */
export interface ResourcePolicy {
  issuer: string;
  resourceServers?: { resource: string; scopes?: string[] | undefined }[] | undefined;
  requireResourceIndicator?: boolean | undefined;
}

/** OIDC scopes are this server's own (ID token, /userinfo, refresh), never a resource server's. */
const SERVER_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** `requireResourceIndicator`: a request without `resource` is refused. */
export function requireResource(policy: ResourcePolicy, resources: string[]): void {
  if (policy.requireResourceIndicator && resources.length === 0) {
    throw new InvalidRequest('missing parameter: resource (this server requires a resource indicator, RFC 8707)');
  }
}

/**
 * RFC 8707 with registered resources: the scopes of a request naming `resources` must belong to one of
 * them (or be this server's own OIDC scopes). `refuse` (the client asked for these scopes): anything
 * else is `invalid_scope`; `narrow` (defaults, or a grant narrowed to fewer resources): the rest is
 * dropped. Resources registered without a scope list, or not registered at all, do not restrict.
 */
export function scopesForResources(policy: ResourcePolicy, resources: string[], scopes: string[], mode: 'refuse' | 'narrow'): string[] {
  if (resources.length === 0 || !policy.resourceServers) return scopes;
  const allowed = new Set(SERVER_SCOPES);
  for (const r of resources) {
    const registered = policy.resourceServers.find((x) => x.resource === r);
    if (!registered?.scopes) return scopes;
    for (const s of registered.scopes) allowed.add(s);
  }
  const foreign = scopes.filter((s) => !allowed.has(s));
  if (foreign.length && mode === 'refuse') {
    throw new InvalidScope('a requested scope does not belong to the requested resource', { debug: `not for ${resources.join(' ')}: ${foreign.join(' ')}` });
  }
  return scopes.filter((s) => allowed.has(s));
}

/**
 * RFC 8707 §2.2: a token request may narrow the resources of its grant to some of them, never widen them.
 * A grant made without `resource` may name only the client's default audience.
 */
export function narrowedResources(client: Client, granted: string[], requested: string[]): string[] {
  if (requested.length === 0) return granted;
  const within = granted.length ? granted : client.audience ? [client.audience] : [];
  if (requested.some((r) => !within.includes(r))) throw new InvalidTarget('resource was not part of the grant');
  return [...new Set(requested)];
}
