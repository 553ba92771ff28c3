import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { InvalidClient } from '@tessera/protocol';
import type { AssertionReplayStore, Client } from '../../storage/stores.js';
import type { RedisReplayCache } from '../../storage/redis/replay-cache.js';
import type { SecretBox } from '../keys/secret-box.js';
import type { ClientKeys } from './client-keys.js';

/** RFC 7523 §2.2. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/**
 * Asymmetric algorithms accepted for `private_key_jwt` (never `none`, never HS*: RFC 8725 §3.1–3.2).
 * `Ed25519` is RFC 9864's fully-specified name for EdDSA over Ed25519, which oauth4webapi and
 * openid-client put in the header for Ed25519 keys.
 */
export const PRIVATE_KEY_JWT_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'] as const;
/** `client_secret_jwt`: HMAC with the client's own secret. */
export const CLIENT_SECRET_JWT_ALGS = ['HS256'] as const;

const MAX_ASSERTION = 8192;
const MAX_JTI = 256;
/** An assertion may be valid for at most this long from now (RFC 7523 §3 item 4: "a few minutes"). */
export const MAX_ASSERTION_LIFETIME = 300;
const LEEWAY = 5;
/** RFC 7519 `typ` values an assertion may carry; a token of another kind (at+jwt, dpop+jwt) is refused. */
const TYPES = ['jwt', 'client-authentication+jwt'];

export interface ClientAssertionOptions {
  issuer: string;
  /** draft-ietf-oauth-rfc7523bis: the issuer is the audience; the token endpoint URL only where allowed. */
  acceptTokenEndpointAudience: boolean;
  keys: ClientKeys;
  box: SecretBox;
  replay: AssertionReplayStore;
  /** When Redis is configured: marks a jti used on every instance before the database is asked. */
  redis?: RedisReplayCache | undefined;
  /** The asymmetric algorithms accepted (default PRIVATE_KEY_JWT_ALGS; FAPI 2.0 drops RS256). */
  privateKeyAlgs?: readonly string[];
  now(): number;
}

/** The `iss` of an unverified assertion: used only to find the client whose keys then verify it. */
export function assertionIssuer(assertion: string): string | undefined {
  if (assertion.length > MAX_ASSERTION) return undefined;
  try {
    const { iss } = decodeJwt(assertion);
    return typeof iss === 'string' && iss.length > 0 && iss.length <= 128 ? iss : undefined;
  } catch {
    return undefined;
  }
}

function fail(description: string, debug: string): InvalidClient {
  return new InvalidClient(description, { debug });
}

/**
 * Verifies a JWT client assertion (RFC 7523 §3, OIDC Core §9, draft-ietf-oauth-rfc7523bis) for a
 * client configured for `private_key_jwt` or `client_secret_jwt`: the algorithm is from the method's
 * allowlist (so `none` and HS256 keyed with a public key are refused before any key is used); the
 * signature verifies with the client's keys; `iss` = `sub` = client_id; `aud` is this issuer as the
 * sole value; `exp` is present and at most a few minutes ahead; `jti` was never used before (checked
 * last, so a forged assertion cannot burn a jti). Every failure is `invalid_client`.
 */
export class ClientAssertionVerifier {
  constructor(private readonly o: ClientAssertionOptions) {}

