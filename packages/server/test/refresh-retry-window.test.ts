import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, freePort, postForm } from './helpers.ts';
import { Agent, authorize, pkce, spaClient } from './oidc-helpers.ts';
import { backends, type TestDatabase } from './support/backends.ts';
import { clusterSecret, startInstance, type Instance } from './support/cluster.ts';

/**
 * Issue 12 §9: the refresh-token retry window (refreshTokens.graceSeconds). Several tabs refreshing with
 * one token at once, or a retry of a lost response, must not count as reuse; reuse after the window, or
 * after the successor was used, still revokes the family; another client is refused; 0 is strict.
 * On PostgreSQL the racing requests are split over two instances sharing the database.
 */
const LEGACY_SECRET = 'legacy-app-secret-0123456789ab';
const OTHER_SECRET = 'other-app-secret-0123456789abc';
const RS_SECRET = 'orders-rs-secret-0123456789abc';
const legacy = { id: 'legacy', secret: LEGACY_SECRET, grants: ['password', 'refresh_token'], scopes: ['orders:read'], audience: 'https://orders.example' };
const other = { id: 'other', secret: OTHER_SECRET, grants: ['password', 'refresh_token'], scopes: ['orders:read'], audience: 'https://orders.example' };
const ordersRs = { id: 'orders-rs', secret: RS_SECRET, grants: ['client_credentials'], scopes: [], audience: 'https://orders.example', permissions: ['introspect' as const] };
const spaRt = { ...spaClient, id: 'spa-rt', grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'orders:read'] };
const users = [{ username: 'alice', password: 'alice-password-1', roles: ['user'] }];

interface Tokens { access_token: string; refresh_token: string }

const L = { authorization: basic('legacy', LEGACY_SECRET) };
const O = { authorization: basic('other', OTHER_SECRET) };
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

