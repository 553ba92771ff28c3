import { setTimeout as sleep } from 'node:timers/promises';
import { TooManyRequests } from '@tessera/protocol';
import { normalizeUsername } from '../../config/auth-settings.js';
import type { User, UserStore } from '../../storage/stores.js';
import { verifyPassword } from '../users/password.js';
import type { LoginThrottle } from './throttle.js';

/** Wrong username or password: one error for both, so the two cannot be told apart (E2). */
export class InvalidCredentials extends Error {
  constructor() {
    super('Incorrect username or password.');
    this.name = 'InvalidCredentials';
  }
}

const MAX_LOGIN = 254;

/**
 * Checks a username (or e-mail) and password, throttled by LoginThrottle: per source and per
 * account+source (429), a bounded slowdown per account, and a browser's device cookie (`device`, the
 * cookie value) recognised for the account. Throws `TooManyRequests` (429, `retryAfter`) when throttled
 * and `InvalidCredentials` otherwise; an unknown user still costs one argon2id verification so both
 * failures take similar time.
 */
export async function authenticateUser(login: string, password: string, ip: string, users: UserStore, throttle: LoginThrottle, device?: string): Promise<User> {
  const normalized = normalizeUsername(login);
  const user = login.length <= MAX_LOGIN && normalized !== '' ? await users.findByLogin(normalized) : undefined;
  // Counted per account, whichever name it was addressed by; unknown names get their own counter.
  const account = user?.sub ?? normalized.slice(0, MAX_LOGIN);
  const admission = await throttle.admit(account, ip, device);
  if (admission.retryAfter > 0) throw new TooManyRequests('too many failed sign-in attempts; try again later', { retryAfter: admission.retryAfter });
  // The slowdown comes before the check, so its length says nothing about the password.
  if (admission.delayMs > 0) await sleep(admission.delayMs);

  const ok = await verifyPassword(password, user?.passwordHash);
  if (!ok || !user) {
    await throttle.recordFailure(account, admission);
    throw new InvalidCredentials();
  }
  await throttle.recordSuccess(account, admission);
  return user;
}