  async verify(assertion: string, client: Client): Promise<'private_key_jwt' | 'client_secret_jwt'> {
    const method = client.tokenEndpointAuthMethod;
    if (method !== 'private_key_jwt' && method !== 'client_secret_jwt') {
      throw fail('this client does not authenticate with a client assertion', `client ${client.id} uses ${method ?? 'a client secret'}`);
    }
    if (assertion.length > MAX_ASSERTION) throw fail('client assertion is too large', 'assertion over 8 KiB');
    let alg: unknown;
    let typ: unknown;
    try {
      ({ alg, typ } = decodeProtectedHeader(assertion));
    } catch {
      throw fail('malformed client assertion', 'header not decodable');
    }
    const allowed: readonly string[] = method === 'client_secret_jwt'
      ? CLIENT_SECRET_JWT_ALGS
      : (this.o.privateKeyAlgs ?? PRIVATE_KEY_JWT_ALGS).filter((a) => sameAlgorithm(client.tokenEndpointAuthSigningAlg, a));
    if (typeof alg !== 'string' || !allowed.includes(alg)) throw fail('client assertion algorithm not allowed', `alg ${String(alg).slice(0, 20)} for ${method}`);
    if (typ !== undefined && (typeof typ !== 'string' || !TYPES.includes(typ.toLowerCase().replace(/^application\//, '')))) {
      throw fail('client assertion has the wrong typ', `typ ${String(typ).slice(0, 40)}`);
    }

    const now = this.o.now();
    let payload: Record<string, unknown>;
    try {
      const options = {
        algorithms: [...allowed],
        issuer: client.id,
        subject: client.id,
        requiredClaims: ['exp', 'jti', 'aud'],
        clockTolerance: LEEWAY,
        currentDate: new Date(now * 1000),
      };
      ({ payload } = method === 'client_secret_jwt'
        ? await jwtVerify(assertion, this.#secretKey(client), options)
        : await jwtVerify(assertion, this.#publicKeys(client), options));
    } catch (e) {
      if (e instanceof InvalidClient) throw e;
      const code = e instanceof joseErrors.JOSEError ? e.code : 'verify failed';
      if (e instanceof joseErrors.JWTExpired) throw fail('client assertion has expired', code);
      if (e instanceof joseErrors.JWKSNoMatchingKey) throw fail('no key of this client matches the client assertion', code);
      throw fail('client assertion is invalid', `${code}: ${(e as Error).message}`.slice(0, 200));
    }

    this.#checkAudience(payload.aud);
    const exp = payload.exp as number;
    if (exp > now + MAX_ASSERTION_LIFETIME + LEEWAY) throw fail(`client assertion exp is more than ${MAX_ASSERTION_LIFETIME} seconds ahead`, `exp ${exp - now}s ahead`);
    if (typeof payload.iat === 'number' && payload.iat > now + LEEWAY) throw fail('client assertion iat is in the future', 'iat ahead');
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI) throw fail('client assertion jti is invalid', 'jti type or length');

    // RFC 7523 §3 item 7, SECURITY-CHECKLIST C10/L1: single use, shared by every instance, until exp.
    const id = createHash('sha256').update(`${client.id}\n${jti}`, 'utf8').digest('base64url');
    const expiresAt = Math.floor(exp) + LEEWAY;
    const fresh = (await this.o.redis?.claim(id, expiresAt)) !== false && (await this.o.replay.use(id, expiresAt, now));
    if (!fresh) throw fail('client assertion was already used', `jti replay for ${client.id}`);
    return method;
  }

  #checkAudience(aud: unknown): void {
    // rfc7523bis: the issuer identifier as the sole audience value (a string, or an array of one).
    const values = Array.isArray(aud) ? aud : [aud];
    const ok = values.length === 1 && typeof values[0] === 'string'
      && (values[0] === this.o.issuer || (this.o.acceptTokenEndpointAudience && values[0] === `${this.o.issuer}/token`));
    if (!ok) throw fail('client assertion aud must be the issuer identifier', `aud ${JSON.stringify(aud).slice(0, 200)}`);
  }

  #secretKey(client: Client): Uint8Array {
    if (!client.secretEnc) throw fail('client authentication failed', `client ${client.id} has no stored secret for client_secret_jwt`);
    try {
      return new TextEncoder().encode(this.o.box.decrypt(client.secretEnc, clientSecretAad(client.id)));
    } catch {
      throw fail('client authentication failed', `stored secret of ${client.id} does not decrypt`);
    }
  }

  #publicKeys(client: Client): JWTVerifyGetKey {
    const get = this.o.keys.resolver(client);
    if (!get) throw fail('client authentication failed', `client ${client.id} has no usable jwks or jwksUri`);
    return get;
  }
}

/** Associated data binding an encrypted client secret to its client. */
export function clientSecretAad(clientId: string): string {
  return `client-secret:${clientId}`;
}

/** A registered signing alg admits `alg`; EdDSA and Ed25519 name the same algorithm for Ed25519 keys (RFC 9864 §2.2). */
function sameAlgorithm(registered: string | undefined, alg: string): boolean {
  if (registered === undefined || registered === alg) return true;
  const ed = ['EdDSA', 'Ed25519'];
  return ed.includes(registered) && ed.includes(alg);
}
