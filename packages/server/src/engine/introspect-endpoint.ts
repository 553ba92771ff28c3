import { InvalidClient, TooManyRequests } from '@tessera/protocol';
import type { Client } from '../storage/stores.js';
import { authenticateClientThrottled } from './client-auth/index.js';
import type { EngineContext } from './context.js';
import { inspectToken } from './tokens/inspect.js';
import { boundKey } from './dpop/binding.js';
import { required, singleValued, type RawParams } from './params.js';

export interface IntrospectRequest {
  authorization: string | undefined;
  body: RawParams;
  ip: string;
}

const INACTIVE = { active: false } as const;
const LEEWAY = 5;

/**
 * POST /introspect (RFC 7662). Callers authenticate as confidential clients (§2.1, H7). An access token
 * is active when its signature, `exp`, `nbf` hold and it is not on the denylist nor from a revoked code
 * (H9); a refresh token when it is current in a live family. A caller sees a token only if it is the
 * token's client, or a resource server (`introspect` permission) named in its `aud`. Everything else is
 * exactly `{"active": false}` (§2.2, H8).
 */
export async function introspectEndpoint(req: IntrospectRequest, ctx: EngineContext): Promise<Record<string, unknown>> {
  const { params } = singleValued(req.body);
  const { client, method } = await authenticateClientThrottled({ authorization: req.authorization, params }, req.ip, ctx);
  if (method === 'none') throw new InvalidClient('introspection requires client authentication');
  // H7: a caller presenting many tokens that are not ours is scanning; it is slowed like a brute force.
  const wait = await ctx.introspectionThrottle.retryAfter(client.id, req.ip);
  if (wait > 0) throw new TooManyRequests('too many introspections of unknown tokens; try again later', { retryAfter: wait });
  const found = await inspectToken(required(params, 'token'), ctx);
  if (found.kind === 'unknown') await ctx.introspectionThrottle.recordFailure(client.id, req.ip);
  const now = ctx.now();

  if (found.kind === 'access') {
    const c = found.claims;
    const exp = typeof c.exp === 'number' ? c.exp : 0;
    const nbf = typeof c.nbf === 'number' ? c.nbf : 0;
    if (exp <= now || nbf > now + LEEWAY || typeof c.jti !== 'string') return INACTIVE;
    if (!mayIntrospect(client, c)) return INACTIVE;
    if (await ctx.revoker.isRevoked(c.jti)) return INACTIVE;
    const jkt = boundKey(c);
    return {
      active: true,
      scope: c.scope,
      client_id: c.client_id,
      sub: c.sub,
      aud: c.aud,
      iss: c.iss,
      exp: c.exp,
      iat: c.iat,
      nbf: c.nbf,
      jti: c.jti,
      // RFC 9449 §6.2: a DPoP-bound token says so, with the key thumbprint it is bound to.
      token_type: jkt ? 'DPoP' : 'Bearer',
      ...(jkt ? { cnf: { jkt } } : {}),
      ...(Array.isArray(c.roles) ? { roles: c.roles } : {}),
    };
  }
  if (found.kind === 'refresh') {
    const { token, family } = found;
    const live = family.clientId === client.id && family.revokedAt === undefined && token.revokedAt === undefined
      && token.rotatedAt === undefined && token.expiresAt > now && family.absoluteExpiresAt > now;
    if (!live) return INACTIVE;
    return {
      active: true,
      scope: family.scopes.join(' '),
      client_id: family.clientId,
      sub: family.sub,
      exp: token.expiresAt,
      iat: token.createdAt,
      iss: ctx.config.issuer,
      token_type: 'refresh_token',
      ...(family.dpopJkt ? { cnf: { jkt: family.dpopJkt } } : {}),
    };
  }
  return INACTIVE;
}

function mayIntrospect(caller: Client, claims: Record<string, unknown>): boolean {
  if (claims.client_id === caller.id) return true;
  if (!(caller.permissions ?? []).includes('introspect')) return false;
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const mine = [caller.audience, ...caller.resources].filter((x): x is string => typeof x === 'string');
  return aud.some((a) => mine.includes(a as string));
}
