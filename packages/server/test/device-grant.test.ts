import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, freePort, postForm, serviceClient, startServer, type Running } from './helpers.ts';
import { users, webClient, WEB_SECRET } from './oidc-helpers.ts';
import { backends } from './support/backends.ts';
import { DEVICE_GRANT } from '../src/engine/device/index.ts';
import { sha256 } from '../src/engine/sessions/secrets.ts';

/**
 * RFC 8628 at the HTTP surface, on SQLite and PostgreSQL: /device_authorization, polling
 * (authorization_pending, slow_down, expired_token, access_denied), single use across two instances,
 * and the device code bound to its client. The user's decision is recorded through the store here;
 * device-flow-browser.test.ts drives the /device page itself.
 */
export const TV_SECRET = 'settop-secret-0123456789abcdef';
const tv = {
  id: 'tv',
  name: 'Living Room TV',
  type: 'public' as const,
  grants: [DEVICE_GRANT, 'refresh_token', 'authorization_code'],
  redirectUris: ['https://tv.example/cb'],
  scopes: ['openid', 'profile', 'orders:read'],
  audience: 'https://orders.example',
  resources: ['https://billing.example'],
};
const settop = { id: 'settop', name: 'Set-top Box', type: 'confidential' as const, secret: TV_SECRET, grants: [DEVICE_GRANT], scopes: ['orders:read'], audience: 'https://orders.example' };

interface Authorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

