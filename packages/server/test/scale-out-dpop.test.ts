// RFC 9449 §11.1 across instances: two Tessera nodes behind one issuer share the DPoP replay cache,
// in PostgreSQL alone and with Redis, so a proof used at A is refused at B.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { basic, freePort, postForm, serviceClient, SERVICE_SECRET, startServer } from './helpers.ts';
import { postgres, type TestDatabase } from './support/backends.ts';
import { clusterSecret, redisDatabase, startInstance, waitFor, type Instance } from './support/cluster.ts';
import { dpopKey, proof, type DpopKey } from './support/dpop.ts';

let key: DpopKey;
before(async () => {
  key = await dpopKey('ES256');
});

for (const withRedis of [false, true]) {
  describe(`two instances on PostgreSQL${withRedis ? ' + Redis' : ''}`, () => {
    let db: TestDatabase;
    let redis: Awaited<ReturnType<typeof redisDatabase>> | undefined;
    let issuer: string;
    let A: Instance;
    let B: Instance;
    before(async () => {
      db = await postgres.create();
      redis = withRedis ? await redisDatabase() : undefined;
      const portA = await freePort();
      issuer = `http://127.0.0.1:${portA}`;
      const common = { databaseUrl: db.url, secret: clusterSecret(), issuer, ...(redis ? { redisUrl: redis.url } : {}), overrides: { clients: [serviceClient] } };
      A = await startInstance({ ...common, port: portA });
      B = await startInstance(common);
      if (redis) assert.ok((await waitFor(async () => (await redisUp(A)) === 1 && (await redisUp(B)) === 1, 5000)).ok, 'both nodes reach Redis');
    });
    after(async () => {
      await A?.stop();
      await B?.stop();
      await redis?.close();
      await db?.drop();
    });

    const cc = (node: Instance, dpop: string) =>
      postForm(`${node.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic(serviceClient.id, SERVICE_SECRET), dpop });

    test('a proof used at A is refused at B (and the other way round)', async () => {
      const p = await proof(key, { htu: `${issuer}/token` });
      assert.equal((await cc(A, p)).status, 200);
      const replay = await cc(B, p);
      assert.equal(replay.status, 400);
      assert.equal((await replay.json() as { error: string }).error, 'invalid_dpop_proof');

      const q = await proof(key, { htu: `${issuer}/token` });
      assert.equal((await cc(B, q)).status, 200);
      assert.equal((await cc(A, q)).status, 400);
    });

    test(withRedis ? 'the cache lives in Redis, with an expiry' : 'the cache lives in the database', async () => {
      const rows = await sql<{ n: number | string }>`select count(*) as n from dpop_replay`.execute(A.tessera.db.kysely);
      if (!withRedis) {
        assert.ok(Number(rows.rows[0]!.n) >= 2);
        return;
      }
      assert.equal(Number(rows.rows[0]!.n), 0);
      const r = new Redis(redis!.url);
      try {
        const keys = await r.keys(`tessera:${issuer}:dpop:*`);
        assert.ok(keys.length >= 2);
        const ttl = await r.ttl(keys[0]!);
        assert.ok(ttl > 0 && ttl <= 65, `ttl ${ttl}`);
      } finally {
        r.disconnect();
      }
    });
  });
}

async function redisUp(node: Instance): Promise<number> {
  // /metrics lives on the management listener (issue 16 §6).
  const text = await (await fetch(`${node.managementUrl}/metrics`)).text();
  return Number(/^tessera_redis_up (\d)/m.exec(text)?.[1] ?? NaN);
}

describe('Redis configured but unreachable', () => {
  test('the database takes over the replay cache: a replayed proof is still refused', async () => {
    const port = await freePort(); // nothing listens there
    const s = await startServer({ redisUrl: `redis://127.0.0.1:${port}` });
    try {
      const p = await proof(key, { htu: `${s.url}/token` });
      const send = () => postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic(serviceClient.id, SERVICE_SECRET), dpop: p });
      assert.equal((await send()).status, 200);
      const replay = await send();
      assert.equal(replay.status, 400);
      assert.equal((await replay.json() as { error: string }).error, 'invalid_dpop_proof');
    } finally {
      await s.dispose();
    }
  });
});
