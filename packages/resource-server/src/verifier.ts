import { jwtVerify, errors as joseErrors } from 'jose';
import { InvalidToken, OAuthError } from '@tessera/protocol';
import { resolveOptions, type Config, type VerifierOptions } from './options.js';
import { decodeAccessToken } from './token-format.js';
import { JwksCache } from './jwks.js';
import { normaliseClaims, copyResult, type AuthResult } from './claims.js';
import { ResultCache } from './result-cache.js';
import { Denylist } from './revocation/denylist.js';
import { FeedSubscriber } from './revocation/feed.js';
import { Introspector } from './revocation/introspection.js';

/** Verifies RFC 9068 access tokens from one issuer for one resource server. */
export interface Verifier {
  /**
   * Resolves the normalised result, or throws `InvalidToken` (401), or `TemporarilyUnavailable` (503)
   * when a configured revocation source cannot answer (fail closed).
   */
  verify(token: string): Promise<AuthResult>;
  /** Stops background work (revocation feed). */
  close(): Promise<void>;
  readonly issuer: string;
  readonly audience: readonly string[];
}

interface Revocation {
  check(token: string, jti: string, exp: number): Promise<void>;
  close(): Promise<void>;
}

function createRevocation(c: Config, cache: ResultCache): Revocation | undefined {
  const r = c.revocation;
  const base = c.issuer.replace(/\/$/, '');
  if (r && 'feed' in r) {
    const denylist = new Denylist(c.clockTolerance);
    const feed = new FeedSubscriber({ ...r.feed, url: r.feed.url ?? `${base}/revocations`, fetch: c.fetch, onError: c.onError, onRevoked: (jti) => cache.dropJti(jti) }, denylist);
    const purge = setInterval(() => denylist.purge(Date.now() / 1000), 60_000).unref();
    return {
      async check(_token, jti) {
        await feed.ready();
        if (denylist.has(jti, Date.now() / 1000)) throw new InvalidToken('the access token has been revoked', { debug: 'jti is on the revocation denylist' });
      },
      close: async () => (clearInterval(purge), feed.close()),
    };
  }
  if (r && 'introspection' in r) {
    const i = r.introspection;
    const introspector = new Introspector({ ...i, url: i.url ?? `${base}/introspect`, cacheSeconds: i.cacheSeconds ?? 10, fetch: c.fetch });
    return { check: (token, _jti, exp) => introspector.check(token, exp), close: async () => {} };
  }
  return undefined;
}

/**
 * Creates a verifier for RFC 9068 JWT access tokens, applying RFC 9068 §4 and RFC 8725. Keys come only
 * from the issuer's JWKS (discovered per RFC 8414). Options are validated now; a bad option throws TypeError.
 *
 * @example
 * const verifier = createVerifier({ issuer: 'https://as.example', audience: 'https://orders.example' });
 * const auth = await verifier.verify(token); // auth.scopes.has('orders:read')
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const c = resolveOptions(options);
  const jwks = new JwksCache({ issuer: c.issuer, jwksUri: c.jwksUri, fetch: c.fetch, cooldownMs: c.jwksCooldownMs, onError: c.onError });
  const cache = new ResultCache(c.cacheSize);
  const revocation = createRevocation(c, cache);

  async function verifyUncached(token: string): Promise<{ result: AuthResult; jti: string; exp: number }> {
    const { alg, kid } = decodeAccessToken(token, c.algorithms);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, () => jwks.getKey(kid, alg), {
        issuer: c.issuer,
        audience: c.audience,
        algorithms: c.algorithms,
        clockTolerance: c.clockTolerance,
        typ: 'at+jwt',
        requiredClaims: ['exp', 'iat', 'sub', 'jti', 'client_id'],
      }));
    } catch (e) {
      if (e instanceof OAuthError) throw e;
      const debug = e instanceof joseErrors.JOSEError ? `${e.code}: ${e.message}` : 'verification failed';
      throw new InvalidToken('the access token is invalid', { debug, cause: e });
    }
    const result = normaliseClaims(payload, c.issuer, Date.now() / 1000, c.clockTolerance);
    return { result, jti: payload.jti as string, exp: payload.exp as number };
  }

  return {
    issuer: c.issuer,
    audience: Object.freeze([...c.audience]),
    async verify(token) {
      if (typeof token !== 'string') throw new InvalidToken('the access token is invalid', { debug: 'token is not a string' });
      let entry = cache.get(token, Date.now());
      if (!entry) {
        const v = await verifyUncached(token);
        entry = { result: v.result, jti: v.jti, expiresAt: v.exp * 1000 };
        cache.set(token, entry);
      }
      await revocation?.check(token, entry.jti, entry.expiresAt / 1000);
      return copyResult(entry.result, token);
    },
    close: async () => revocation?.close(),
  };
}
