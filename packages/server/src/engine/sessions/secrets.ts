import { createHash, randomBytes } from 'node:crypto';

/** 256-bit random value, base64url (43 characters): session ids, interaction ids, codes (B14). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** How bearer-style secrets are stored: SHA-256, base64url, so a database dump yields nothing usable (D9). */
export function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

/** True for a value shaped like `randomToken()` output (cheap reject before any lookup). */
export function isRandomToken(value: string | undefined): value is string {
  return value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value);
}
