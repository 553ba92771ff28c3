import { createHash } from 'node:crypto';
import { ServerError } from '@tessera/protocol';
import { ID_TOKEN_DEFAULT_ALG, type Keyring } from '../keys/keyring.js';
import { isSigningAlgorithm, type SigningAlgorithm } from '../keys/algorithms.js';
import type { Client } from '../../storage/stores.js';
import { acrOf } from '../mfa/policy.js';

export interface IdTokenInput {
  issuer: string;
  subject: string;
  clientId: string;
  authTime: number;
  /** RFC 8176 methods of the sign-in (OIDC Core §2 `amr`; `acr` is derived from them). */
  amr?: readonly string[] | undefined;
  nonce: string | undefined;
  accessToken: string;
  sid: string | undefined;
  ttl: number;
  now: number;
  /** From `idTokenAlg(client, keyring)`. */
  alg: SigningAlgorithm;
}

/**
 * The client's `id_token_signed_response_alg` (OIDC Registration §2), RS256 when it registered none.
 * An algorithm this server has no key for (keys.algorithm changed after the client was registered) is
 * a server error, never a silent switch: the client would reject the token anyway.
 */
export function idTokenAlg(client: Pick<Client, 'id' | 'idTokenSignedResponseAlg'>, keyring: Keyring): SigningAlgorithm {
  const alg = client.idTokenSignedResponseAlg ?? ID_TOKEN_DEFAULT_ALG;
  if (!isSigningAlgorithm(alg) || !keyring.algorithms.includes(alg)) {
    throw new ServerError('the server cannot sign ID tokens for this client', { debug: `client ${client.id} registered id_token_signed_response_alg ${alg}, but keys.algorithm is ${keyring.algorithms[0]}` });
  }
  return alg;
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
 * The ID token (OIDC Core §2, §3.1.3.6): `iss sub aud exp iat auth_time nonce at_hash` (+ `sid`,
 * `amr`, `acr`).
 * Header `typ: JWT` and `aud` = the client id, so it can never pass as an access token (`at+jwt`,
 * resource audience — RFC 8725 §3.11, SECURITY-CHECKLIST F5). Signed with `input.alg`'s active key.
 */
export async function mintIdToken(keyring: Keyring, input: IdTokenInput): Promise<string> {
  const claims: Record<string, unknown> = {
    iss: input.issuer,
    sub: input.subject,
    aud: input.clientId,
    exp: input.now + input.ttl,
    iat: input.now,
    auth_time: input.authTime,
    at_hash: atHash(input.accessToken, input.alg),
  };
  if (input.nonce !== undefined) claims.nonce = input.nonce;
  if (input.sid !== undefined) claims.sid = input.sid;
  if (input.amr !== undefined) {
    claims.amr = [...input.amr];
    claims.acr = acrOf(input.amr);
  }
  return keyring.signJwt({ typ: 'JWT' }, claims, input.alg);
}
