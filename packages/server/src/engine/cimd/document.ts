import { parseScope } from '@tessera/protocol';
import { redirectUriProblem } from '../../config/validate-uri.js';
import { isCleanText } from '../params.js';
import type { Client } from '../../storage/stores.js';
import { DocumentRefused } from './fetch.js';

/** Client ids are varchar(128) in every table that names one: longer document URLs are not accepted. */
export const MAX_DOCUMENT_URL = 128;
const GRANTS = ['authorization_code', 'refresh_token'];

/**
 * True when `id` is meant as a client ID metadata document URL (draft-ietf-oauth-client-id-metadata-document
 * §3): https (or http to loopback when allowed), a path, no fragment, no user info, no dot segments.
 * Registered client ids cannot look like this (their pattern has no `:` or `/`).
 */
export function documentUrl(id: string, allowLoopback: boolean): URL | undefined {
  if (id.length > MAX_DOCUMENT_URL || !(id.startsWith('https://') || (allowLoopback && id.startsWith('http://')))) return undefined;
  let u: URL;
  try {
    u = new URL(id);
  } catch {
    return undefined;
  }
  // Exactly as sent: the document's client_id must be this string, so a normalised form is refused.
  if (u.href !== id || u.username || u.password || id.includes('#')) return undefined;
  if (u.pathname === '/' || u.pathname.split('/').some((seg) => seg === '.' || seg === '..')) return undefined;
  return u;
}

export interface DocumentRules {
  /** Scopes a document client may have at most. */
  scopes: string[];
  /** Resources it may name. */
  resources: string[];
  allowLoopback: boolean;
}

/**
 * The client a metadata document describes (§4), or DocumentRefused. `client_id` must equal the URL it
 * came from; no client secret (§4: a document is public); `token_endpoint_auth_method` `none` (a public
 * client, PKCE) or `private_key_jwt` with a `jwks_uri`; redirect URIs by the usual registration rules.
 */
export function clientFromDocument(url: URL, doc: unknown, rules: DocumentRules, now: number): Client & { jwksUri: string | undefined } {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new DocumentRefused('the document is not a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.client_id !== url.href) throw new DocumentRefused('client_id in the document differs from its URL');
  if (d.client_secret !== undefined || d.client_secret_expires_at !== undefined) throw new DocumentRefused('a metadata document must not contain a client secret');

  const method = d.token_endpoint_auth_method ?? 'none';
  if (method !== 'none' && method !== 'private_key_jwt') throw new DocumentRefused('token_endpoint_auth_method must be none or private_key_jwt');
  let jwksUri: string | undefined;
  if (method === 'private_key_jwt') {
    if (typeof d.jwks_uri !== 'string' || d.jwks_uri.length > 2000) throw new DocumentRefused('private_key_jwt needs a jwks_uri');
    jwksUri = d.jwks_uri;
  }

  const redirects = d.redirect_uris;
  if (!Array.isArray(redirects) || redirects.length === 0 || redirects.length > 20) throw new DocumentRefused('redirect_uris must list 1 to 20 URIs');
  for (const r of redirects) {
    if (typeof r !== 'string' || r.length > 2000 || !isCleanText(r) || redirectUriProblem(r) !== undefined) throw new DocumentRefused('a redirect URI is not acceptable');
  }

  const grants = d.grant_types ?? ['authorization_code'];
  if (!Array.isArray(grants) || !grants.every((g) => typeof g === 'string' && GRANTS.includes(g)) || !grants.includes('authorization_code')) {
    throw new DocumentRefused('grant_types must be authorization_code (and refresh_token)');
  }
  if (d.response_types !== undefined && !(Array.isArray(d.response_types) && d.response_types.length === 1 && d.response_types[0] === 'code')) {
    throw new DocumentRefused('response_types must be ["code"]');
  }

  let scopes = rules.scopes;
  if (d.scope !== undefined) {
    if (typeof d.scope !== 'string' || d.scope.length > 2000) throw new DocumentRefused('scope must be a string');
    let asked: string[];
    try {
      asked = parseScope(d.scope);
    } catch {
      throw new DocumentRefused('scope is malformed');
    }
    scopes = asked.filter((s) => rules.scopes.includes(s));
  }

  const name = typeof d.client_name === 'string' && d.client_name.trim() && d.client_name.length <= 200 && isCleanText(d.client_name) ? d.client_name : url.host;
  // §6.4: a logo from elsewhere could impersonate anyone; only one from the document's own origin is shown.
  const logoUri = typeof d.logo_uri === 'string' && sameOrigin(d.logo_uri, url) ? d.logo_uri : undefined;

  return {
    id: url.href,
    name,
    type: method === 'none' ? 'public' : 'confidential',
    secretHash: undefined,
    redirectUris: redirects as string[],
    grantTypes: [...new Set(grants as string[])],
    scopes,
    audience: undefined,
    resources: rules.resources,
    accessTokenTtl: undefined,
    firstParty: false,
    tokenEndpointAuthMethod: method,
    jwksUri,
    metadataDocument: { host: url.host, logoUri },
    source: 'metadata-document',
    createdAt: now,
    updatedAt: now,
  };
}

function sameOrigin(uri: string, base: URL): boolean {
  try {
    const u = new URL(uri);
    return u.origin === base.origin && u.protocol === base.protocol && !u.username && !u.password && uri.length <= 2000;
  } catch {
    return false;
  }
}
