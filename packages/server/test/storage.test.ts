import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createStores, isReady, migrate, openDatabase, type Db } from '../src/storage/index.ts';
import type { AuthorizationCode, Client, StoredKey, Stores, User } from '../src/storage/stores.ts';
import { backends, type TestDatabase } from './support/backends.ts';

const now = Math.floor(Date.now() / 1000);

function client(id: string, over: Partial<Client> = {}): Client {
  return {
    id, name: id, type: 'confidential', secretHash: 'hmac-sha256$x', redirectUris: ['https://a.example/cb'], grantTypes: ['client_credentials'],
    scopes: ['a', 'b'], audience: 'https://api.example', resources: [], accessTokenTtl: undefined, firstParty: false, postLogoutRedirectUris: ['https://a.example/bye'], permissions: ['introspect'], allowedOrigins: [],
    idTokenSignedResponseAlg: undefined, dpopBoundAccessTokens: false, source: 'cli', createdAt: now, updatedAt: now, ...over,
  };
}

function key(kid: string, state: StoredKey['state'], alg = 'RS256'): StoredKey {
  return { kid, alg, state, publicJwk: { kty: 'RSA', kid }, privateJwkEnc: 'v1.a.b.c', createdAt: now, activatedAt: state === 'active' ? now : undefined, retiredAt: undefined, publishUntil: undefined };
}

function code(hash: string, over: Partial<AuthorizationCode> = {}): AuthorizationCode {
  return {
    codeHash: hash, clientId: 'c1', sub: 'usr_1', redirectUri: 'https://a.example/cb', redirectUriSent: true, codeChallenge: 'x'.repeat(43),
    codeChallengeMethod: 'S256', nonce: undefined, scopes: ['openid'], resources: [], authTime: now, sid: undefined, createdAt: now,
    expiresAt: now + 60, consumedAt: undefined, revokedAt: undefined, ...over,
  };
}

