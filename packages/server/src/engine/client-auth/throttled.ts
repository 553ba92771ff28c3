import { InvalidClient, TooManyRequests } from '@tessera/protocol';
import type { EngineContext } from '../context.js';
import { keyOf, sourceOf, type FailureCounters, type Limit } from '../login/throttle.js';
import { authenticateClient, claimedClientId, type AuthenticatedClient, type ClientAuthInput } from './authenticate.js';

/**
 * Failed client authentications (RFC 6819 §5.1.4.2.3, SECURITY-CHECKLIST C7), counted per source (IPv4
 * address, IPv6 /64) and per claimed client id + source — never per client id alone: client ids are
 * public, so a per-client counter would let anyone lock a client (or a resource server's revocation
 * feed) out from everywhere. Client secrets carry 256 bits (generated) and are not guessable online, so
 * the per-source limits are what slows a guesser; the owner, from its own address, is unaffected.
 */
export class ClientAuthThrottle {
  constructor(
    private readonly counters: FailureCounters,
    private readonly settings: { maxFailuresPerClient: number; maxFailuresPerIp: number },
  ) {}

  retryAfter(clientId: string, ip: string): Promise<number> {
    return this.counters.retryAfter(this.#limits(clientId, ip));
  }

  recordFailure(clientId: string, ip: string): Promise<void> {
    return this.counters.recordFailure(this.#limits(clientId, ip).map(([k]) => k));
  }

  #limits(clientId: string, ip: string): Limit[] {
    const source = sourceOf(ip);
    return [[`ip:${source}`, this.settings.maxFailuresPerIp], [`cip:${keyOf(clientId, source)}`, this.settings.maxFailuresPerClient]];
  }
}

/**
 * Client authentication with brute-force protection: past a limit the source gets 429 + Retry-After
 * until the window ends, whether or not the secret is right (see ClientAuthThrottle for what is counted).
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
    if (e instanceof InvalidClient) {
      await ctx.clientAuthThrottle.recordFailure(id, ip);
      ctx.audit('client_auth_failed', { clientId: id.slice(0, 256) || undefined, ip, reason: e.message });
    }
    throw e;
  }
}
