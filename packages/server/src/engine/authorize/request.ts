import {
  InvalidRequest, OAuthError, RequestNotSupported, RequestUriNotSupported, UnauthorizedClient, UnsupportedResponseType,
} from '@tessera/protocol';
import type { Client, ClientStore } from '../../storage/stores.js';
import { audienceFor, grantedScopes, requireResource, scopesForResources, type ResourcePolicy } from '../scope-policy.js';
import { singleValued, type RawParams } from '../params.js';
import { AuthorizationError } from './errors.js';
import { isPkceValue } from './pkce.js';
import { resolveRedirectUri } from './redirect-uri.js';

export const PROMPTS = ['none', 'login', 'consent', 'select_account'] as const;
export type Prompt = (typeof PROMPTS)[number];

/** A validated authorization request (kept with the interaction while the user signs in). */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  redirectUriSent: boolean;
  state: string | undefined;
  scopes: string[];
  resources: string[];
  codeChallenge: string;
  codeChallengeMethod: 'S256';
  nonce: string | undefined;
  prompt: Prompt[];
  maxAge: number | undefined;
  loginHint: string | undefined;
  /** RFC 9449 §10: the code is bound to the DPoP key with this SHA-256 JWK thumbprint. */
  dpopJkt?: string | undefined;
  /** OIDC Core §3.1.2.1 `acr_values` (absent in interactions stored before issue 15). */
  acrValues?: string[];
}

/** untrusted input is length-capped and rejected when too long, never truncated. */
const MAX = { state: 1024, nonce: 512, loginHint: 256, clientId: 128 };

/**
 * Validates `GET/POST /authorize` (RFC 6749 §4.1.1, OAuth 2.1 §4.1.1, RFC 7636 §4.3, OIDC Core
 * §3.1.2.1) as ordered steps. Until the client and redirect URI are established every error is a
 * page error; after that, errors redirect to the registered URI.
 */
