import { randomBytes } from 'node:crypto';
import type { Keyring } from '../keys/keyring.js';
import { acrOf } from '../mfa/policy.js';

export interface AccessTokenInput {
  issuer: string;
  subject: string;
  clientId: string;
  audience: string[];
  scopes: string[];
  ttl: number;
  now: number;
  roles?: string[] | undefined;
  authTime?: number | undefined;
  /** RFC 8176 methods of the user's sign-in; with them the token carries `amr` and `acr` (RFC 9470 §3). */
  amr?: readonly string[] | undefined;
  /** Session id, so logout can find the tokens it must deny. */
  sid?: string | undefined;
  /** RFC 9449 §6.1: the DPoP key thumbprint, as `cnf.jkt`. */
  jkt?: string | undefined;
}

export interface MintedAccessToken {
  token: string;
  jti: string;
  exp: number;
}

/**
 * RFC 9068 access token: header `typ: at+jwt` with `alg` and `kid` of the active key; claims
 * `iss sub aud exp iat nbf jti client_id scope` (+ `roles`, `auth_time`, `amr`, `acr`, `sid` for user tokens,
 * `cnf` for DPoP-bound ones).
 */
export async function mintAccessToken(keyring: Keyring, input: AccessTokenInput): Promise<MintedAccessToken> {
  const jti = randomBytes(16).toString('base64url');
  const exp = input.now + input.ttl;
  const claims: Record<string, unknown> = {
    iss: input.issuer,
    sub: input.subject,
    aud: input.audience.length === 1 ? input.audience[0] : input.audience,
    exp,
    iat: input.now,
    nbf: input.now,
    jti,
    client_id: input.clientId,
  };
  if (input.scopes.length) claims.scope = input.scopes.join(' ');
  if (input.roles?.length) claims.roles = input.roles;
  if (input.authTime !== undefined) claims.auth_time = input.authTime;
  if (input.amr !== undefined) {
    claims.amr = [...input.amr];
    claims.acr = acrOf(input.amr);
  }
  if (input.sid !== undefined) claims.sid = input.sid;
  if (input.jkt !== undefined) claims.cnf = { jkt: input.jkt };
  const token = await keyring.signJwt({ typ: 'at+jwt' }, claims);
  return { token, jti, exp };
}
