// DPoP client keys and proofs (RFC 9449 §4) for the toolkit tests, signed with jose like a real client.
import { createHash, randomUUID } from 'node:crypto';
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** A client's DPoP key pair (RFC 9449 §4): signs proofs; `jkt` is its RFC 7638 thumbprint. */
export interface DpopKey {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
  jkt: string;
}

export async function dpopKey(alg = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, privateJwk: await exportJWK(privateKey), jkt: await calculateJwkThumbprint(publicJwk) };
}

export interface ProofOptions {
  htm?: string;
  htu: string;
  jti?: string;
  iat?: number;
  /** The access token the proof is for (sets `ath`). */
  accessToken?: string;
  /** An explicit `ath` (overrides the one computed from `accessToken`). */
  ath?: string;
  nonce?: string;
  /** Header overrides; `undefined` removes a member. */
  header?: Record<string, unknown>;
}

export const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A DPoP proof JWT signed with `key` (header `typ: dpop+jwt`, `alg`, public `jwk`). */
export async function proof(key: DpopKey, o: ProofOptions): Promise<string> {
  const payload: Record<string, unknown> = { jti: o.jti ?? randomUUID(), htm: o.htm ?? 'POST', htu: o.htu, iat: o.iat ?? Math.floor(Date.now() / 1000) };
  if (o.accessToken !== undefined) payload.ath = ath(o.accessToken);
  if (o.ath !== undefined) payload.ath = o.ath;
  if (o.nonce !== undefined) payload.nonce = o.nonce;
  const header: Record<string, unknown> = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...o.header };
  for (const [k, v] of Object.entries(header)) if (v === undefined) delete header[k];
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
}

/** An unsigned (`alg: none`) proof, as an attacker would send it. */
export function unsignedProof(key: DpopKey, htu: string, htm = 'POST'): string {
  const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
  return `${enc({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk })}.${enc({ jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) })}.`;
}

/** An HS256 proof (symmetric: never acceptable for DPoP), keyed with `secret`. */
export async function hs256Proof(key: DpopKey, htu: string, secret = 'a-shared-secret-of-32-bytes-long!!', htm = 'POST'): Promise<string> {
  return new SignJWT({ jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: key.publicJwk } as { alg: string })
    .sign(new TextEncoder().encode(secret));
}

/** The JWT payload, unverified (tests read `cnf`). */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}
