import type { RegistrationConfig } from '../../config/schema.js';
import { redirectUriProblem } from '../../config/validate-uri.js';
import { isCleanText } from '../params.js';
import { InvalidClientMetadata, InvalidRedirectUri } from './errors.js';

export type RegisteredAuthMethod = RegistrationConfig['authMethods'][number];

/** The RFC 7591 §2 metadata Tessera keeps for a registered client, after the policy was applied. */
export interface ClientMetadata {
  redirect_uris: string[];
  token_endpoint_auth_method: RegisteredAuthMethod;
  grant_types: string[];
  response_types: string[];
  scope: string[];
  client_name: string | undefined;
}

const MAX_REDIRECT_URIS = 10;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

function stringList(v: unknown, field: string, max: number): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > max || !v.every((x) => typeof x === 'string' && x !== '' && x.length <= 2000 && isCleanText(x))) {
    throw new InvalidClientMetadata(`${field} must be an array of at most ${max} strings`);
  }
  return [...new Set(v as string[])];
}

/**
 * RFC 7591 §2 metadata validation against the registration policy (SECURITY-CHECKLIST M1, A5): redirect
 * URIs https, loopback http, or a private-use reverse-domain scheme (RFC 8252 §7), no fragment or
 * wildcard; grant and response types consistent (§2.1) and allowed; scopes allowed; the auth method one of
 * the policy's. Fields Tessera does not understand are ignored (§2). Defaults as §2 gives them.
 */
export function validateMetadata(input: unknown, policy: RegistrationConfig): ClientMetadata {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidClientMetadata('the request body must be a JSON object');
  const m = input as Record<string, unknown>;

  const method = m.token_endpoint_auth_method ?? 'client_secret_basic';
  if (typeof method !== 'string' || !(policy.authMethods as string[]).includes(method)) {
    throw new InvalidClientMetadata(`token_endpoint_auth_method must be one of: ${policy.authMethods.join(', ')}`);
  }
  const grantTypes = stringList(m.grant_types, 'grant_types', 5) ?? ['authorization_code'];
  for (const g of grantTypes) {
    if (!(policy.grantTypes as string[]).includes(g)) throw new InvalidClientMetadata(`grant type ${g.slice(0, 40)} is not allowed for registered clients`);
  }
  if (grantTypes.length === 0) throw new InvalidClientMetadata('grant_types must not be empty');
  if (grantTypes.includes('client_credentials') && method === 'none') throw new InvalidClientMetadata('client_credentials needs client authentication');
  if (grantTypes.includes('refresh_token') && !grantTypes.includes('authorization_code')) throw new InvalidClientMetadata('refresh_token needs authorization_code');
  const code = grantTypes.includes('authorization_code');
  const responseTypes = stringList(m.response_types, 'response_types', 3) ?? (code ? ['code'] : []);
  // §2.1: response_types and grant_types must agree; only `code` exists here (OAuth 2.1).
  if (responseTypes.some((r) => r !== 'code')) throw new InvalidClientMetadata('only response_type code is supported');
  if (code !== responseTypes.includes('code')) throw new InvalidClientMetadata('response_types code and grant type authorization_code go together');

  const redirectUris = stringList(m.redirect_uris, 'redirect_uris', MAX_REDIRECT_URIS) ?? [];
  if (code && redirectUris.length === 0) throw new InvalidRedirectUri('redirect_uris is required for authorization_code');
  for (const uri of redirectUris) {
    const p = redirectUriProblem(uri);
    if (p) throw new InvalidRedirectUri(`redirect URI ${p}`);
  }

  if (m.scope !== undefined && (typeof m.scope !== 'string' || m.scope.length > 2000)) throw new InvalidClientMetadata('scope must be a string');
  const scope = m.scope === undefined ? [...policy.scopes] : [...new Set((m.scope as string).split(' ').filter((s) => s !== ''))];
  for (const s of scope) {
    if (!SCOPE_TOKEN.test(s)) throw new InvalidClientMetadata('scope holds an invalid scope token');
    if (!policy.scopes.includes(s)) throw new InvalidClientMetadata(`scope ${s.slice(0, 64)} is not available to registered clients`);
  }
  const name = m.client_name;
  // eslint-disable-next-line no-control-regex
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '' || name.length > 200 || !isCleanText(name) || /[\x00-\x1F\x7F]/.test(name))) {
    throw new InvalidClientMetadata('client_name must be a short printable string');
  }
  return { redirect_uris: redirectUris, token_endpoint_auth_method: method as RegisteredAuthMethod, grant_types: grantTypes, response_types: responseTypes, scope, client_name: name as string | undefined };
}
