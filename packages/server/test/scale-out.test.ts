import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createVerifier, type Verifier } from '@tessera/resource-server';
import { basic, freePort, postForm } from './helpers.ts';
import { Agent, alice, authParams, authorize, LOGOUT_REDIRECT, pkce, REDIRECT, users, WEB_SECRET, webClient } from './oidc-helpers.ts';
import { postgres, type TestDatabase } from './support/backends.ts';
import { clusterSecret, LogCapture, redisDatabase, REDIS_URL, startInstance, waitFor, type Instance } from './support/cluster.ts';
import { TcpProxy } from './support/tcp-proxy.ts';
import { migrate, openDatabase } from '../src/storage/index.ts';

/**
 * Issue 6: two Tessera nodes behind one (imaginary) load balancer — one issuer, one PostgreSQL schema,
 * one Redis — on different ports. Any request may land on either node (DESIGN.md §6).
 */
const webRt = { ...webClient, id: 'webrt', grants: ['authorization_code', 'refresh_token'] };
const LEGACY_SECRET = 'legacy-app-secret-0123456789ab';
const legacy = { id: 'legacy', secret: LEGACY_SECRET, grants: ['password', 'refresh_token'], scopes: ['orders:read'], audience: 'https://orders.example' };
const RS_SECRET = 'orders-rs-secret-0123456789abc';
const ordersRs = { id: 'orders-rs', secret: RS_SECRET, grants: ['client_credentials'], scopes: [], audience: 'https://orders.example', permissions: ['introspect' as const] };

interface Tokens { access_token: string; refresh_token: string; id_token?: string }

let db: TestDatabase;
let redis: Awaited<ReturnType<typeof redisDatabase>>;
let redisProxy: TcpProxy;
let issuer: string;
let A: Instance;
let B: Instance;
const logA = new LogCapture();
const logB = new LogCapture();

before(async () => {
  db = await postgres.create();
  redis = await redisDatabase();
  const target = new URL(REDIS_URL);
  redisProxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 6379) });
  const secret = clusterSecret();
  const portA = await freePort();
  issuer = `http://127.0.0.1:${portA}`;
  const common = {
    databaseUrl: db.url,
    redisUrl: redisProxy.via(redis.url),
    secret,
    issuer,
    overrides: { clients: [webRt, legacy, ordersRs], users, keys: { algorithm: 'ES256' as const, reloadEvery: 1 } },
  };
  A = await startInstance({ ...common, port: portA, log: logA });
  B = await startInstance({ ...common, log: logB });
  // Both nodes are subscribed before the tests publish anything.
  const up = await waitFor(async () => (await redisUp(A)) === 1 && (await redisUp(B)) === 1, 5000);
  assert.ok(up.ok, 'both nodes connected to Redis');
});

after(async () => {
  await A?.stop();
  await B?.stop();
  await redisProxy?.close();
  await redis?.close();
  await db?.drop();
});

const RS = { authorization: basic('orders-rs', RS_SECRET) };
const L = { authorization: basic('legacy', LEGACY_SECRET) };
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

async function redisUp(node: Instance): Promise<number> {
  const text = await (await fetch(`${node.managementUrl}/metrics`)).text();
  return Number(/^tessera_redis_up (\d)/m.exec(text)?.[1] ?? NaN);
}

async function introspect(node: Instance, token: string, as = RS): Promise<Record<string, unknown>> {
  const res = await postForm(`${node.url}/introspect`, { token }, as);
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>;
}

async function login(node: Instance): Promise<Tokens> {
  const res = await postForm(`${node.url}/token`, { grant_type: 'password', username: 'alice', password: 'alice-password-1' }, L);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Tokens;
}

const refresh = (node: Instance, rt: string) => postForm(`${node.url}/token`, { grant_type: 'refresh_token', refresh_token: rt }, L);
const refreshWeb = (node: Instance, rt: string) => postForm(`${node.url}/token`, { grant_type: 'refresh_token', refresh_token: rt }, { authorization: basic('webrt', WEB_SECRET) });
const revoke = (node: Instance, token: string) => postForm(`${node.url}/revoke`, { token }, L);

/** A browser talking to `node` as if through the load balancer: its pages' origin is the issuer. */
class Browser extends Agent {
  override post(path: string, form: Record<string, string> | string, headers: Record<string, string> = {}): Promise<Response> {
    return super.post(path, form, { origin: issuer, ...headers });
  }
}

/** Authorization on `node` (browser flow, its own cookie jar): a code for the web app and its verifier. */
async function code(node: Instance, agent: Agent = new Browser(node.url)): Promise<{ code: string; verifier: string; agent: Agent }> {
  const { verifier, challenge } = pkce();
  const cb = await authorize(agent, authParams(challenge, { client_id: 'webrt', scope: 'openid profile orders:read' }), alice);
  assert.equal(cb.searchParams.get('iss'), issuer, 'one issuer for every node (RFC 9207)');
  return { code: cb.searchParams.get('code')!, verifier, agent };
}

function redeem(node: Instance, c: { code: string; verifier: string }): Promise<Response> {
  return postForm(
    `${node.url}/token`,
    { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier },
    { authorization: basic('webrt', WEB_SECRET) },
  );
}

