import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { InvalidToken } from '@tessera/protocol';
import type { Keyring } from '../keys/keyring.js';
import { SIGNING_ALGORITHMS } from '../keys/algorithms.js';

/**
 * Verifies an access token issued by this server, for its own resource endpoints (/userinfo):
 * RFC 9068 §4 — `typ` at+jwt, an allow-listed `alg` matching one of our keys, `iss`, `aud` containing
 * `audience`, `exp`/`nbf`. Any failure is `invalid_token` (the reason goes to the log only).
 */
export async function verifyAccessToken(token: string, keyring: Keyring, issuer: string, audience: string): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, keyring.verificationKeys(), {
      typ: 'at+jwt',
      algorithms: [...SIGNING_ALGORITHMS],
      issuer,
      audience,
      requiredClaims: ['sub', 'jti', 'exp', 'iat', 'client_id'],
      clockTolerance: 5,
    });
    return payload;
  } catch (e) {
    const reason = e instanceof joseErrors.JOSEError ? e.code : 'malformed';
    throw new InvalidToken('the access token is invalid or expired', { debug: reason });
  }
}
