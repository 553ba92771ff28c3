import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

export const SIGNING_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

const generate = promisify(generateKeyPair);

/** RFC 8725 §3.1: each key serves exactly one algorithm, fixed at generation. */
export async function generateSigningKey(alg: SigningAlgorithm): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  switch (alg) {
    case 'RS256':
      return generate('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    case 'ES256':
      return generate('ec', { namedCurve: 'P-256' });
    case 'EdDSA':
      return generate('ed25519');
  }
}

/** node:crypto sign() arguments for a JWS algorithm (RFC 7518 §3.1, RFC 8037). */
export function signParams(alg: SigningAlgorithm, key: KeyObject): { digest: string | null; key: KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' } } {
  switch (alg) {
    case 'RS256':
      return { digest: 'sha256', key };
    case 'ES256':
      return { digest: 'sha256', key: { key, dsaEncoding: 'ieee-p1363' } };
    case 'EdDSA':
      return { digest: null, key };
  }
}

export function isSigningAlgorithm(v: string): v is SigningAlgorithm {
  return (SIGNING_ALGORITHMS as readonly string[]).includes(v);
}
