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
    return await authenticateClient(input, ctx.stores.clients, ctx.box, {
      assertions: ctx.clientAssertions,
      // FAPI 2.0 Security Profile §5.3.2.1: private_key_jwt (or mTLS, not offered) only.
      onlyMethods: ctx.config.profile === 'fapi2' ? ['private_key_jwt'] : undefined,
    });
  } catch (e) {
    if (e instanceof InvalidClient) await ctx.clientAuthThrottle.recordFailure(id, ip);
    throw e;
  }
}
