import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createStores, migrate, openDatabase, type Db } from '../src/storage/index.ts';
import type { MfaStore } from '../src/storage/stores.ts';
import { backends, type Backend, type TestDatabase } from './support/backends.ts';

/** Migration 012: the MFA store's one-shot operations hold under concurrency, on SQLite and PostgreSQL. */
function suite(backend: Backend) {
  let tdb: TestDatabase;
  let db: Db;
  let mfa: MfaStore;
  before(async () => {
    tdb = await backend.create();
    db = openDatabase(tdb.url);
    await migrate(db);
    mfa = createStores(db).mfa;
  });
  after(async () => {
    await db?.close();
    await tdb?.drop();
  });

  test('an enrolment is confirmed once; a confirmed factor is not replaced by a new set-up', async () => {
    assert.equal(await mfa.beginTotp('usr_a', 'enc-1', 10), true);
    assert.equal(await mfa.beginTotp('usr_a', 'enc-2', 11), true, 'an unconfirmed set-up is restarted');
    assert.equal((await mfa.getTotp('usr_a'))!.secretEnc, 'enc-2');
    const wins = await Promise.all([mfa.confirmTotp('usr_a', 100, 12, ['r1', 'r2']), mfa.confirmTotp('usr_a', 100, 12, ['r3', 'r4'])]);
    assert.deepEqual(wins.sort(), [false, true]);
    assert.equal(await mfa.unusedRecoveryCodes('usr_a'), 2);
    assert.equal(await mfa.beginTotp('usr_a', 'enc-3', 13), false);
    assert.equal((await mfa.getTotp('usr_a'))!.secretEnc, 'enc-2');
  });

  test('a time step is accepted once and never an earlier one; concurrent uses: one wins', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => mfa.useStep('usr_a', 101)));
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await mfa.useStep('usr_a', 100), false);
    assert.equal(await mfa.useStep('usr_a', 102), true);
    assert.equal(await mfa.useStep('usr_nobody', 500), false);
    assert.equal(await mfa.useStep('usr_a', Number.MAX_SAFE_INTEGER), true, 'bigint columns hold any step');
  });

  test('a recovery code works once, only for its user; reset removes everything', async () => {
    assert.equal(await mfa.useRecoveryCode('usr_b', 'r1', 20), false, 'another user');
    const uses = await Promise.all([mfa.useRecoveryCode('usr_a', 'r1', 20), mfa.useRecoveryCode('usr_a', 'r1', 20)]);
    assert.deepEqual(uses.sort(), [false, true]);
    assert.equal(await mfa.unusedRecoveryCodes('usr_a'), 1);
    assert.equal(await mfa.reset('usr_a'), true);
    assert.equal(await mfa.getTotp('usr_a'), undefined);
    assert.equal(await mfa.unusedRecoveryCodes('usr_a'), 0);
    assert.equal(await mfa.reset('usr_a'), false);
  });
}

for (const backend of backends) describe(`MFA store (${backend.name})`, () => suite(backend));
