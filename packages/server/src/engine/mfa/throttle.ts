import { sourceOf, type FailureCounters, type Limit } from '../login/throttle.js';

export interface SecondFactorThrottleSettings {
  /** Wrong codes for one account (all sources) before it gets 429 for the window. */
  maxFailuresPerAccount: number;
  /** Wrong codes from one source (IPv4 address, IPv6 /64), whatever the accounts. */
  maxFailuresPerIp: number;
}

/**
 * Guessing protection for one-time codes, on the login throttle's counters (same table, same window,
 * prefix `mfa:`). Unlike the password step, the per-account limit refuses outright: only someone who
 * already knows the password reaches this step, so a lockout cannot be caused by a stranger, and a
 * 6-digit code must not be guessable from many addresses.
 */
export class SecondFactorThrottle {
  constructor(
    private readonly counters: FailureCounters,
    private readonly settings: SecondFactorThrottleSettings,
  ) {}

  /** Seconds until another code may be tried (0: now). */
  retryAfter(sub: string, ip: string): Promise<number> {
    return this.counters.retryAfter(this.#limits(sub, ip));
  }

  recordFailure(sub: string, ip: string): Promise<void> {
    return this.counters.recordFailure(this.#limits(sub, ip).map(([k]) => k));
  }

  /** A right code clears the account's counter (never the source's). */
  recordSuccess(sub: string): Promise<void> {
    return this.counters.clear(`acct:${sub}`);
  }

  #limits(sub: string, ip: string): Limit[] {
    return [[`acct:${sub}`, this.settings.maxFailuresPerAccount], [`ip:${sourceOf(ip)}`, this.settings.maxFailuresPerIp]];
  }
}
