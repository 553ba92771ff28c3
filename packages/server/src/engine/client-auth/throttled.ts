import { InvalidClient, TooManyRequests } from '@tessera/protocol';
import type { EngineContext } from '../context.js';
import { authenticateClient, claimedClientId, type AuthenticatedClient, type ClientAuthInput } from './authenticate.js';

/**
 * Client authentication with brute-force protection (RFC 6819 §5.1.4.2.3, SECURITY-CHECKLIST C7):
 * failures are counted per claimed client id and per IP in the database; past the limit the caller gets
 * 429 + Retry-After until the window ends, whether or not the secret is right.
 */
export async function authenticateClientThrottled(input: ClientAuthInput, ip: string, ctx: EngineContext): Promise<AuthenticatedClient> {
  const id = claimedClientId(input);
  const wait = await ctx.clientAuthThrottle.retryAfter(id, ip);
  if (wait > 0) throw new TooManyRequests('too many failed client authentications; try again later', { retryAfter: wait });
  try {
    return await authenticateClient(input, ctx.stores.clients, ctx.box);
  } catch (e) {
    if (e instanceof InvalidClient) await ctx.clientAuthThrottle.recordFailure(id, ip);
    throw e;
  }
}
