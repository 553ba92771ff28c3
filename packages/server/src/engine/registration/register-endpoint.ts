import { InvalidToken, TooManyRequests } from '@tessera/protocol';
import type { EngineContext } from '../context.js';
import { randomToken, sha256 } from '../sessions/secrets.js';
import { validateMetadata } from './metadata.js';
import { clientInformation, toClient } from './client-record.js';
import { bearerToken } from './bearer.js';

export interface RegisterRequest {
  authorization: string | undefined;
  /** The parsed JSON body. */
  body: unknown;
  ip: string;
}

const HOUR = 3600;

/**
 * POST /register (RFC 7591 §3), as ordered steps: the initial access token when the policy is not open
 * (§3, RFC 6750 bearer); the per-source hourly limit (counted in the database, so every instance shares
 * it); metadata validated against the policy (§2, §3.2.2); the initial token's use spent atomically; the
 * client stored (source `registration`) with a hashed secret and a hashed registration access token
 * (RFC 7592 §3). Answers 201 with the client information response.
 */
export async function registerEndpoint(req: RegisterRequest, ctx: EngineContext): Promise<Record<string, unknown>> {
  const policy = ctx.config.registration;
  const now = ctx.now();
  // 1. §3: gated registration needs an initial access token (checked now, spent after validation).
  const initial = policy.open ? undefined : bearerToken(req.authorization, 'an initial access token is required');
  // 2. The per-source limit, before any work is done for the request.
  if ((await ctx.stores.registrations.countFrom(req.ip, now - HOUR)) >= policy.maxClientsPerIpPerHour) {
    throw new TooManyRequests('too many registrations from this source; try again later', { retryAfter: 600 });
  }
  // 3. §2 metadata and the policy.
  const meta = validateMetadata(req.body, policy);
  // 4. The initial token's use (one conditional write: two racing requests cannot both spend the last use).
  if (initial !== undefined && !(await ctx.stores.registrations.useInitialToken(sha256(initial), now))) {
    throw new InvalidToken('the initial access token is invalid, expired or used up');
  }
  // 5. Store the client and its registration.
  const id = `dcr_${randomToken().slice(0, 22)}`;
  const secret = meta.token_endpoint_auth_method === 'none' ? undefined : randomToken();
  const client = toClient(id, meta, policy, secret === undefined ? undefined : ctx.box.hashClientSecret(secret), now, now);
  const registrationToken = randomToken();
  await ctx.stores.clients.upsert(client);
  try {
    await ctx.stores.registrations.insert({ clientId: id, tokenHash: sha256(registrationToken), createdIp: req.ip, createdAt: now });
  } catch (e) {
    await ctx.stores.clients.delete(id);
    throw e;
  }
  ctx.audit('client_registered', { clientId: id, ip: req.ip });
  return clientInformation(client, ctx.config.issuer, registrationToken, secret);
}
