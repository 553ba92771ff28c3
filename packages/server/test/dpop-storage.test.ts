// The DPoP replay cache (RFC 9449 §11.1) and the DPoP columns of migration 008, on SQLite and PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createStores, migrate, openDatabase, type Db } from '../src/storage/index.ts';
import { KyselyDpopReplayStore } from '../src/storage/kysely/dpop-replay.ts';
import { backends, type TestDatabase } from './support/backends.ts';

const now = Math.floor(Date.now() / 1000);

for (const backend of backends) {
  describe(`DPoP storage on ${backend.name}`, () => {
    let tdb: TestDatabase;
    let db: Db;
    before(async () => {
      tdb = await backend.create();
      db = openDatabase(tdb.url);
      await migrate(db);
    });
    after(async () => {
      await db?.close();
      await tdb?.drop();
    });

    test('of 20 concurrent uses of one proof exactly one wins; after its window the id is free again; purge', async () => {
      const store = new KyselyDpopReplayStore(db.kysely);
      const id = randomBytes(32).toString('base64url');
      const wins = await Promise.all(Array.from({ length: 20 }, () => store.use(id, now + 60, now)));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.equal(await store.use(id, now + 60, now + 30), false);
      assert.equal(await store.use(id, now + 200, now + 61), true, 'an entry past its window does not block');
      assert.equal(await store.use(`${id}x`, now + 10, now), true);
      assert.equal(await store.purgeExpired(now + 100), 1);
    });

    test('a code and a refresh family keep their dpop_jkt', async () => {
      const stores = createStores(db);
      const jkt = randomBytes(32).toString('base64url');
      const codeHash = randomBytes(32).toString('base64url');
      await stores.codes.insert({
        codeHash, clientId: 'c', sub: 'usr_x', redirectUri: 'https://a/cb', redirectUriSent: true, codeChallenge: 'x'.repeat(43), codeChallengeMethod: 'S256',
        nonce: undefined, scopes: [], resources: [], authTime: now, sid: undefined, createdAt: now, expiresAt: now + 60, consumedAt: undefined, revokedAt: undefined, dpopJkt: jkt,
      });
      assert.equal((await stores.codes.get(codeHash))?.dpopJkt, jkt);
      const familyId = randomBytes(16).toString('base64url');
      const tokenHash = randomBytes(32).toString('base64url');
      await stores.refreshTokens.createFamily(
        { familyId, clientId: 'c', sub: 'usr_x', sid: undefined, scopes: [], resources: [], authTime: now, createdAt: now, absoluteExpiresAt: now + 600, revokedAt: undefined, dpopJkt: jkt },
        { tokenHash, familyId, createdAt: now, expiresAt: now + 600, rotatedAt: undefined, graceUsed: false, revokedAt: undefined },
      );
      assert.equal((await stores.refreshTokens.find(tokenHash))?.family.dpopJkt, jkt);
    });
  });
}
