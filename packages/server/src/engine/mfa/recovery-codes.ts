import { randomInt } from 'node:crypto';
import type { SecretBox } from '../keys/secret-box.js';

/** How many one-time recovery codes an enrolment hands out. */
export const RECOVERY_CODE_COUNT = 10;

// Lower-case letters and digits without the look-alikes (0/o, 1/l/i): 31 symbols, 10 of them ≈ 49.5 bits.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const LENGTH = 10;

/** Fresh recovery codes, shown once as `xxxxx-xxxxx`. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    let s = '';
    for (let i = 0; i < LENGTH; i++) s += ALPHABET[randomInt(ALPHABET.length)];
    return `${s.slice(0, 5)}-${s.slice(5)}`;
  });
}

/** What the user typed, without spaces and dashes, lower case; undefined when it cannot be a recovery code. */
export function normalizeRecoveryCode(input: string): string | undefined {
  const s = input.toLowerCase().replace(/[\s-]/g, '');
  return s.length === LENGTH && [...s].every((c) => ALPHABET.includes(c)) ? s : undefined;
}

/**
 * How a recovery code is stored: an HMAC under a key derived from the deployment secret, bound to the
 * user, so a database dump alone allows no offline guessing.
 */
export function recoveryCodeHash(box: SecretBox, sub: string, normalized: string): string {
  return box.mac('mfa-recovery-code', `${sub}\u0000${normalized}`);
}