for (const backend of backends) {
  describe(`device authorization grant (${backend.name})`, () => {
    let a: Running;
    let b: Running;
    let drop: () => Promise<void>;
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-device-'));

    before(async () => {
      const db = await backend.create();
      drop = db.drop;
      const common = { databaseUrl: db.url, clients: [serviceClient, webClient, tv, settop], users, device: { interval: 1 } };
      // Two instances over one database and one data directory (the same server secret).
      a = await startServer(common, dataDir);
      b = await startServer({ ...common, port: await freePort() }, dataDir);
    });
    after(async () => {
      await a?.stop();
      await b?.stop();
      await drop?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    async function authorize(client: 'tv' | 'settop', extra: Record<string, string> = {}, on = a): Promise<Authorization> {
      const res = client === 'tv'
        ? await postForm(`${on.url}/device_authorization`, { client_id: 'tv', ...extra })
        : await postForm(`${on.url}/device_authorization`, extra, { authorization: basic('settop', TV_SECRET) });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as Authorization;
    }

    function poll(deviceCode: string, client: 'tv' | 'settop' = 'tv', on = a): Promise<Response> {
      const body = { grant_type: DEVICE_GRANT, device_code: deviceCode };
      return client === 'tv'
        ? postForm(`${on.url}/token`, { ...body, client_id: 'tv' })
        : postForm(`${on.url}/token`, body, { authorization: basic('settop', TV_SECRET) });
    }

    async function expectError(res: Response, status: number, error: string): Promise<void> {
      const body = (await res.json()) as { error: string };
      assert.equal(res.status, status, JSON.stringify(body));
      assert.equal(body.error, error);
      assert.equal(res.headers.get('cache-control'), 'no-store');
    }

    const sub = async () => (await a.tessera.ctx.stores.users.findByLogin('alice'))!.sub;
    const userCodeHash = (shown: string) => a.tessera.ctx.box.mac('device-user-code', shown.replace('-', ''));
    const approve = async (auth: Authorization, approved = true) =>
      a.tessera.ctx.stores.deviceCodes.decide(userCodeHash(auth.user_code), { approved, sub: await sub(), authTime: a.tessera.ctx.now() }, a.tessera.ctx.now());

    test('discovery lists the device authorization endpoint and the grant type', async () => {
      const meta = (await (await fetch(`${a.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      assert.equal(meta.device_authorization_endpoint, `${a.url}/device_authorization`);
      assert.ok((meta.grant_types_supported as string[]).includes(DEVICE_GRANT));
    });

    test('RFC 8628 §3.2 response: low-ambiguity user code, verification URIs, lifetime and interval', async () => {
      const res = await postForm(`${a.url}/device_authorization`, { client_id: 'tv', scope: 'openid orders:read' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const auth = (await res.json()) as Authorization;
      assert.match(auth.device_code, /^[A-Za-z0-9_-]{43}$/);
      assert.match(auth.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
      assert.equal(auth.verification_uri, `${a.url}/device`);
      assert.equal(auth.verification_uri_complete, `${a.url}/device?user_code=${auth.user_code}`);
      assert.equal(auth.expires_in, 600);
      assert.equal(auth.interval, 1);
      // Stored hashed only (D9): neither code appears in the row.
      const row = await a.tessera.ctx.stores.deviceCodes.pendingByUserCode(userCodeHash(auth.user_code), a.tessera.ctx.now());
      assert.ok(row);
      assert.ok(!JSON.stringify(row).includes(auth.device_code) && !JSON.stringify(row).includes(auth.user_code.replace('-', '')));
      assert.deepEqual(row.scopes, ['openid', 'orders:read']);
    });

    test('bad requests at /device_authorization get the right OAuth error, never a 500', async () => {
      await expectError(await postForm(`${a.url}/device_authorization`, { client_id: 'webapp' }, { authorization: basic('webapp', WEB_SECRET) }), 400, 'unauthorized_client');
      await expectError(await postForm(`${a.url}/device_authorization`, { client_id: 'settop' }), 401, 'invalid_client');
      await expectError(await postForm(`${a.url}/device_authorization`, {}, { authorization: basic('settop', 'wrong-secret-0123456789') }), 401, 'invalid_client');
      await expectError(await postForm(`${a.url}/device_authorization`, { client_id: 'nobody' }), 401, 'invalid_client');
      await expectError(await postForm(`${a.url}/device_authorization`, { client_id: 'tv', scope: 'admin' }), 400, 'invalid_scope');
      await expectError(await postForm(`${a.url}/device_authorization`, { client_id: 'tv', resource: 'https://elsewhere.example' }), 400, 'invalid_target');
      await expectError(await postForm(`${a.url}/device_authorization`, 'client_id=tv&scope=openid&scope=profile'), 400, 'invalid_request');
      await expectError(await fetch(`${a.url}/device_authorization`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"client_id":"tv"}' }), 400, 'invalid_request');
      const get = await fetch(`${a.url}/device_authorization`);
      assert.equal(get.status, 405);
      assert.equal(get.headers.get('allow'), 'POST');
    });

    test('polling: authorization_pending, then slow_down for a poll inside the interval (interval +5 s)', async () => {
      const auth = await authorize('tv');
      await expectError(await poll(auth.device_code), 400, 'authorization_pending');
      await expectError(await poll(auth.device_code), 400, 'slow_down');
      const row = await a.tessera.ctx.stores.deviceCodes.pendingByUserCode(userCodeHash(auth.user_code), a.tessera.ctx.now());
      assert.equal(row?.interval, 6);
      // The other instance sees the same poll history.
      await expectError(await poll(auth.device_code, 'tv', b), 400, 'slow_down');
      assert.equal((await a.tessera.ctx.stores.deviceCodes.pendingByUserCode(userCodeHash(auth.user_code), a.tessera.ctx.now()))?.interval, 11);
    });

    test('a device code of another client, or not ours at all, is invalid_grant', async () => {
      const auth = await authorize('tv');
      await expectError(await poll(auth.device_code, 'settop'), 400, 'invalid_grant');
      await expectError(await poll('x'.repeat(43)), 400, 'invalid_grant');
      await expectError(await poll('not-a-code'), 400, 'invalid_grant');
      await expectError(await postForm(`${a.url}/token`, { grant_type: DEVICE_GRANT, client_id: 'tv' }), 400, 'invalid_request');
      // B15: a device code is no authorization code, and the other way round.
      await expectError(await postForm(`${a.url}/token`, { grant_type: 'authorization_code', client_id: 'tv', code: auth.device_code, code_verifier: 'v'.repeat(43) }), 400, 'invalid_grant');
      // A client without the grant cannot poll.
      await expectError(await postForm(`${a.url}/token`, { grant_type: DEVICE_GRANT, device_code: auth.device_code }, { authorization: basic('webapp', WEB_SECRET) }), 400, 'unauthorized_client');
    });

    test('expired codes: expired_token at /token, and the user code no longer found', async () => {
      const auth = await authorize('tv');
      await a.tessera.db.kysely.withTables<{ device_codes: { user_code_hash: string; expires_at: number } }>()
        .updateTable('device_codes').set({ expires_at: a.tessera.ctx.now() - 1 }).where('user_code_hash', '=', userCodeHash(auth.user_code)).execute();
      await expectError(await poll(auth.device_code), 400, 'expired_token');
      assert.equal(await approve(auth), false);
    });

    test('denied codes: access_denied on every later poll', async () => {
      const auth = await authorize('tv');
      assert.equal(await approve(auth, false), true);
      await expectError(await poll(auth.device_code), 400, 'access_denied');
      await expectError(await poll(auth.device_code, 'tv', b), 400, 'access_denied');
      assert.equal(await approve(auth), false, 'a decided code cannot be decided again');
    });

    test('approved: tokens exactly once, even with two instances racing; then invalid_grant', async () => {
      const auth = await authorize('tv', { scope: 'openid orders:read' });
      assert.equal(await approve(auth), true);
      const results = await Promise.all([poll(auth.device_code, 'tv', a), poll(auth.device_code, 'tv', b), poll(auth.device_code, 'tv', a), poll(auth.device_code, 'tv', b)]);
      const ok = results.filter((r) => r.status === 200);
      assert.equal(ok.length, 1);
      const tokens = (await ok[0]!.json()) as Record<string, unknown>;
      assert.equal(tokens.token_type, 'Bearer');
      assert.equal(tokens.scope, 'openid orders:read');
      assert.equal(typeof tokens.access_token, 'string');
      assert.equal(typeof tokens.id_token, 'string', 'openid was granted');
      assert.equal(typeof tokens.refresh_token, 'string', 'the client has the refresh_token grant');
      for (const r of results.filter((x) => x.status !== 200)) await expectError(r, 400, 'invalid_grant');
      await expectError(await poll(auth.device_code), 400, 'invalid_grant');
      const claims = JSON.parse(Buffer.from(String(tokens.access_token).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      assert.equal(claims.sub, await sub());
      assert.equal(claims.client_id, 'tv');
      // The refresh token works like any other.
      const refreshed = await postForm(`${a.url}/token`, { grant_type: 'refresh_token', client_id: 'tv', refresh_token: String(tokens.refresh_token) });
      assert.equal(refreshed.status, 200);
      // B15: a refresh token is no device code.
      await expectError(await poll(((await refreshed.json()) as { refresh_token: string }).refresh_token), 400, 'invalid_grant');
    });

    test('RFC 8707: the resource asked for at /device_authorization is the audience; /token may only narrow it', async () => {
      const auth = await authorize('tv', { scope: 'orders:read', resource: 'https://billing.example' });
      assert.equal(await approve(auth), true);
      await expectError(await postForm(`${a.url}/token`, { grant_type: DEVICE_GRANT, device_code: auth.device_code, client_id: 'tv', resource: 'https://orders.example' }), 400, 'invalid_target');
      const res = await poll(auth.device_code);
      assert.equal(res.status, 200);
      const { access_token: at } = (await res.json()) as { access_token: string };
      const claims = JSON.parse(Buffer.from(at.split('.')[1]!, 'base64url').toString()) as { aud: unknown };
      assert.deepEqual([claims.aud].flat(), ['https://billing.example']);
    });

    test('store: of concurrent decisions and redemptions exactly one wins', async () => {
      const auth = await authorize('tv');
      const store = a.tessera.ctx.stores.deviceCodes;
      const now = a.tessera.ctx.now();
      const who = { sub: await sub(), authTime: now };
      const decided = await Promise.all(Array.from({ length: 8 }, (_, i) => store.decide(userCodeHash(auth.user_code), { ...who, approved: i % 2 === 0 }, now)));
      assert.equal(decided.filter(Boolean).length, 1);
      const row = await store.byDeviceCode(sha256(auth.device_code));
      assert.ok(row?.status === 'approved' || row?.status === 'denied');
      if (row.status === 'approved') {
        const consumed = await Promise.all(Array.from({ length: 8 }, () => store.consume(row.deviceCodeHash, now)));
        assert.equal(consumed.filter(Boolean).length, 1);
      } else {
        assert.equal(await store.consume(row.deviceCodeHash, now), false, 'a denied code is never redeemed');
      }
    });

    test('confidential client: authenticates at both endpoints; no refresh token without the grant, no ID token without openid', async () => {
      const auth = await authorize('settop');
      await expectError(await postForm(`${a.url}/token`, { grant_type: DEVICE_GRANT, device_code: auth.device_code, client_id: 'settop' }), 401, 'invalid_client');
      assert.equal(await approve(auth), true);
      const res = await poll(auth.device_code, 'settop');
      assert.equal(res.status, 200);
      const tokens = (await res.json()) as Record<string, unknown>;
      assert.equal(tokens.scope, 'orders:read');
      assert.equal(tokens.refresh_token, undefined);
      assert.equal(tokens.id_token, undefined);
    });
  });
}
