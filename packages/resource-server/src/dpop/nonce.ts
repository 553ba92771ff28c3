import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Resource-server DPoP nonces (RFC 9449 §9): an HMAC of the time slot, accepted during its slot and the
 * next. Instances behind one origin share nonces when they share `secret`.
 */
export class NonceSource {
  readonly #key: Buffer;
  constructor(secret: string | undefined, private readonly lifetime: number) {
    this.#key = secret === undefined ? randomBytes(32) : Buffer.from(secret, 'utf8');
  }

  current(now: number): string {
    return this.#slot(Math.floor(now / this.lifetime));
  }

  valid(nonce: string | undefined, now: number): boolean {
    if (typeof nonce !== 'string' || nonce.length !== 43) return false;
    const slot = Math.floor(now / this.lifetime);
    const given = Buffer.from(nonce);
    return [slot, slot - 1].some((s) => timingSafeEqual(Buffer.from(this.#slot(s)), given));
  }

  #slot(slot: number): string {
    return createHmac('sha256', this.#key).update(`dpop-nonce ${slot}`).digest('base64url');
  }
}
