import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** A client's signing key pair with its public JWK (kid, alg set) as a config file would list it. */
export interface ClientKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function clientKey(alg: 'RS256' | 'PS256' | 'ES256' | 'EdDSA' = 'ES256', kid = `k-${randomUUID().slice(0, 8)}`): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** RFC 7523 §3 claims for `clientId` at `issuer`, valid for 60 s; `claims` overrides (undefined removes). */
export function assertionClaims(clientId: string, issuer: string, claims: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const base: Record<string, unknown> = { iss: clientId, sub: clientId, aud: issuer, jti: randomUUID(), iat: now, exp: now + 60, ...claims };
  for (const k of Object.keys(base)) if (base[k] === undefined) delete base[k];
  return base;
}

/** A signed client assertion; `header` overrides the protected header (kid, typ, …). */
export async function signAssertion(key: ClientKey | { alg: 'HS256'; secret: Uint8Array }, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const jwt = new SignJWT(claims);
  if ('secret' in key) return jwt.setProtectedHeader({ alg: 'HS256', ...header }).sign(key.secret);
  return jwt.setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

/** An unsigned JWT (`alg: none`), which no verifier may accept. */
export function unsignedAssertion(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none' })}.${b64(claims)}.`;
}

/** Form fields for assertion-based client authentication. */
export function assertionForm(assertion: string): Record<string, string> {
  return { client_assertion_type: ASSERTION_TYPE, client_assertion: assertion };
}