export async function parseAuthorizationRequest(raw: RawParams, clients: ClientStore, policy: ResourcePolicy): Promise<{ client: Client; request: AuthorizationRequest }> {
  // 1. client_id and redirect_uri: nothing may be redirected before both are verified (A3, A4).
  const clientId = raw.client_id;
  if (typeof clientId !== 'string') throw page(new InvalidRequest(clientId === undefined ? 'missing parameter: client_id' : 'parameter client_id is repeated'));
  const client = clientId.length <= MAX.clientId ? await clients.get(clientId) : undefined;
  if (!client || client.disabled) throw page(new InvalidRequest('unknown client', { debug: `client_id ${clientId.slice(0, 64)}${client ? ' (disabled)' : ''}` }));
  const requested = raw.redirect_uri;
  if (Array.isArray(requested)) throw page(new InvalidRequest('parameter redirect_uri is repeated'));
  const redirectUri = resolveRedirectUri(client.redirectUris, requested);
  if (!redirectUri) {
    throw page(new InvalidRequest(requested === undefined ? 'redirect_uri is required for this client' : 'redirect_uri is not registered for this client'));
  }

  // 2. From here on errors go back to the client, with `state` when it was usable (A10).
  const state = typeof raw.state === 'string' && raw.state.length <= MAX.state ? raw.state : undefined;
  const fail = (e: OAuthError): AuthorizationError => new AuthorizationError(e, { uri: redirectUri, state });
  if (Array.isArray(raw.state)) throw fail(new InvalidRequest('parameter state is repeated'));
  if (typeof raw.state === 'string' && raw.state.length > MAX.state) throw fail(new InvalidRequest(`state is longer than ${MAX.state} characters`));

  try {
    const { params, multi } = singleValued(raw); // A7: repeated parameters
    if (params.request !== undefined) throw new RequestNotSupported('request objects are not supported');
    if (params.request_uri !== undefined) throw new RequestUriNotSupported('request_uri is not supported');
    if (params.response_type === undefined) throw new InvalidRequest('missing parameter: response_type');
    // A8 / OAuth 2.1 §4.1.1: only the code flow; nothing puts a token in the front channel.
    if (params.response_type !== 'code') throw new UnsupportedResponseType('only response_type=code is supported');
    if (!client.grantTypes.includes('authorization_code')) throw new UnauthorizedClient('this client may not use the authorization code flow');
    if (params.response_mode !== undefined && params.response_mode !== 'query') throw new InvalidRequest('only response_mode=query is supported');

    const resources = multi.resource ?? [];
    if (resources.length > 10) throw new InvalidRequest('too many resource parameters');
    requireResource(policy, resources);
    if (resources.length) audienceFor(client, resources, policy.issuer); // RFC 8707 §2: invalid_target
    // Scopes asked for must belong to the named resources; the client's defaults are narrowed to them.
    const scopes = scopesForResources(policy, resources, grantedScopes(client, params.scope), params.scope === undefined ? 'narrow' : 'refuse');

    // B2–B4: PKCE with S256 for every client.
    const challenge = params.code_challenge;
    if (challenge === undefined) throw new InvalidRequest('code_challenge is required (PKCE, S256)');
    if (params.code_challenge_method !== 'S256') throw new InvalidRequest('code_challenge_method must be S256');
    if (!isPkceValue(challenge)) throw new InvalidRequest('code_challenge must be 43-128 characters of [A-Za-z0-9-._~]');

    const nonce = capped(params, 'nonce', MAX.nonce);
    const loginHint = capped(params, 'login_hint', MAX.loginHint);
    // RFC 9449 §10: `dpop_jkt` is a base64url SHA-256 JWK thumbprint (RFC 7638), 43 characters.
    const dpopJkt = params.dpop_jkt;
    if (dpopJkt !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(dpopJkt)) throw new InvalidRequest('dpop_jkt must be a base64url SHA-256 JWK thumbprint');
    return {
      client,
      request: {
        clientId: client.id,
        redirectUri,
        redirectUriSent: requested !== undefined,
        state,
        scopes,
        resources,
        codeChallenge: challenge,
        codeChallengeMethod: 'S256',
        nonce,
        prompt: parsePrompt(params.prompt),
        maxAge: parseMaxAge(params.max_age),
        loginHint,
        ...(dpopJkt !== undefined ? { dpopJkt } : {}),
        acrValues: parseAcrValues(capped(params, 'acr_values', 512)),
      },
    };
  } catch (e) {
    if (e instanceof OAuthError) throw fail(e);
    throw e;
  }
}

function page(e: OAuthError): AuthorizationError {
  return new AuthorizationError(e);
}

function capped(params: Record<string, string>, name: string, max: number): string | undefined {
  const v = params[name];
  if (v !== undefined && v.length > max) throw new InvalidRequest(`${name} is longer than ${max} characters`);
  return v;
}

/** OIDC Core §3.1.2.1: space-delimited; `none` must stand alone. */
function parsePrompt(value: string | undefined): Prompt[] {
  if (value === undefined) return [];
  const list = [...new Set(value.split(' ').filter(Boolean))];
  for (const p of list) if (!(PROMPTS as readonly string[]).includes(p)) throw new InvalidRequest('unsupported prompt value');
  if (list.includes('none') && list.length > 1) throw new InvalidRequest('prompt=none cannot be combined with other values');
  return list as Prompt[];
}

/** OIDC Core §3.1.2.1: space-delimited acr values in order of preference; unknown ones are ignored there. */
function parseAcrValues(value: string | undefined): string[] {
  return value === undefined ? [] : [...new Set(value.split(' ').filter(Boolean))];
}

/** OIDC Core §3.1.2.1: max_age is a non-negative number of seconds. */
function parseMaxAge(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new InvalidRequest('max_age must be a non-negative integer');
  return Number(value);
}