/** A resource server whose revocation feed is node B's (it may sit next to B). */
function resourceServerOn(node: Instance): Verifier {
  return createVerifier({
    issuer,
    audience: 'https://orders.example',
    jwksUri: `${node.url}/jwks.json`,
    revocation: { feed: { url: `${node.url}/revocations`, clientId: 'orders-rs', clientSecret: RS_SECRET } },
  });
}

/** Revokes `token` on `from` and measures how long until `rs` refuses it. */
async function refusedWithin(rs: Verifier, token: string, from: Instance, ms: number): Promise<{ ok: boolean; elapsed: number }> {
  await rs.verify(token); // accepted (and cached) before the revocation
  assert.equal((await revoke(from, token)).status, 200);
  return waitFor(async () => rs.verify(token).then(() => false, () => true), ms, 10);
}

describe('two instances sharing PostgreSQL and Redis', () => {
  test('authorize on A, token on B, refresh on A, logout on B: the session\'s tokens die on A too', async () => {
    const c = await code(A);
    const res = await redeem(B, c);
    assert.equal(res.status, 200, await res.clone().text());
    const t0 = (await res.json()) as Tokens;
    assert.ok(t0.refresh_token && t0.id_token);
    const r1 = await refreshWeb(A, t0.refresh_token);
    assert.equal(r1.status, 200);
    const t1 = (await r1.json()) as Tokens;
    assert.deepEqual(await (await fetch(`${A.url}/jwks.json`)).json(), await (await fetch(`${B.url}/jwks.json`)).json(), 'one JWKS');
    assert.equal((await introspect(A, t1.access_token)).active, true);

    // The browser's next request lands on B: same cookies (one site behind the load balancer).
    const onB = new Browser(B.url);
    for (const [k, v] of c.agent.cookies) onB.cookies.set(k, v);
    const out = await onB.get(`/logout?${new URLSearchParams({ id_token_hint: t0.id_token!, post_logout_redirect_uri: LOGOUT_REDIRECT })}`);
    assert.equal(out.status, 303);
    assert.equal(out.headers.get('location'), LOGOUT_REDIRECT);

    assert.equal(await errorOf(await refreshWeb(A, t1.refresh_token)), 'invalid_grant');
    assert.deepEqual(await introspect(A, t1.access_token), { active: false });
    assert.deepEqual(await introspect(A, t0.access_token), { active: false });
    const { challenge } = pkce();
    const silent = await c.agent.get(`/authorize?${authParams(challenge, { client_id: 'webrt', prompt: 'none' })}`);
    assert.equal(new URL(silent.headers.get('location')!).searchParams.get('error'), 'login_required', 'the session is gone on A as well');
  });

  test('a code replayed on the other instance is refused and revokes what the first redemption issued', async () => {
    const c = await code(A);
    const first = await redeem(A, c);
    assert.equal(first.status, 200);
    const t = (await first.json()) as Tokens;
    const replay = await redeem(B, c);
    assert.equal(replay.status, 400);
    assert.equal(await errorOf(replay), 'invalid_grant');
    assert.equal(await errorOf(await refreshWeb(A, t.refresh_token)), 'invalid_grant');
    assert.deepEqual(await introspect(A, t.access_token), { active: false });
  });

  test('a refresh token replayed on the other instance is refused and ends the family', async () => {
    const t0 = await login(A);
    const r1 = await refresh(B, t0.refresh_token);
    assert.equal(r1.status, 200);
    const t1 = (await r1.json()) as Tokens;
    // Its successor is used, so even inside the retry window (refreshTokens.graceSeconds) this is reuse.
    const t2 = (await (await refresh(B, t1.refresh_token)).json()) as Tokens;
    assert.equal(await errorOf(await refresh(A, t0.refresh_token)), 'invalid_grant');
    assert.equal(await errorOf(await refresh(B, t2.refresh_token)), 'invalid_grant', 'the newest token died with the family');
    assert.deepEqual(await introspect(B, t2.access_token), { active: false });
  });

  test('20 concurrent redemptions of one code split over both → exactly one 200', async () => {
    const c = await code(A);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => redeem(i % 2 ? A : B, c)));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
    for (const r of results) if (r.status !== 200) assert.equal(await errorOf(r), 'invalid_grant');
  });

  test('10 concurrent refreshes of one token split over both → one rotation: all get the same successor (D8, retry window)', async () => {
    const t0 = await login(B);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => refresh(i % 2 ? A : B, t0.refresh_token)));
    const statuses = results.map((r) => r.status);
    assert.deepEqual(statuses, Array(10).fill(200), statuses.join(','));
    const successors = new Set(((await Promise.all(results.map((r) => r.json()))) as Tokens[]).map((t) => t.refresh_token));
    assert.equal(successors.size, 1, 'never two live branches');
    assert.equal((await refresh(A, [...successors][0]!)).status, 200);
  });

  test('revocation on A: refused at B\'s /introspect at once, and at a resource server on B\'s feed within 1 s', async () => {
    const rs = resourceServerOn(B);
    try {
      const t = await login(A);
      assert.equal((await introspect(B, t.access_token)).active, true);
      const seen = await refusedWithin(rs, t.access_token, A, 1000);
      assert.deepEqual(await introspect(B, t.access_token), { active: false });
      assert.ok(seen.ok, `still accepted ${seen.elapsed} ms after the revocation`);
    } finally {
      await rs.close();
    }
  });

  test('a key rotated on A is in B\'s JWKS before A signs with it, and B publishes A\'s next key within seconds', async () => {
    const before = (await (await fetch(`${B.url}/jwks.json`)).json()) as { keys: { kid: string }[] };
    await A.tessera.ctx.keyring.rotate();
    const t = await login(A);
    const kid = (JSON.parse(Buffer.from(t.access_token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    assert.ok(before.keys.some((k) => k.kid === kid), 'the new signing key was already published by B (it was `next`)');
    const jwksA = (await (await fetch(`${A.url}/jwks.json`)).json()) as { keys: { kid: string }[] };
    const synced = await waitFor(async () => {
      const jwksB = (await (await fetch(`${B.url}/jwks.json`)).json()) as { keys: { kid: string }[] };
      return jwksA.keys.every((k) => jwksB.keys.some((b) => b.kid === k.kid));
    }, 3000, 100);
    assert.ok(synced.ok, 'B publishes the key set A does');
  });

  test('Redis flushed: revoked tokens stay revoked, denylisted access tokens inactive, consumed codes consumed', async () => {
    const family = await login(A);
    assert.equal((await revoke(A, family.refresh_token)).status, 200);
    const denied = await login(A);
    assert.equal((await revoke(B, denied.access_token)).status, 200);
    const c = await code(B);
    assert.equal((await redeem(A, c)).status, 200);

    await redis.flush();

    for (const node of [A, B]) {
      assert.equal(await errorOf(await refresh(node, family.refresh_token)), 'invalid_grant');
      assert.deepEqual(await introspect(node, family.access_token), { active: false });
      assert.deepEqual(await introspect(node, denied.access_token), { active: false });
    }
    assert.equal(await errorOf(await redeem(B, c)), 'invalid_grant', 'the consumed code stays consumed');
  });

  test('Redis cut: tokens, revocation and introspection still work from the database; the feed still delivers within 1 s; one warning; automatic recovery', async () => {
    const rs = resourceServerOn(B);
    try {
      await rs.verify((await login(A)).access_token); // the feed is connected before the cut
      const warnings = logA.count(/redis unavailable/);
      redisProxy.cut('reset');
      const down = await waitFor(async () => (await redisUp(A)) === 0 && (await redisUp(B)) === 0, 5000, 50);
      assert.ok(down.ok, 'tessera_redis_up falls to 0 on both nodes');

      const t0 = await login(A);
      const r1 = await refresh(B, t0.refresh_token);
      assert.equal(r1.status, 200, 'issuance and rotation need only the database');
      const t1 = (await r1.json()) as Tokens;
      assert.equal((await introspect(B, t1.access_token)).active, true);
      assert.equal((await refresh(A, t1.refresh_token)).status, 200);
      assert.equal(await errorOf(await refresh(A, t0.refresh_token)), 'invalid_grant', 'reuse detection needs only the database');

      const seen = await refusedWithin(rs, (await login(A)).access_token, A, 1000);
      assert.ok(seen.ok, `without Redis the database poll must deliver within 1 s (took > ${seen.elapsed} ms)`);
      const t2 = await login(B);
      assert.equal((await revoke(A, t2.refresh_token)).status, 200);
      assert.equal(await errorOf(await refresh(B, t2.refresh_token)), 'invalid_grant');
      assert.deepEqual(await introspect(B, t2.access_token), { active: false });
      assert.equal(logA.count(/redis unavailable/), warnings + 1, 'one warning for the outage, not one per request');

      redisProxy.restore();
      const up = await waitFor(async () => (await redisUp(A)) === 1 && (await redisUp(B)) === 1, 10_000, 100);
      assert.ok(up.ok, 'both nodes reconnect by themselves');
      assert.ok(logA.count(/redis reachable again/) >= 1);
      const again = await refusedWithin(rs, (await login(A)).access_token, A, 1000);
      assert.ok(again.ok, `after recovery (took > ${again.elapsed} ms)`);
      assert.ok(!logA.text().includes(t0.refresh_token) && !logB.text().includes(t0.refresh_token), 'no token in the logs');
    } finally {
      redisProxy.restore();
      await rs.close();
    }
  });
});

test('two deployments in two schemas of one PostgreSQL database each migrate their own schema', async () => {
  const first = await postgres.create();
  const second = await postgres.create();
  try {
    for (const t of [first, second]) {
      const handle = openDatabase(t.url);
      try {
        assert.ok((await migrate(handle)).length > 0, 'a fresh schema gets every migration');
        assert.deepEqual(await migrate(handle), [], 'and then nothing is pending');
        const tables = await handle.kysely.selectFrom('clients').select('id').execute();
        assert.deepEqual(tables, []);
      } finally {
        await handle.close();
      }
    }
  } finally {
    await first.drop();
    await second.drop();
  }
});
