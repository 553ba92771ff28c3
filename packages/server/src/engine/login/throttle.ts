import type { LoginAttemptStore } from '../../storage/stores.js';

const OK_CACHE_MS = 1000;
const OK_CACHE_MAX = 10_000;

export interface ThrottleSettings {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  /** Window length in seconds. */
  window: number;
}

/**
 * Brute-force protection for password logins (RFC 6819 §5.1.4.2.3; SECURITY-CHECKLIST E2): failures
 * are counted per account and per client IP in fixed windows stored in the database, so every instance
 * and a restart see the same counts. Once a key reaches its limit, attempts for it are refused until its
 * window ends (429 + Retry-After), whether or not the password would be right. A success clears the
 * account counter, not the IP counter (one valid account must not reset an IP's budget).
 *
 * Trade-off: the per-account limit lets an attacker lock an account for one window; the window is
 * short (default 15 min) and the per-IP limit bounds how many accounts one address can lock.
 */
export class LoginThrottle {
  /**
   * Keys seen under their limit, and until when (ms) that answer is reused: the token endpoint then
   * does not read two counters per request. Failures here invalidate at once; failures counted by
   * another instance are seen within `OK_CACHE_MS`.
   */
  readonly #okUntil = new Map<string, number>();

  constructor(
    private readonly store: LoginAttemptStore,
    private readonly settings: ThrottleSettings,
    private readonly now: () => number,
    /** Namespaces the counters, so client-authentication failures do not share login's. */
    private readonly prefix = '',
  ) {}

  /** Seconds to wait when `account` or `ip` is throttled, else 0. */
  async retryAfter(account: string, ip: string): Promise<number> {
    const now = this.now();
    const nowMs = Date.now();
    let wait = 0;
    for (const [key, max] of this.#keys(account, ip)) {
      if ((this.#okUntil.get(key) ?? 0) > nowMs) continue;
      const row = await this.store.get(key);
      if (!row || row.failures < max) {
        if (this.#okUntil.size >= OK_CACHE_MAX) this.#okUntil.clear();
        this.#okUntil.set(key, nowMs + OK_CACHE_MS);
        continue;
      }
      const ends = row.windowStart + this.settings.window;
      if (ends > now) wait = Math.max(wait, ends - now);
    }
    return wait;
  }

  async recordFailure(account: string, ip: string): Promise<void> {
    const now = this.now();
    for (const [key] of this.#keys(account, ip)) {
      this.#okUntil.delete(key);
      await this.store.recordFailure(key, now, now - this.settings.window);
    }
  }

  async recordSuccess(account: string): Promise<void> {
    await this.store.clear(`${this.prefix}acct:${account}`);
  }

  purgeExpired(): Promise<number> {
    return this.store.purgeOlderThan(this.now() - this.settings.window);
  }

  #keys(account: string, ip: string): Array<[string, number]> {
    return [
      [`${this.prefix}acct:${account}`, this.settings.maxFailuresPerAccount],
      [`${this.prefix}ip:${ip}`, this.settings.maxFailuresPerIp],
    ];
  }
}