for (const backend of backends) {
  describe(`refresh-token retry window (${backend.name})`, () => {
    let db: TestDatabase;
    let A: Instance;
    let B: Instance;
    let short: Instance;
    let strict: Instance;
    before(async () => {
      db = await backend.create();
      // One issuer for all nodes (as behind one load balancer): each accepts the others' tokens.
      const port = await freePort();
      const common = { databaseUrl: db.url, secret: clusterSecret(), issuer: `http://127.0.0.1:${port}` };
      const overrides = { clients: [legacy, other, ordersRs, spaRt], users };
      A = await startInstance({ ...common, port, overrides });
      // SQLite is one process's file here; PostgreSQL gets a second instance for the races.
      B = backend.name === 'postgres' ? await startInstance({ ...common, overrides }) : A;
      short = await startInstance({ ...common, overrides: { ...overrides, refreshTokens: { graceSeconds: 1 } } });
      strict = await startInstance({ ...common, overrides: { ...overrides, refreshTokens: { graceSeconds: 0 } } });
    });
    after(async () => {
      for (const node of new Set([A, B, short, strict])) await node?.stop();
      await db?.drop();
    });

    async function login(node: Instance, client = L): Promise<Tokens> {
      const res = await postForm(`${node.url}/token`, { grant_type: 'password', username: 'alice', password: 'alice-password-1' }, client);
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as Tokens;
    }
    const refresh = (node: Instance, rt: string, client: Record<string, string> = L) => postForm(`${node.url}/token`, { grant_type: 'refresh_token', refresh_token: rt }, client);
    const active = async (token: string) => {
      const res = await postForm(`${A.url}/introspect`, { token }, { authorization: basic('orders-rs', RS_SECRET) });
      return ((await res.json()) as { active: boolean }).active;
    };

    test('two tabs refresh with one token at once: both succeed with the same successor, and the family stays valid', async () => {
      const t0 = await login(A);
      const results = await Promise.all([refresh(A, t0.refresh_token), refresh(B, t0.refresh_token)]);
      assert.deepEqual(results.map((r) => r.status), [200, 200]);
      const [x, y] = (await Promise.all(results.map((r) => r.json()))) as [Tokens, Tokens];
      assert.equal(x.refresh_token, y.refresh_token, 'one successor: never two live branches');
      assert.notEqual(x.refresh_token, t0.refresh_token);
      assert.notEqual(x.access_token, y.access_token);
      assert.ok((await active(x.access_token)) && (await active(y.access_token)), 'both access tokens are live');
      const next = await refresh(B, x.refresh_token);
      assert.equal(next.status, 200, 'the family is intact');
      assert.equal(await active(x.access_token), true);
    });

    test('many concurrent refreshes over both instances: all answered with the one successor', async () => {
      const t0 = await login(A);
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => refresh(i % 2 ? A : B, t0.refresh_token)));
      assert.deepEqual(results.map((r) => r.status), Array(8).fill(200));
      const successors = new Set(((await Promise.all(results.map((r) => r.json()))) as Tokens[]).map((t) => t.refresh_token));
      assert.equal(successors.size, 1);
      assert.equal((await refresh(A, [...successors][0]!)).status, 200);
    });

    test('a public client (SPA in several tabs) gets the same retry window', async () => {
      const { verifier, challenge } = pkce();
      const params = new URLSearchParams({
        response_type: 'code', client_id: spaRt.id, redirect_uri: spaRt.redirectUris[0]!, scope: 'openid orders:read',
        state: 's', nonce: 'n', code_challenge: challenge, code_challenge_method: 'S256',
      });
      const cb = await authorize(new Agent(A.url), params, { username: 'alice', password: 'alice-password-1' });
      const code = cb.searchParams.get('code')!;
      const tokenRes = await postForm(`${A.url}/token`, { grant_type: 'authorization_code', code, redirect_uri: spaRt.redirectUris[0]!, code_verifier: verifier, client_id: spaRt.id });
      assert.equal(tokenRes.status, 200, await tokenRes.clone().text());
      const t0 = (await tokenRes.json()) as Tokens;
      const pub = (node: Instance, rt: string) => postForm(`${node.url}/token`, { grant_type: 'refresh_token', refresh_token: rt, client_id: spaRt.id });
      const results = await Promise.all([pub(A, t0.refresh_token), pub(B, t0.refresh_token)]);
      assert.deepEqual(results.map((r) => r.status), [200, 200]);
      const [x, y] = (await Promise.all(results.map((r) => r.json()))) as [Tokens, Tokens];
      assert.equal(x.refresh_token, y.refresh_token);
      assert.equal((await pub(B, x.refresh_token)).status, 200);
    });

    test('a lost response: the retry gets the same successor, which stays valid', async () => {
      const t0 = await login(A);
      const lost = (await (await refresh(A, t0.refresh_token)).json()) as Tokens;
      const retry = await refresh(B, t0.refresh_token);
      assert.equal(retry.status, 200);
      const t1 = (await retry.json()) as Tokens;
      assert.equal(t1.refresh_token, lost.refresh_token);
      assert.equal((await refresh(A, t1.refresh_token)).status, 200);
    });

    test('within the window but after the successor was used: reuse, the family is revoked', async () => {
      const t0 = await login(A);
      const t1 = (await (await refresh(A, t0.refresh_token)).json()) as Tokens;
      const t2 = (await (await refresh(B, t1.refresh_token)).json()) as Tokens;
      assert.equal(await errorOf(await refresh(A, t0.refresh_token)), 'invalid_grant');
      assert.equal(await errorOf(await refresh(B, t2.refresh_token)), 'invalid_grant', 'the newest token died with the family');
      assert.equal(await active(t2.access_token), false);
    });

    test('another client presenting the token within the window is refused; the family is left alone', async () => {
      const t0 = await login(A);
      const t1 = (await (await refresh(A, t0.refresh_token)).json()) as Tokens;
      const foreign = await refresh(B, t0.refresh_token, O);
      assert.equal(await errorOf(foreign), 'invalid_grant');
      const own = await refresh(B, t0.refresh_token);
      assert.equal(own.status, 200, 'its own client may still retry');
      assert.equal(((await own.json()) as Tokens).refresh_token, t1.refresh_token);
      assert.equal(await active(t1.access_token), true);
    });

    test('past the window, presenting the rotated token again revokes the family', async () => {
      const t0 = await login(short);
      const t1 = (await (await refresh(short, t0.refresh_token)).json()) as Tokens;
      // graceSeconds: 1 with whole-second clocks: after 2.2 s the rotation is at least 2 s old.
      await new Promise((r) => setTimeout(r, 2200));
      assert.equal(await errorOf(await refresh(short, t0.refresh_token)), 'invalid_grant');
      assert.equal(await errorOf(await refresh(short, t1.refresh_token)), 'invalid_grant', 'the successor died with the family');
      assert.equal(await active(t1.access_token), false);
    });

    test('graceSeconds 0 is strict: a second presentation is reuse and ends the family', async () => {
      const t0 = await login(strict);
      const t1 = (await (await refresh(strict, t0.refresh_token)).json()) as Tokens;
      assert.equal(await errorOf(await refresh(strict, t0.refresh_token)), 'invalid_grant');
      assert.equal(await errorOf(await refresh(strict, t1.refresh_token)), 'invalid_grant');
      const t = await login(strict);
      const raced = await Promise.all([refresh(strict, t.refresh_token), refresh(strict, t.refresh_token)]);
      assert.ok(raced.filter((r) => r.status === 200).length <= 1, raced.map((r) => r.status).join(','));
    });
  });
}
