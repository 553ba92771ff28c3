import { randomBytes } from 'node:crypto';
import { hash, verify, type Algorithm } from '@node-rs/argon2';

/**
 * argon2id with the OWASP Password Storage Cheat Sheet baseline (m=19 MiB, t=2, p=1), hashed on the
 * libuv thread pool so the event loop stays free.
 */
const OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 };
export const MAX_PASSWORD_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  if (password.length > MAX_PASSWORD_LENGTH) throw new TypeError('password too long');
  return hash(password.normalize('NFKC'), OPTIONS);
}

let dummy: Promise<string> | undefined;

/**
 * Verifies a password against a stored hash. With `hash` undefined (unknown user) it verifies against a
 * dummy hash of the same cost and returns false, so an unknown user and a wrong password take the same
 * time (SECURITY-CHECKLIST E2, issue 3 §5).
 */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  dummy ??= hash(randomBytes(32).toString('base64url'), OPTIONS);
  const target = stored ?? (await dummy);
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  try {
    const ok = await verify(target, password.normalize('NFKC'));
    return ok && stored !== undefined;
  } catch {
    return false;
  }
}

/** Warms the dummy hash at start so the first unknown-user login is not measurably faster or slower. */
export async function warmPasswordHasher(): Promise<void> {
  dummy ??= hash(randomBytes(32).toString('base64url'), OPTIONS);
  await dummy;
}

/** Minimum policy for new passwords (NIST SP 800-63B §5.1.1.2: length, not composition rules). */
export function passwordProblem(password: string): string | undefined {
  if ([...password].length < 8) return 'must be at least 8 characters';
  if (password.length > MAX_PASSWORD_LENGTH) return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  return undefined;
}
