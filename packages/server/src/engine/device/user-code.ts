import { randomInt } from 'node:crypto';

/**
 * RFC 8628 §6.1: user codes from a base-20 alphabet without vowels (no words) and without look-alikes
 * (no 0/O, 1/I/L, no digits at all), 8 characters: 20^8 ≈ 2^34.6 codes, against which online guessing
 * is throttled (§5.1). Shown as XXXX-XXXX; entry ignores case, dashes and spaces (§6.1).
 */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 8;

/** A fresh user code, normalised (no dash). */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

/** For display and `verification_uri_complete`: XXXX-XXXX. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What a person typed, normalised; undefined when it cannot be one of our codes (no lookup, still a failure). */
export function normalizeUserCode(input: string | undefined): string | undefined {
  if (input === undefined || input.length > 40) return undefined;
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== USER_CODE_LENGTH) return undefined;
  for (const ch of code) if (!USER_CODE_ALPHABET.includes(ch)) return undefined;
  return code;
}
