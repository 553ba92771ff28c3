import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, postForm, SERVICE_SECRET, serviceClient } from './helpers.ts';
import { postgres, PG_URL, type TestDatabase } from './support/backends.ts';
import { clusterSecret, startInstance, waitFor, type Instance } from './support/cluster.ts';
import { TcpProxy, type CutMode } from './support/tcp-proxy.ts';

/**
 * Issue 6 §4, SECURITY-CHECKLIST "Faults" and H5: with PostgreSQL gone, nothing that issues, refreshes,
 * revokes or reports a token as active may succeed — 503 with Retry-After — while what is held in
 * memory (discovery, JWKS) keeps serving; when the database returns, the instance recovers by itself.
 * The outage is a TCP proxy between Tessera and the shared PostgreSQL, cut and restored by the test.
 */
const LEGACY_SECRET = 'legacy-app-secret-0123456789ab';
const legacy = { id: 'legacy', secret: LEGACY_SECRET, grants: ['password', 'refresh_token'], scopes: ['orders:read'], audience: 'https://orders.example' };
const RS_SECRET = 'orders-rs-secret-0123456789abc';
const ordersRs = { id: 'orders-rs', secret: RS_SECRET, grants: ['client_credentials'], scopes: [], audience: 'https://orders.example', permissions: ['introspect' as const] };
const users = [{ username: 'alice', password: 'alice-password-1', roles: ['user'] }];

const SVC = { authorization: basic('svc', SERVICE_SECRET) };
const L = { authorization: basic('legacy', LEGACY_SECRET) };
const RS = { authorization: basic('orders-rs', RS_SECRET) };

interface Tokens { access_token: string; refresh_token: string }

let db: TestDatabase;
let proxy: TcpProxy;
let node: Instance;

before(async () => {
  db = await postgres.create();
  const target = new URL(PG_URL);
  proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
  node = await startInstance({ databaseUrl: proxy.via(db.url), secret: clusterSecret(), overrides: { clients: [serviceClient, legacy, ordersRs], users } });
});

after(async () => {
  proxy?.restore();
  await node?.stop();
  await proxy?.close();
  await db?.drop();
});

const login = async (): Promise<Tokens> => {
  const res = await postForm(`${node.url}/token`, { grant_type: 'password', username: 'alice', password: 'alice-password-1' }, L);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Tokens;
};
const get = (path: string) => fetch(`${node.url}${path}`);

/**
 * Every answer the checklist's "Faults" paragraph covers; each must be a 503 within `bound` ms of the
 * cut. Requests that need the database are sent at once. A client_credentials token needs no write,
 * and its inputs may be cached (client record 5 s, the throttle's under-the-limit answer 1 s): it is
 * checked once the instance has seen the outage (/readyz 503), after which nothing is answered from
 * caches (the knownDown gate in server.ts) — the cache was warmed just before the cut to show it.
 */
async function assertFailsClosed(t: Tokens, bound: number): Promise<void> {
  const started = Date.now();
  const calls: Array<[string, Promise<Response>]> = [
    ['password', postForm(`${node.url}/token`, { grant_type: 'password', username: 'alice', password: 'alice-password-1' }, L)],
    ['refresh', postForm(`${node.url}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, L)],
    ['revoke refresh token', postForm(`${node.url}/revoke`, { token: t.refresh_token }, L)],
    ['revoke access token', postForm(`${node.url}/revoke`, { token: t.access_token }, L)],
    ['introspect access token', postForm(`${node.url}/introspect`, { token: t.access_token }, RS)],
    ['introspect refresh token', postForm(`${node.url}/introspect`, { token: t.refresh_token }, L)],
  ];
  const noticed = await waitFor(async () => (await get('/readyz')).status === 503, bound, 50);
  assert.ok(noticed.ok, '/readyz reports the outage');
  calls.push(['client_credentials (cached client, cached throttle answer)', postForm(`${node.url}/token`, { grant_type: 'client_credentials' }, SVC)]);
  for (const [name, pending] of calls) {
    const res = await pending;
    const body = (await res.json()) as Record<string, unknown>;
    // The message names the status and error only: a wrongly issued token is not printed.
    assert.equal(res.status, 503, `${name}: ${res.status} ${String(body.error ?? 'a token or an answer')}`);
    assert.ok(Number(res.headers.get('retry-after')) > 0, `${name}: Retry-After`);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(body.error, 'temporarily_unavailable', name);
    assert.ok(!('access_token' in body) && !('active' in body), `${name}: never a token, never an introspection answer`);
  }
  const elapsed = Date.now() - started;
  assert.ok(elapsed < bound, `answered in ${elapsed} ms (bound ${bound} ms)`);
}

async function assertServesFromMemory(jwks: unknown, discovery: unknown): Promise<void> {
  assert.equal((await get('/healthz')).status, 200, 'the process is alive: /healthz stays 200');
  const j = await get('/jwks.json');
  assert.equal(j.status, 200);
  assert.deepEqual(await j.json(), jwks);
  const d = await get('/.well-known/openid-configuration');
  assert.equal(d.status, 200);
  assert.deepEqual(await d.json(), discovery);
  assert.match(await (await fetch(`${node.managementUrl}/metrics`)).text(), /^tessera_database_up 0/m);
}

async function assertRecovers(t: Tokens): Promise<void> {
  const ready = await waitFor(async () => (await get('/readyz')).status === 200, 15_000, 100);
  assert.ok(ready.ok, 'ready again without a restart');
  assert.equal((await postForm(`${node.url}/token`, { grant_type: 'client_credentials' }, SVC)).status, 200, 'tokens issue again');
  // The 503s were honest: nothing was half done during the outage.
  const info = (await (await postForm(`${node.url}/introspect`, { token: t.access_token }, RS)).json()) as { active: boolean };
  assert.equal(info.active, true, 'the revoke that got 503 did not happen');
  const r = await postForm(`${node.url}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, L);
  assert.equal(r.status, 200, 'the refresh that got 503 did not burn the token');
  const next = (await r.json()) as Tokens;
  assert.equal((await postForm(`${node.url}/revoke`, { token: next.refresh_token }, L)).status, 200);
  assert.equal(((await (await postForm(`${node.url}/token`, { grant_type: 'refresh_token', refresh_token: next.refresh_token }, L)).json()) as { error: string }).error, 'invalid_grant');
  assert.match(await (await fetch(`${node.managementUrl}/metrics`)).text(), /^tessera_database_up 1/m);
}

describe('PostgreSQL down: fail closed, serve from memory, recover by itself', () => {
  const outages: Array<[CutMode, string, number]> = [
    ['reset', 'stopped (connections refused and reset)', 3000],
    // A partition gives no error: pooled connections go silent (query timeout) and new ones hang (connect timeout).
    ['blackhole', 'unreachable (connections hang)', 12_000],
  ];
  for (const [mode, what, bound] of outages) {
    test(`database ${what}: /token, /revoke, /introspect → 503 + Retry-After, /readyz 503, /healthz 200, JWKS and discovery served; then recovery`, async () => {
      const t = await login();
      const jwks: unknown = await (await get('/jwks.json')).json();
      const discovery: unknown = await (await get('/.well-known/openid-configuration')).json();
      assert.equal((await postForm(`${node.url}/token`, { grant_type: 'client_credentials' }, SVC)).status, 200);
      proxy.cut(mode);
      try {
        await assertFailsClosed(t, bound);
        await assertServesFromMemory(jwks, discovery);
      } finally {
        proxy.restore();
      }
      await assertRecovers(t);
    });
  }
});
