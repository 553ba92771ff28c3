import { InvalidRequest } from '@tessera/protocol';
import { authenticateClientThrottled } from '../client-auth/index.js';
import type { EngineContext } from '../context.js';
import { singleValued, type RawParams } from '../params.js';
import { AuthorizationError } from '../authorize/errors.js';
import { parseAuthorizationRequest } from '../authorize/request.js';
import { randomToken, sha256 } from '../sessions/secrets.js';
import { parDpopJkt } from '../dpop/index.js';

/** RFC 9126 §2.2: the request_uri prefix, followed by 256 random bits (B14). */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
/** RFC 9126 §2.2: short-lived; 60 s as FAPI 2.0 §5.3.2.2 asks (at most 600). */
export const PAR_TTL = 60;
/** Client-authentication parameters: used here, never stored with the request. */
const AUTH_PARAMS = ['client_secret', 'client_assertion', 'client_assertion_type'];

export interface ParRequest {
  authorization: string | undefined;
  /** The `DPoP` header, if any (RFC 9449 §10.1: a proof at /par binds the code like `dpop_jkt`). */
  dpop?: string | string[] | undefined;
  body: RawParams;
  ip: string;
}

export interface ParResponse {
  request_uri: string;
  expires_in: number;
}

/**
 * POST /par (RFC 9126 §2), as ordered steps: authenticate the client like the token endpoint does;
 * refuse `request_uri` inside a pushed request (§2.1); validate exactly as /authorize would (same
 * function, so a request that could not start at /authorize cannot be pushed); store it for 60 s under
 * a random, single-use `request_uri`. Errors are RFC 6749 §5.2 JSON (§2.3), never redirects.
 */
export async function parEndpoint(req: ParRequest, ctx: EngineContext): Promise<ParResponse> {
  // 1. Duplicates are refused before anything else (RFC 6749 §3.1, A7).
  const { params } = singleValued(req.body);
  // 2. Client authentication (the same methods and throttling as /token).
  const { client } = await authenticateClientThrottled({ authorization: req.authorization, params }, req.ip, ctx);
  // 3. §2.1: request_uri must not be pushed.
  if (params.request_uri !== undefined) throw new InvalidRequest('request_uri is not allowed in a pushed authorization request');
  // 4. The authenticated client is the request's client (§2.1: client_id, when sent, must match).
  if (params.client_id !== undefined && params.client_id !== client.id) throw new InvalidRequest('client_id does not match the authenticated client');
  const stored: RawParams = Object.create(null) as RawParams;
  for (const [k, v] of Object.entries(req.body)) if (!AUTH_PARAMS.includes(k)) stored[k] = v;
  stored.client_id = client.id;
  // 5. The /authorize validation, unchanged; its errors become JSON here (§2.3).
  try {
    await parseAuthorizationRequest(stored, ctx.stores.clients, ctx.config);
  } catch (e) {
    throw e instanceof AuthorizationError ? e.oauth : e;
  }
  // 6. RFC 9449 §10.1: a DPoP proof here binds the future code to its key (it must agree with dpop_jkt).
  const jkt = await parDpopJkt(ctx.dpop, req.dpop, `${ctx.config.issuer}/par`, params.dpop_jkt);
  if (jkt !== undefined) stored.dpop_jkt = jkt;
  // 7. Store and answer (§2.2: 201 Created).
  const id = randomToken();
  const now = ctx.now();
  await ctx.stores.pushedRequests.insert({ uriHash: sha256(id), clientId: client.id, params: stored, createdAt: now, expiresAt: now + PAR_TTL });
  return { request_uri: `${REQUEST_URI_PREFIX}${id}`, expires_in: PAR_TTL };
}
