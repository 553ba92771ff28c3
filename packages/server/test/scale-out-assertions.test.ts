import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { freePort, postForm } from './helpers.ts';
import { Agent, alice, authorize, pkce, REDIRECT, users } from './oidc-helpers.ts';
import { postgres, type TestDatabase } from './support/backends.ts';
import { clusterSecret, redisDatabase, startInstance, waitFor, type Instance } from './support/cluster.ts';
import { assertionClaims, assertionForm, clientKey, signAssertion, type ClientKey } from './support/assertions.ts';

/**
 * Issue 13: the client-assertion replay store and pushed requests hold across two instances sharing one
 * PostgreSQL schema and one Redis (DESIGN.md §6): an assertion used at A is refused at B, whether Redis
 * or the database catches it; a request pushed at A is redeemed once, at B.
 */
let db: TestDatabase;
let redis: Awaited<ReturnType<typeof redisDatabase>>;
let redisClient: Redis;
let A: Instance;
let B: Instance;
let issuer: string;
let key: ClientKey;

before(async () => {
  db = await postgres.create();
  redis = await redisDatabase();
  redisClient = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  key = await clientKey('ES256');
  const portA = await freePort();
  issuer = `http://127.0.0.1:${portA}`;
  const pk = {
    id: 'pk', type: 'confidential' as const, tokenEndpointAuthMethod: 'private_key_jwt' as const, jwks: { keys: [key.publicJwk as { kty: string }] },
    grants: ['client_credentials', 'authorization_code'], scopes: ['openid', 'orders:read'], audience: 'https://orders.example', redirectUris: [REDIRECT], firstParty: true,
  };
  const common = { databaseUrl: db.url, redisUrl: redis.url, secret: clusterSecret(), issuer, overrides: { clients: [pk], users } };
  A = await startInstance({ ...common, port: portA });
  B = await startInstance(common);
  const redisUp = async (node: Instance) => /^tessera_redis_up 1/m.test(await (await fetch(`${node.managementUrl}/metrics`)).text());
  assert.ok((await waitFor(async () => (await redisUp(A)) && (await redisUp(B)), 5000)).ok, 'both nodes connected to Redis');
});

after(async () => {
  await A?.stop();
  await B?.stop();
  redisClient?.disconnect();
  await redis?.close();
  await db?.drop();
});

const assertion = async () => signAssertion(key, assertionClaims('pk', issuer));
const cc = (node: Instance, a: string) => postForm(`${node.url}/token`, { grant_type: 'client_credentials', scope: 'orders:read', ...assertionForm(a) });
/** A browser on node B of a deployment whose public origin (the issuer) is A's URL. */
class BehindBalancer extends Agent {
  override post(path: string, form: Record<string, string> | string, headers: Record<string, string> = {}): Promise<Response> {
    return super.post(path, form, { origin: issuer, ...headers });
  }
}
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

describe('client-assertion jti across instances (PostgreSQL + Redis)', () => {
  test('used at A, refused at B (and at A)', async () => {
    const a = await assertion();
    assert.equal((await cc(A, a)).status, 200);
    const atB = await cc(B, a);
    assert.equal(atB.status, 401);
    assert.equal(await errorOf(atB), 'invalid_client');
    assert.equal((await cc(A, a)).status, 401);
  });

  test('Redis holds the jti until exp; without it the database still refuses the replay', async () => {
    const a = await assertion();
    assert.equal((await cc(A, a)).status, 200);
    const keys = await redisClient.keys(`tessera:${issuer}:assertion-jti:*`);
    assert.ok(keys.length >= 1, 'the jti was marked in Redis');
    const ttl = await redisClient.ttl(keys[0]!);
    assert.ok(ttl > 0 && ttl <= 70, `expires with the assertion (ttl ${ttl})`);
    await redisClient.del(...keys);
    assert.equal((await cc(B, a)).status, 401, 'the database is the record that survives Redis');
  });

  test('racing one assertion at both instances: exactly one wins', async () => {
    for (let round = 0; round < 3; round++) {
      const a = await assertion();
      const results = await Promise.all([cc(A, a), cc(B, a), cc(A, a), cc(B, a)]);
      assert.equal(results.filter((r) => r.status === 200).length, 1);
      for (const r of results) if (r.status !== 200) assert.equal(await errorOf(r), 'invalid_client');
    }
  });
});

describe('pushed authorization requests across instances', () => {
  test('pushed at A, redeemed at B, refused the second time at A', async () => {
    const { challenge } = pkce();
    const res = await postForm(`${A.url}/par`, {
      response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', state: 's', code_challenge: challenge, code_challenge_method: 'S256',
      ...assertionForm(await assertion()),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const { request_uri } = (await res.json()) as { request_uri: string };
    const cb = await authorize(new BehindBalancer(B.url), new URLSearchParams({ client_id: 'pk', request_uri }), alice);
    assert.ok(cb.searchParams.get('code'));
    const again = await fetch(`${A.url}/authorize?${new URLSearchParams({ client_id: 'pk', request_uri })}`, { redirect: 'manual' });
    assert.equal(again.status, 400);
    assert.match(await again.text(), /invalid_request_uri/);
  });
});

describe('Redis unreachable', () => {
  test('assertions still work and replays are still refused: the database decides', async () => {
    const port = await freePort();
    const own = await postgres.create();
    const lone = await startInstance({ databaseUrl: own.url, redisUrl: `redis://127.0.0.1:${await freePort()}`, secret: clusterSecret(), issuer: `http://127.0.0.1:${port}`, port, overrides: { clients: [{
      id: 'pk2', type: 'confidential', tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk as { kty: string }] }, grants: ['client_credentials'], audience: 'https://orders.example',
    }] } });
    try {
      const a = await signAssertion(key, assertionClaims('pk2', lone.url));
      const post = () => postForm(`${lone.url}/token`, { grant_type: 'client_credentials', ...assertionForm(a) });
      assert.equal((await post()).status, 200);
      const again = await post();
      assert.equal(again.status, 401);
      assert.equal(await errorOf(again), 'invalid_client');
    } finally {
      await lone.stop();
      await own.drop();
    }
  });
});
