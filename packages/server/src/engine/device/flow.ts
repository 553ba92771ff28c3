import { TooManyRequests } from '@tessera/protocol';
import { seconds } from '../../config/load.js';
import type { Client } from '../../storage/stores.js';
import type { EngineContext } from '../context.js';
import type { GrantHandler } from '../grants/types.js';
import { FailureCounters, keyOf, sourceOf, type Limit } from '../login/throttle.js';
import { deviceAuthorization, type DeviceAuthorizationRequest, type DeviceAuthorizationResponse } from './authorization.js';
import { deviceCodeGrant } from './grant.js';
import { deviceSettings, type DeviceSettings } from './settings.js';
import type { DeviceCode, DeviceCodeStore } from './store.js';
import { normalizeUserCode } from './user-code.js';

const PURGE_AFTER = 3600;

/** A user code the /device page cannot accept (unknown, expired, already decided): one answer for all. */
export class UserCodeRejected extends Error {
  constructor() {
    super('That code is not valid. Check the code shown on your device and try again; it may have expired.');
    this.name = 'UserCodeRejected';
  }
}

/** A pending request as the user sees it before deciding (RFC 8628 §5.4: who asks, for what). */
export interface PendingDevice {
  userCode: string;
  code: DeviceCode;
  client: Client;
}

/**
 * The device authorization grant (RFC 8628), wired once in the composition root: the device
 * authorization endpoint, the token grant, and the user side of the /device page. User-code entry is
 * throttled per signed-in user (all their sessions) and per IP in the database (§5.1, M3); a correct
 * code does not reset the counters, since anyone can obtain valid codes of their own.
 */
export class DeviceFlow {
  readonly settings: DeviceSettings;
  readonly grant: GrantHandler;
  /** Wrong user codes per signed-in user and per source (IPv4 address, IPv6 /64), DB-backed. */
  readonly #throttle: FailureCounters;

  readonly #store: DeviceCodeStore;

  constructor(private readonly ctx: EngineContext) {
    this.#store = ctx.stores.deviceCodes;
    this.settings = deviceSettings(ctx.config, seconds);
    this.grant = deviceCodeGrant(this.#store);
    this.#throttle = new FailureCounters(ctx.stores.loginAttempts, this.settings.window, ctx.now, 'device:', 0);
  }

  authorize(req: DeviceAuthorizationRequest): Promise<DeviceAuthorizationResponse> {
    return deviceAuthorization(req, this.ctx, this.#store, this.settings, (c) => this.#hash(c));
  }

  /** The pending request a typed user code names; throws `UserCodeRejected` or `TooManyRequests`. */
  async find(input: string, sub: string, ip: string): Promise<PendingDevice> {
    const limits = this.#limits(sub, ip);
    const wait = await this.#throttle.retryAfter(limits);
    if (wait > 0) throw new TooManyRequests('too many wrong codes; try again later', { retryAfter: wait });
    const userCode = normalizeUserCode(input);
    const code = userCode ? await this.#store.pendingByUserCode(this.#hash(userCode), this.ctx.now()) : undefined;
    const client = code ? await this.ctx.stores.clients.get(code.clientId) : undefined;
    if (!userCode || !code || !client) {
      await this.#throttle.recordFailure(limits.map(([k]) => k));
      throw new UserCodeRejected();
    }
    return { userCode, code, client };
  }

  #limits(sub: string, ip: string): Limit[] {
    return [[`user:${keyOf(sub)}`, this.settings.maxFailuresPerUser], [`ip:${sourceOf(ip)}`, this.settings.maxFailuresPerIp]];
  }

  /** Records the user's decision; false when the request expired or was decided meanwhile. */
  decide(pending: PendingDevice, approved: boolean, session: { sub: string; authTime: number }): Promise<boolean> {
    return this.#store.decide(pending.code.userCodeHash, { approved, sub: session.sub, authTime: session.authTime }, this.ctx.now());
  }

  /**
   * Deletes codes an hour past expiry: until then a late poll still gets `expired_token`. The throttle
   * counters live in the login-attempt table, which the login throttle purges.
   */
  purgeExpired(): Promise<number> {
    return this.#store.purgeExpired(this.ctx.now() - PURGE_AFTER);
  }

  #hash(userCode: string): string {
    return this.ctx.box.mac('device-user-code', userCode);
  }
}
