import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/**
 * DPoP proofs for load (RFC 9449 §4): one ES256 client key, proofs signed with node:crypto. Proofs
 * are made *before* each timed run (`fill`), so the load generator does not share the CPU with proof
 * signing during the measurement; should the pool run dry, proofs are signed on the fly.
 */
export interface ProofKey {
  privateKey: KeyObject;
  jwk: Record<string, string>;
}

/** A new ES256 client key. */
export function proofKey(): ProofKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  return { privateKey, jwk: { kty: kty!, crv: crv!, x: x!, y: y! } };
}

export class ProofSource {
  #pool: string[] = [];
  #next = 0;

  constructor(private readonly key: ProofKey, private readonly htm: string, private readonly htu: string, private readonly accessToken?: string) {}

  one(): string {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const payload: Record<string, unknown> = { jti: randomBytes(12).toString('base64url'), htm: this.htm, htu: this.htu, iat: Math.floor(Date.now() / 1000) };
    if (this.accessToken) payload.ath = createHash('sha256').update(this.accessToken).digest('base64url');
    const input = `${enc({ typ: 'dpop+jwt', alg: 'ES256', jwk: this.key.jwk })}.${enc(payload)}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: this.key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  }

  /** Replaces the pool with `n` fresh proofs. */
  fill(n: number): void {
    this.#pool = Array.from({ length: n }, () => this.one());
    this.#next = 0;
  }

  next(): string {
    return this.#next < this.#pool.length ? this.#pool[this.#next++]! : this.one();
  }
}
