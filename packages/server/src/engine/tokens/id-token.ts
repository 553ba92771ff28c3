import { createHash } from 'node:crypto';
import type { Keyring } from '../keys/keyring.js';

export interface IdTokenInput {
  issuer: string;
  subject: string;
  clientId: string;
  authTime: number;
  nonce: string | undefined;
  accessToken: string;
  sid: string | undefined;
  ttl: number;
  now: number;
}

/**
 * OIDC Core §3.1.3.6 `at_hash`: base64url of the left half of the hash of the access token, the hash
 * being the one of the ID token's `alg` (SHA-256 for RS256, ES256; SHA-512 for EdDSA/Ed25519 per
 * OIDC Core errata and RFC 8037 practice).
 */
export function atHash(accessToken: string, alg: string): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/**
 * The ID token (OIDC Core §2, §3.1.3.6): `iss sub aud exp iat auth_time nonce at_hash` (+ `sid`).
 * Header `typ: JWT` and `aud` = the client id, so it can never pass as an access token (`at+jwt`,
 * resource audience — RFC 8725 §3.11, SECURITY-CHECKLIST F5).
 */
export async function mintIdToken(keyring: Keyring, input: IdTokenInput): Promise<string> {
  const claims: Record<string, unknown> = {
    iss: input.issuer,
    sub: input.subject,
    aud: input.clientId,
    exp: input.now + input.ttl,
    iat: input.now,
    auth_time: input.authTime,
    at_hash: atHash(input.accessToken, keyring.active().alg),
  };
  if (input.nonce !== undefined) claims.nonce = input.nonce;
  if (input.sid !== undefined) claims.sid = input.sid;
  return keyring.signJwt({ typ: 'JWT' }, claims);
}
