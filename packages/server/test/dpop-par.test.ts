// RFC 9449 §10.1: the DPoP binding step the pushed authorization request endpoint uses.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { migrate, openDatabase, type Db } from '../src/storage/index.ts';
import { KyselyDpopReplayStore } from '../src/storage/kysely/dpop-replay.ts';
import { DpopNonces, DpopProofs, parDpopJkt } from '../src/engine/dpop/index.ts';
import { SecretBox } from '../src/engine/keys/secret-box.ts';
import { sqlite, type TestDatabase } from './support/backends.ts';
import { dpopKey, proof } from './support/dpop.ts';

const PAR = 'https://as.example/par';
let tdb: TestDatabase;
let db: Db;
let dpop: DpopProofs;
before(async () => {
  tdb = await sqlite.create();
  db = openDatabase(tdb.url);
  await migrate(db);
  const now = () => Math.floor(Date.now() / 1000);
  dpop = new DpopProofs({ algorithms: ['ES256'], proofMaxAge: 60, requireNonce: false }, new KyselyDpopReplayStore(db.kysely), new DpopNonces(new SecretBox(randomBytes(32).toString('hex')), 300), now);
});
after(async () => {
  await db?.close();
  await tdb?.drop();
});

test('a proof at /par binds like dpop_jkt; both must agree; neither is no binding', async () => {
  const key = await dpopKey();
  const other = await dpopKey();
  assert.equal(await parDpopJkt(dpop, await proof(key, { htu: PAR }), PAR, undefined), key.jkt);
  assert.equal(await parDpopJkt(dpop, await proof(key, { htu: PAR }), PAR, key.jkt), key.jkt);
  assert.equal(await parDpopJkt(dpop, undefined, PAR, other.jkt), other.jkt);
  assert.equal(await parDpopJkt(dpop, undefined, PAR, undefined), undefined);
  await assert.rejects(parDpopJkt(dpop, await proof(key, { htu: PAR }), PAR, other.jkt), { error: 'invalid_dpop_proof' });
  await assert.rejects(parDpopJkt(dpop, await proof(key, { htu: 'https://as.example/token' }), PAR, undefined), { error: 'invalid_dpop_proof' });
});
