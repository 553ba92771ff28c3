import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createStores, migrate, openDatabase, type Db } from '../src/storage/index.ts';
import type { Client, Stores } from '../src/storage/stores.ts';
import { backends, type TestDatabase } from './support/backends.ts';

const now = Math.floor(Date.now() / 1000);
const id = () => randomBytes(32).toString('base64url');

/** Issue 13 storage (migration 007), unchanged on every backend: single use decided by the database. */
for (const backend of backends) {
  describe(`client assertions and pushed requests on ${backend.name}`, () => {
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

    test('clients round-trip the JWT authentication and PAR fields', async () => {
      const c: Client = {
        id: 'pk', name: 'pk', type: 'confidential', secretHash: undefined, redirectUris: ['https://a.example/cb'], grantTypes: ['authorization_code'],
        scopes: [], audience: undefined, resources: [], accessTokenTtl: undefined, firstParty: false, postLogoutRedirectUris: [], permissions: [],
        allowedOrigins: [], idTokenSignedResponseAlg: undefined, dpopBoundAccessTokens: false,
        tokenEndpointAuthMethod: 'private_key_jwt', tokenEndpointAuthSigningAlg: 'ES256', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }] },
        jwksUri: 'https://a.example/jwks', secretEnc: 'v1.a.b.c', requirePushedAuthorizationRequests: true, source: 'cli', createdAt: now, updatedAt: now,
      };
      await stores.clients.upsert(c);
      assert.deepEqual(await stores.clients.get('pk'), c);
      const plain = { ...c, id: 'plain' };
      for (const k of ['tokenEndpointAuthMethod', 'tokenEndpointAuthSigningAlg', 'jwks', 'jwksUri', 'secretEnc', 'requirePushedAuthorizationRequests'] as const) delete plain[k];
      await stores.clients.upsert(plain);
      assert.deepEqual(await stores.clients.get('plain'), plain);
    });

    test('an assertion jti: of 20 concurrent uses exactly one wins; an expired entry may be taken over; purge', async () => {
      const j = id();
      const wins = await Promise.all(Array.from({ length: 20 }, () => stores.assertionJtis.use(j, now + 60, now)));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.equal(await stores.assertionJtis.use(j, now + 60, now + 30), false, 'still live');
      assert.equal(await stores.assertionJtis.use(j, now + 200, now + 61), true, 'its assertion expired');
      assert.equal(await stores.assertionJtis.use(j, now + 200, now + 100), false);
      assert.equal(await stores.assertionJtis.purgeExpired(now + 201), 1);
    });

    test('a pushed request: of 20 concurrent consumptions one gets it; other client, expired, unknown get nothing', async () => {
      const h = id();
      await stores.pushedRequests.insert({ uriHash: h, clientId: 'c1', params: { client_id: 'c1', scope: 'openid', resource: ['https://a', 'https://b'] }, createdAt: now, expiresAt: now + 60 });
      assert.equal(await stores.pushedRequests.consume(h, 'c2', now), undefined, 'another client');
      const got = await Promise.all(Array.from({ length: 20 }, () => stores.pushedRequests.consume(h, 'c1', now)));
      const winners = got.filter((g) => g !== undefined);
      assert.equal(winners.length, 1);
      assert.deepEqual(winners[0]!.params, { client_id: 'c1', scope: 'openid', resource: ['https://a', 'https://b'] });
      const old = id();
      await stores.pushedRequests.insert({ uriHash: old, clientId: 'c1', params: {}, createdAt: now - 120, expiresAt: now - 60 });
      assert.equal(await stores.pushedRequests.consume(old, 'c1', now), undefined, 'expired');
      assert.equal(await stores.pushedRequests.consume(id(), 'c1', now), undefined, 'unknown');
      assert.equal(await stores.pushedRequests.consume(`${h}' OR '1'='1`, 'c1', now), undefined);
      assert.equal(await stores.pushedRequests.purgeExpired(now + 61), 2);
    });
  });
}
