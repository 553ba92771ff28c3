import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createStores, migrate, openDatabase, type Db } from '../src/storage/index.ts';
import type { LoginAttemptStore } from '../src/storage/stores.ts';
import { LoginThrottle, slowdownMs, sourceOf, type ThrottleSettings } from '../src/engine/login/throttle.ts';
import { SecretBox } from '../src/engine/keys/secret-box.ts';
import { sqlite, type TestDatabase } from './support/backends.ts';

/** Issue 12 §1, the pure parts of the throttling model (README "Throttling model"). */
describe('sourceOf: what a per-source counter counts', () => {
  test('IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
    assert.equal(sourceOf('203.0.113.7'), '203.0.113.7');
    assert.equal(sourceOf('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(sourceOf('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(sourceOf('2001:db8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64', 'one /64, one counter');
    assert.notEqual(sourceOf('2001:db8:1:3::1'), sourceOf('2001:db8:1:2::1'));
  });
});

describe('slowdownMs: the per-account slowdown', () => {
  test('nothing below the threshold, then doubling from 250 ms, never above the cap', () => {
    assert.equal(slowdownMs(9, 10, 2000), 0);
    assert.equal(slowdownMs(10, 10, 2000), 250);
    assert.equal(slowdownMs(11, 10, 2000), 500);
    assert.equal(slowdownMs(13, 10, 2000), 2000);
    assert.equal(slowdownMs(1_000_000, 10, 2000), 2000);
  });
});

describe('LoginThrottle over a real SQLite store', () => {
  let tdb: TestDatabase;
  let db: Db;
  let store: LoginAttemptStore;
  const settings: ThrottleSettings = { maxFailuresPerAccount: 3, maxFailuresPerIp: 100, window: 60, slowDownAfter: 4, maxDelay: 2, deviceCookieTtl: 3600 };
  let clock = 1_000_000;
  const box = new SecretBox('s'.repeat(32));
  before(async () => {
    tdb = await sqlite.create();
    db = openDatabase(tdb.url);
    await migrate(db);
    store = createStores(db).loginAttempts;
  });
  after(async () => {
    await db.close();
    await tdb.drop();
  });
  const throttle = () => new LoginThrottle(store, settings, () => clock, box);
  async function fail(t: LoginThrottle, account: string, ip: string, cookie?: string) {
    const a = await t.admit(account, ip, cookie);
    if (a.retryAfter === 0) await t.recordFailure(account, a);
    return a;
  }

  test('per account from many sources: a growing, bounded delay and never a refusal', async () => {
    const t = throttle();
    const delays: number[] = [];
    for (let ip = 1; ip <= 4; ip++) for (let i = 0; i < 3; i++) delays.push((await fail(t, 'usr_a', `203.0.113.${ip}`)).delayMs);
    assert.deepEqual(delays, [0, 0, 0, 0, 250, 500, 1000, 2000, 2000, 2000, 2000, 2000]);
    const fresh = await t.admit('usr_a', '198.51.100.1');
    assert.equal(fresh.retryAfter, 0, 'another source is not refused');
    assert.equal(fresh.delayMs, 2000, 'only slowed');
    assert.ok((await t.admit('usr_a', '203.0.113.1')).retryAfter > 0, 'each guessing source is refused');
  });

  test('a device entry for the account skips the limits and the delay; for another account it does nothing', async () => {
    const t = throttle();
    const cookie = t.deviceCookie('usr_b', undefined);
    for (let i = 0; i < 6; i++) await fail(t, 'usr_b', '192.0.2.1');
    assert.ok((await t.admit('usr_b', '192.0.2.1')).retryAfter > 0);
    const known = await t.admit('usr_b', '192.0.2.1', cookie);
    assert.deepEqual([known.retryAfter, known.delayMs, typeof known.device], [0, 0, 'string']);
    assert.equal((await t.admit('usr_c', '192.0.2.1', cookie)).device, undefined, 'bound to its account');
    const other = t.deviceCookie('usr_c', cookie);
    assert.equal(other.split('~').length, 2, 'one entry per account, both kept');
    assert.notEqual((await t.admit('usr_b', '192.0.2.1', other)).device, undefined);
  });

  test('a device entry stops passing after its own failures, and when it expires', async () => {
    const t = throttle();
    const cookie = t.deviceCookie('usr_d', undefined);
    for (let i = 0; i < 3; i++) await fail(t, 'usr_d', '192.0.2.2');
    for (let i = 0; i < 3; i++) assert.notEqual((await fail(t, 'usr_d', '192.0.2.2', cookie)).device, undefined);
    const spent = await t.admit('usr_d', '192.0.2.2', cookie);
    assert.equal(spent.device, undefined);
    assert.ok(spent.retryAfter > 0, 'then it is one more unknown browser at a throttled source');
    const later = t.deviceCookie('usr_e', undefined);
    clock += 3601;
    assert.equal((await t.admit('usr_e', '192.0.2.3', later)).device, undefined, 'expired');
  });
});
