/**
 * Storage for the device authorization grant (RFC 8628). Both codes are stored only as hashes: the
 * device code as SHA-256 (256-bit random, D9), the user code as an HMAC under a server key (it has
 * only ~34 bits, so a plain hash in a database dump could be reversed by enumeration).
 */
export type DeviceCodeStatus = 'pending' | 'approved' | 'denied' | 'consumed';

export interface DeviceCode {
  deviceCodeHash: string;
  userCodeHash: string;
  clientId: string;
  scopes: string[];
  resources: string[];
  status: DeviceCodeStatus;
  /** Who approved or denied, and their sign-in time (OIDC `auth_time`). */
  sub: string | undefined;
  authTime: number | undefined;
  /** Current minimum polling interval in seconds (RFC 8628 §3.5: +5 s on every `slow_down`). */
  interval: number;
  /** When the device last polled, in milliseconds. */
  lastPollMs: number | undefined;
  createdAt: number;
  expiresAt: number;
}

/** What a poll of a pending code found (RFC 8628 §3.5). */
export type PollOutcome = 'pending' | 'slow_down' | 'changed';

export interface DeviceCodeStore {
  /** Inserts a new code; false when the user code hash is already taken (the caller draws again). */
  insert(code: DeviceCode): Promise<boolean>;
  byDeviceCode(deviceCodeHash: string): Promise<DeviceCode | undefined>;
  /** A pending, unexpired code by user code (what the /device page looks up). */
  pendingByUserCode(userCodeHash: string, now: number): Promise<DeviceCode | undefined>;
  /**
   * Records a poll of a pending code as one conditional UPDATE, so two instances see one order:
   * 'pending' when at least `interval` seconds (less `toleranceMs`) passed since the last poll,
   * 'slow_down' otherwise (the interval is raised by 5 s), 'changed' when the code is no longer pending.
   */
  poll(deviceCodeHash: string, nowMs: number, toleranceMs: number): Promise<PollOutcome>;
  /** The user's decision; true only for the one caller that moved a pending, unexpired code. */
  decide(userCodeHash: string, decision: { approved: boolean; sub: string; authTime: number }, now: number): Promise<boolean>;
  /** Single use: true only for the one caller that moved an approved, unexpired code to consumed. */
  consume(deviceCodeHash: string, now: number): Promise<boolean>;
  purgeExpired(before: number): Promise<number>;
}
