import { timingSafeEqual } from 'node:crypto';
import type { SecretBox } from '../keys/secret-box.js';

/**
 * Server-provided DPoP nonces (RFC 9449 §8): an HMAC of the current time slot under a key derived from
 * the deployment secret. Nothing is stored, so every instance of a deployment issues and accepts the
 * same nonces; a nonce is accepted during its slot and the next one (`lifetime` to 2 × `lifetime`).
 */
export class DpopNonces {
  constructor(
    private readonly box: SecretBox,
    private readonly lifetime: number,
  ) {}

  /** The nonce to hand out now (`DPoP-Nonce` header). */
  current(now: number): string {
    return this.#forSlot(Math.floor(now / this.lifetime));
  }

  valid(nonce: string | undefined, now: number): boolean {
    if (nonce === undefined || nonce.length !== 43) return false;
    const slot = Math.floor(now / this.lifetime);
    return [slot, slot - 1].some((s) => equal(this.#forSlot(s), nonce));
  }

  #forSlot(slot: number): string {
    return this.box.mac('dpop-nonce', String(slot));
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
