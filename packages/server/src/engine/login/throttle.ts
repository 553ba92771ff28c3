import { randomBytes, timingSafeEqual } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type { LoginAttemptStore } from '../../storage/stores.js';
import type { SecretBox } from '../keys/secret-box.js';
import { sha256 } from '../sessions/secrets.js';

const OK_CACHE_MS = 1000;
const OK_CACHE_MAX = 10_000;

/** A counter key and the failures it may reach in one window. */
export type Limit = [key: string, max: number];

/**
 * The source a throttle counts for a peer address (request.ip, which honours trustProxy): an IPv4
 * address as it is (IPv4-mapped IPv6 included), an IPv6 address by its /64 — one subscriber's network,
 * so that an attacker does not get 2^64 fresh counters by rotating addresses.
 */
export function sourceOf(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const addr = ipaddr.process(ip);
  if (addr.kind() === 'ipv4') return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(':')}::/64`;
}

/** A bounded counter key for several parts (a claimed client id or login can be long, and is not stored). */
export function keyOf(...parts: string[]): string {
  return sha256(parts.join('\u0000'));
}

/**
 * Failure counters in fixed windows, stored in the database (login_attempts) so every instance and a
 * restart see the same counts. Used by the login, client-authentication and introspection throttles,
 * each under its own key prefix.
 */
export class FailureCounters {
  /**
   * Keys seen under their limit, and until when (ms) that answer is reused: the token endpoint then
   * does not read two counters per request. Failures here invalidate at once; failures counted by
   * another instance are seen within `OK_CACHE_MS`.
   */
  readonly #okUntil = new Map<string, number>();

  constructor(
    private readonly store: LoginAttemptStore,
    /** Window length in seconds. */
    readonly window: number,
    private readonly now: () => number,
    /** Namespaces the counters, so client-authentication failures do not share login's. */
    private readonly prefix = '',
    /** How long an under-the-limit answer is reused (0: read every time). */
    private readonly okCacheMs = OK_CACHE_MS,
  ) {}

  /** Seconds until every key of `limits` is under its limit again; 0 when none is at its limit. */
  async retryAfter(limits: Limit[]): Promise<number> {
    const now = this.now();
    const nowMs = Date.now();
    let wait = 0;
    for (const [name, max] of limits) {
      const key = this.prefix + name;
      if ((this.#okUntil.get(key) ?? 0) > nowMs) continue;
      const row = await this.store.get(key);
      if (!row || row.failures < max || row.windowStart + this.window <= now) {
        if (this.okCacheMs > 0) {
          if (this.#okUntil.size >= OK_CACHE_MAX) this.#okUntil.clear();
          this.#okUntil.set(key, nowMs + this.okCacheMs);
        }
        continue;
      }
      wait = Math.max(wait, row.windowStart + this.window - now);
    }
    return wait;
  }

  /** Failures counted for `name` in its current window. */
  async failures(name: string): Promise<number> {
    const row = await this.store.get(this.prefix + name);
    return row && row.windowStart + this.window > this.now() ? row.failures : 0;
  }

  async recordFailure(names: string[]): Promise<void> {
    const now = this.now();
    for (const name of names) {
      const key = this.prefix + name;
      this.#okUntil.delete(key);
      await this.store.recordFailure(key, now, now - this.window);
    }
  }

  async clear(name: string): Promise<void> {
    await this.store.clear(this.prefix + name);
  }
}

/**
 * A throttle for an already authenticated caller (introspection of unknown tokens, H7): only the caller
 * itself can raise its counter, so counting per caller is safe; per source too.
 */
export class CallerThrottle {
  constructor(
    private readonly counters: FailureCounters,
    private readonly settings: { maxPerCaller: number; maxPerSource: number },
  ) {}

  retryAfter(caller: string, ip: string): Promise<number> {
    return this.counters.retryAfter(this.#limits(caller, ip));
  }

  recordFailure(caller: string, ip: string): Promise<void> {
    return this.counters.recordFailure(this.#limits(caller, ip).map(([k]) => k));
  }

  #limits(caller: string, ip: string): Limit[] {
    return [[`acct:${caller}`, this.settings.maxPerCaller], [`ip:${sourceOf(ip)}`, this.settings.maxPerSource]];
  }
}

export interface ThrottleSettings {
  /** Failures for one account from one source (IPv4 address or IPv6 /64) before that pair gets 429. */
  maxFailuresPerAccount: number;
  /** Failures from one source, whatever the accounts, before it gets 429. */
  maxFailuresPerIp: number;
  /** Window length in seconds. */
  window: number;
  /** Failures for one account from all sources before unrecognised devices are slowed down. */
  slowDownAfter: number;
  /** The most an attempt is delayed by the per-account slowdown, seconds. */
  maxDelay: number;
  /** Lifetime of a device cookie, seconds. */
  deviceCookieTtl: number;
}

/** What one sign-in attempt may do, decided before the password is checked. */
export interface Admission {
  /** > 0: refuse with 429 and this Retry-After (seconds), whatever the password. */
  retryAfter: number;
  /** Wait this long (ms) before checking the password: the per-account slowdown. */
  delayMs: number;
  /** The device-cookie entry that admitted the attempt, when the browser is a recognised device. */
  device: string | undefined;
  source: string;
}

const FIRST_DELAY_MS = 250;
const MAX_DEVICE_ENTRIES = 3;
const DEVICE_ENTRY = /^[A-Za-z0-9_-]{22}\.\d{1,12}\.[A-Za-z0-9_-]{43}$/;

/** The per-account slowdown: nothing below `after` failures, then 250 ms doubling per failure, capped. */
export function slowdownMs(failures: number, after: number, maxMs: number): number {
  if (failures < after) return 0;
  return Math.min(maxMs, FIRST_DELAY_MS * 2 ** Math.min(failures - after, 20));
}

/**
 * Brute-force protection for password sign-in (login page and password grant; RFC 6819 §5.1.4.2.3,
 * SECURITY-CHECKLIST E2), built so that an attacker's failures cost the attacker, not the account:
 * - per source (IPv4 address, IPv6 /64) and per account+source: 429 + Retry-After for that source;
 * - per account from all sources: never a refusal, only a bounded delay (`slowDownAfter`, `maxDelay`)
 *   for devices it does not recognise, so a distributed guesser is slowed and the owner still gets in;
 * - device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a browser that
 *   signed in to an account gets an HMAC-signed cookie entry binding that account. With it the browser
 *   passes the per-account and per-source limits; its failures are counted on the entry itself, which
 *   stops being trusted after `maxFailuresPerAccount` of them (a stolen cookie cannot guess either).
 */
export class LoginThrottle {
  readonly #counters: FailureCounters;

  constructor(
    private readonly store: LoginAttemptStore,
    private readonly settings: ThrottleSettings,
    private readonly now: () => number,
    private readonly box: SecretBox,
  ) {
    // No cached answers: sign-in is not a hot path, and every instance must see a limit at once.
    this.#counters = new FailureCounters(store, settings.window, now, '', 0);
  }

  /** Decides whether (and after which delay) an attempt for `account` from `ip` is checked at all. */
  async admit(account: string, ip: string, deviceCookie?: string): Promise<Admission> {
    const source = sourceOf(ip);
    const device = deviceCookie === undefined ? undefined : this.#recognised(deviceCookie, account);
    if (device !== undefined && (await this.#counters.retryAfter([[`dev:${device}`, this.settings.maxFailuresPerAccount]])) === 0) {
      return { retryAfter: 0, delayMs: 0, device, source };
    }
    // Unrecognised (or a device entry over its own limit: then it is one more unknown browser).
    const retryAfter = await this.#counters.retryAfter(this.#sourceLimits(account, source));
    if (retryAfter > 0) return { retryAfter, delayMs: 0, device: undefined, source };
    const failures = await this.#counters.failures(`acct:${account}`);
    return { retryAfter: 0, delayMs: slowdownMs(failures, this.settings.slowDownAfter, this.settings.maxDelay * 1000), device: undefined, source };
  }

  async recordFailure(account: string, a: Admission): Promise<void> {
    if (a.device !== undefined) return this.#counters.recordFailure([`dev:${a.device}`, `ip:${a.source}`]);
    await this.#counters.recordFailure([...this.#sourceLimits(account, a.source).map(([k]) => k), `acct:${account}`]);
  }

  /**
   * The password was right. Through a device entry only that entry's counter is cleared (the counters
   * of unknown browsers at the same address may be an attacker's); otherwise the account+source
   * counter. Never the per-source one (one valid account must not reset an address's budget) nor the
   * per-account one (others may still be guessing).
   */
  async recordSuccess(account: string, a: Admission): Promise<void> {
    await this.#counters.clear(a.device !== undefined ? `dev:${a.device}` : `acctip:${keyOf(account, a.source)}`);
  }

  /**
   * The device cookie to set after a successful sign-in to `account`: a fresh entry for it, followed by
   * the browser's other entries (other accounts; unexpired, well-formed, at most three in all).
   */
  deviceCookie(account: string, current: string | undefined): string {
    const now = this.now();
    const nonce = randomBytes(16).toString('base64url');
    const kept = this.#entries(current).filter((e) => this.#verify(e, account) === undefined && Number(e.split('.')[1]) + this.settings.deviceCookieTtl > now);
    return [`${nonce}.${now}.${this.#mac(account, nonce, now)}`, ...kept].slice(0, MAX_DEVICE_ENTRIES).join('~');
  }

  /** Deletes counters whose window started more than `window` seconds ago (default: login's; the table is shared). */
  purgeExpired(window = this.settings.window): Promise<number> {
    return this.store.purgeOlderThan(this.now() - window);
  }

  #sourceLimits(account: string, source: string): Limit[] {
    return [[`ip:${source}`, this.settings.maxFailuresPerIp], [`acctip:${keyOf(account, source)}`, this.settings.maxFailuresPerAccount]];
  }

  /** The nonce of the cookie entry that is valid for `account`, if any. */
  #recognised(cookie: string, account: string): string | undefined {
    for (const e of this.#entries(cookie)) {
      const nonce = this.#verify(e, account);
      if (nonce !== undefined) return nonce;
    }
    return undefined;
  }

  #entries(cookie: string | undefined): string[] {
    if (cookie === undefined || cookie.length > 400) return [];
    return cookie.split('~').filter((e) => DEVICE_ENTRY.test(e)).slice(0, MAX_DEVICE_ENTRIES);
  }

  #verify(entry: string, account: string): string | undefined {
    const [nonce, issued, mac] = entry.split('.') as [string, string, string];
    const issuedAt = Number(issued);
    if (issuedAt + this.settings.deviceCookieTtl <= this.now()) return undefined;
    const expected = Buffer.from(this.#mac(account, nonce, issuedAt));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected) ? nonce : undefined;
  }

  #mac(account: string, nonce: string, issuedAt: number): string {
    return this.box.mac('device-cookie', [account, nonce, String(issuedAt)].join('\u0000'));
  }
}