/** One storage suite, run unchanged against every backend (SQLite file, PostgreSQL schema). */
for (const backend of backends) {
  describe(`storage on ${backend.name}`, () => {
    let tdb: TestDatabase;
    let db: Db;
    let stores: Stores;
    before(async () => {
      tdb = await backend.create();
      db = openDatabase(tdb.url);
      await migrate(db);
      stores = createStores(db);
    });
    after(async () => {
      await db?.close();
      await tdb?.drop();
    });

    test('migrations are applied once and readiness reflects them', async () => {
      assert.equal(db.dialect, backend.name);
      assert.deepEqual(await migrate(db), [], 'nothing left to apply');
      assert.equal(await isReady(db), true);
      const fresh = await backend.create();
      const unmigrated = openDatabase(fresh.url);
      try {
        assert.equal(await isReady(unmigrated), false, 'a database without the migrations is not ready');
      } finally {
        await unmigrated.close();
        await fresh.drop();
      }
    });

    test('clients: upsert, get, list, delete round-trip every field', async () => {
      const c = client('c1', { resources: ['https://r.example'], accessTokenTtl: 300, firstParty: true, type: 'public', secretHash: undefined, allowedOrigins: ['https://spa.example'], idTokenSignedResponseAlg: 'ES256', dpopBoundAccessTokens: true });
      await stores.clients.upsert(c);
      assert.deepEqual(await stores.clients.get('c1'), c);
      await stores.clients.upsert({ ...c, name: 'renamed', updatedAt: now + 1 });
      assert.equal((await stores.clients.get('c1'))?.name, 'renamed');
      await stores.clients.upsert(client('c2'));
      assert.deepEqual((await stores.clients.list()).map((x) => x.id), ['c1', 'c2']);
      assert.equal(await stores.clients.delete('c2'), true);
      assert.equal(await stores.clients.delete('c2'), false);
      assert.equal(await stores.clients.get(`c1' OR '1'='1`), undefined);
    });

    test('keys: only one of several concurrent rotations wins', async () => {
      await stores.keys.insert(key('k-active', 'active'));
      await stores.keys.insert(key('k-next', 'next'));
      const results = await Promise.all(Array.from({ length: 8 }, () => stores.keys.rotate('k-next', now + 5, now + 100)));
      assert.equal(results.filter(Boolean).length, 1);
      const byKid = new Map((await stores.keys.list()).map((k) => [k.kid, k]));
      assert.equal(byKid.get('k-next')?.state, 'active');
      assert.equal(byKid.get('k-active')?.state, 'retired');
      assert.equal(byKid.get('k-active')?.publishUntil, now + 100);
      assert.equal(await stores.keys.purgeRetired(now + 50), 0);
      assert.equal(await stores.keys.purgeRetired(now + 101), 1);
    });

    test('keys: a rotation retires the active key of its own algorithm only; retire() ends a chain', async () => {
      await stores.keys.insert(key('es-active', 'active', 'ES256'));
      await stores.keys.insert(key('es-next', 'next', 'ES256'));
      assert.equal(await stores.keys.rotate('es-next', now + 6, now + 200), true);
      let byKid = new Map((await stores.keys.list()).map((k) => [k.kid, k]));
      assert.equal(byKid.get('es-next')?.state, 'active');
      assert.equal(byKid.get('es-active')?.state, 'retired');
      assert.equal(byKid.get('k-next')?.state, 'active', 'the RS256 key is untouched');
      assert.equal(await stores.keys.rotate('no-such-key', now, now), false);
      assert.equal(await stores.keys.retire('es-next', now + 7, now + 300), true);
      assert.equal(await stores.keys.retire('es-next', now + 8, now + 400), false, 'already retired');
      byKid = new Map((await stores.keys.list()).map((k) => [k.kid, k]));
      assert.equal(byKid.get('es-next')?.state, 'retired');
      assert.equal(byKid.get('es-next')?.publishUntil, now + 300);
    });

    test('codes: of 20 concurrent consumptions exactly one wins; expired and revoked codes never do', async () => {
      const h = randomBytes(32).toString('base64url');
      await stores.codes.insert(code(h));
      const wins = await Promise.all(Array.from({ length: 20 }, () => stores.codes.consume(h, now)));
      assert.equal(wins.filter(Boolean).length, 1);
      const expired = randomBytes(32).toString('base64url');
      await stores.codes.insert(code(expired, { expiresAt: now - 1 }));
      assert.equal(await stores.codes.consume(expired, now), false);
      const revoked = randomBytes(32).toString('base64url');
      await stores.codes.insert(code(revoked));
      await stores.codes.recordIssued(revoked, [{ jti: 'j1', type: 'access_token', expiresAt: now + 900 }]);
      const issued = await stores.codes.revoke(revoked, now);
      assert.deepEqual(issued.map((t) => t.jti), ['j1']);
      assert.equal(await stores.codes.consume(revoked, now), false);
      assert.equal(await stores.codes.isRevokedToken('j1'), true);
      assert.equal(await stores.codes.isRevokedToken('other'), false);
    });

    test('login attempts: concurrent failures are all counted', async () => {
      await Promise.all(Array.from({ length: 10 }, () => stores.loginAttempts.recordFailure('acct:alice', now, now - 900)));
      assert.equal((await stores.loginAttempts.get('acct:alice'))?.failures, 10);
      await stores.loginAttempts.recordFailure('acct:alice', now + 1000, now + 100);
      assert.equal((await stores.loginAttempts.get('acct:alice'))?.failures, 1, 'a stale window restarts');
      await stores.loginAttempts.clear('acct:alice');
      assert.equal(await stores.loginAttempts.get('acct:alice'), undefined);
    });

    test('users and consents', async () => {
      const user: User = {
        sub: 'usr_abc', username: 'alice', email: 'alice@example.com', emailVerified: true, name: 'Alice', passwordHash: '$argon2id$x', roles: ['user'],
        source: 'cli', createdAt: now, updatedAt: now,
      };
      await stores.users.upsert(user);
      assert.deepEqual(await stores.users.get('usr_abc'), user);
      assert.equal((await stores.users.findByLogin('alice'))?.sub, 'usr_abc');
      assert.equal((await stores.users.findByLogin('alice@example.com'))?.sub, 'usr_abc');
      assert.deepEqual((await stores.users.get('usr_abc'))?.roles, ['user']);
      await stores.consents.grant('usr_abc', 'c1', ['openid', 'profile'], now);
      await stores.consents.grant('usr_abc', 'c1', ['email'], now);
      assert.deepEqual([...(await stores.consents.get('usr_abc', 'c1'))].sort(), ['email', 'openid', 'profile']);
      await stores.consents.revoke('usr_abc', 'c1');
      assert.deepEqual(await stores.consents.get('usr_abc', 'c1'), []);
    });
  });
}
