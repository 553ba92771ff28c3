import { InvalidScope, InvalidTarget, parseScope } from '@tessera/protocol';
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
