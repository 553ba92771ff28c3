import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { backends, type Backend, type TestDatabase } from './support/backends.ts';
import { basic, postForm, type Running } from './helpers.ts';
import { Agent, alice, authorize, pkce, startOidcServer, users } from './oidc-helpers.ts';
import { createInitialAccessToken } from '../src/engine/registration/index.ts';

/**
 * Issue 14 item 4: dynamic client registration (RFC 7591) and management (RFC 7592) at the HTTP surface,
 * on SQLite and PostgreSQL (SECURITY-CHECKLIST M1, A5): the initial access token gate, the metadata
 * matrix (`invalid_client_metadata` / `invalid_redirect_uri`, §3.2.2), one client's registration token
 * against another client, the hourly per-source limit, disabled and deleted clients getting no tokens.
 */
const MCP = 'https://mcp.example/mcp';
const policy = {
  enabled: true,
  grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] as ('authorization_code' | 'refresh_token' | 'client_credentials')[],
  scopes: ['openid', 'profile', 'mcp:tools'],
  resources: [MCP],
  maxClientsPerIpPerHour: 1000,
};

type Json = Record<string, unknown>;

function suite(backend: Backend): void {
  let tdb: TestDatabase;
  let s: Running;
  let initial: string;

  before(async () => {
    tdb = await backend.create();
    s = await startOidcServer({ databaseUrl: tdb.url, registration: policy, users });
    const now = Math.floor(Date.now() / 1000);
    initial = (await createInitialAccessToken(s.tessera.ctx.stores.registrations, { label: 'tests', uses: 1000, ttl: 3600, now })).token;
  });
  after(async () => {
    await s?.dispose();
    await tdb?.drop();
  });

  const register = (body: unknown, token: string | null = initial, type = 'application/json'): Promise<Response> =>
    fetch(`${s.url}/register`, {
      method: 'POST',
      headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const manage = (uri: string, token: string, method = 'GET', body?: unknown): Promise<Response> =>
    fetch(uri, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });

  async function assertError(res: Response, status: number, code: string): Promise<void> {
    const text = await res.text();
    assert.equal(res.status, status, text);
    assert.equal((JSON.parse(text) as Json).error, code, text);
    assert.equal(res.headers.get('cache-control'), 'no-store');
  }

  const web = { client_name: 'Web tool', redirect_uris: ['https://tool.example/cb'], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], scope: 'openid mcp:tools' };
  const native = { client_name: 'Native agent', redirect_uris: ['http://127.0.0.1/callback', 'com.example.agent:/cb'], token_endpoint_auth_method: 'none', scope: 'openid mcp:tools' };

  async function registered(body: Json = web): Promise<Json> {
    const res = await register(body);
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal(res.headers.get('cache-control'), 'no-store');
    return (await res.json()) as Json;
  }

  test('discovery names the registration endpoint and the policy scopes', async () => {
    const meta = (await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json()) as Json;
    assert.equal(meta.registration_endpoint, `${s.url}/register`);
    assert.ok((meta.scopes_supported as string[]).includes('mcp:tools'));
  });

  test('gated: no, a malformed, or an unknown initial access token → 401 invalid_token with a Bearer challenge', async () => {
    for (const token of [null, 'not a token', 'A'.repeat(43)]) {
      const res = await register(web, token);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]+", error="invalid_token"/);
      await assertError(res, 401, 'invalid_token');
    }
  });

  test('an initial access token for one registration works once', async () => {
    const now = Math.floor(Date.now() / 1000);
    const once = (await createInitialAccessToken(s.tessera.ctx.stores.registrations, { label: 'once', uses: 1, ttl: 3600, now })).token;
    assert.equal((await register(native, once)).status, 201);
    await assertError(await register(native, once), 401, 'invalid_token');
    const expired = (await createInitialAccessToken(s.tessera.ctx.stores.registrations, { label: 'old', uses: 5, ttl: 60, now: now - 120 })).token;
    await assertError(await register(native, expired), 401, 'invalid_token');
  });

  const badRedirects: [string, string[]][] = [
    ['plain http to a remote host', ['http://tool.example/cb']],
    ['a fragment', ['https://tool.example/cb#x']],
    ['a wildcard', ['https://*.tool.example/cb']],
    ['javascript:', ['javascript:alert(1)']],
    ['data:', ['data:text/html,hi']],
    ['a private-use scheme without a dot (RFC 8252 §7.1)', ['myapp:/cb']],
    ['a relative URI', ['/cb']],
    ['none at all for the code flow', []],
  ];
  for (const [name, uris] of badRedirects) {
    test(`redirect URI with ${name} → invalid_redirect_uri`, async () => {
      await assertError(await register({ ...native, redirect_uris: uris }), 400, 'invalid_redirect_uri');
    });
  }

  const badMetadata: [string, unknown, string?][] = [
    ['not JSON', '{"redirect_uris":', 'application/json'],
    ['a form body', 'redirect_uris=https://tool.example/cb', 'application/x-www-form-urlencoded'],
    ['a JSON array', [web]],
    ['redirect_uris not an array', { ...web, redirect_uris: 'https://tool.example/cb' }],
    ['the password grant', { ...web, grant_types: ['password'] }],
    ['the implicit response type', { ...web, response_types: ['token'] }],
    ['response_types without the code grant', { ...web, grant_types: ['client_credentials'], response_types: ['code'] }],
    ['client_credentials for a public client', { ...native, grant_types: ['client_credentials'] }],
    ['a scope outside the policy', { ...web, scope: 'openid admin' }],
    ['an auth method outside the policy', { ...web, token_endpoint_auth_method: 'private_key_jwt' }],
    ['an unknown auth method', { ...web, token_endpoint_auth_method: 'magic' }],
    ['a client name with a control character', { ...web, client_name: 'a\u0000b' }],
    ['a scope that is not a string', { ...web, scope: ['openid'] }],
  ];
  for (const [name, body, type] of badMetadata) {
    test(`${name} → invalid_client_metadata`, async () => {
      await assertError(await register(body, initial, type), 400, 'invalid_client_metadata');
    });
  }

  test('a confidential client: 201 with secret, registration token and client URI; unknown metadata ignored', async () => {
    const info = await registered({ ...web, software_statement_unknown_field: 'x', logo_uri: 'https://tool.example/logo.png' });
    assert.match(info.client_id as string, /^dcr_[A-Za-z0-9_-]{22}$/);
    assert.match(info.client_secret as string, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(info.client_secret_expires_at, 0);
    assert.equal(info.registration_client_uri, `${s.url}/register/${info.client_id as string}`);
    assert.match(info.registration_access_token as string, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(
      { name: info.client_name, uris: info.redirect_uris, grants: info.grant_types, rt: info.response_types, method: info.token_endpoint_auth_method, scope: info.scope },
      { name: 'Web tool', uris: web.redirect_uris, grants: web.grant_types, rt: ['code'], method: 'client_secret_basic', scope: 'openid mcp:tools' },
    );
    assert.equal(info.logo_uri, undefined, 'only what is stored is echoed');
    const stored = await s.tessera.ctx.stores.clients.get(info.client_id as string);
    assert.equal(stored?.source, 'registration');
    assert.notEqual(stored?.secretHash, info.client_secret, 'the secret is stored hashed');
    const reg = await s.tessera.ctx.stores.registrations.get(info.client_id as string);
    assert.notEqual(reg?.tokenHash, info.registration_access_token, 'the registration token is stored hashed');
  });

  test('the registered client gets a token for the policy resource only (RFC 8707 aud), and with defaults', async () => {
    const info = await registered();
    const auth = { authorization: basic(info.client_id as string, info.client_secret as string) };
    const ok = await postForm(`${s.url}/token`, { grant_type: 'client_credentials', scope: 'mcp:tools', resource: MCP }, auth);
    assert.equal(ok.status, 200, await ok.clone().text());
    const aud = decodeJwt(((await ok.json()) as { access_token: string }).access_token).aud;
    assert.deepEqual(Array.isArray(aud) ? aud : [aud], [MCP]);
    await assertError(await postForm(`${s.url}/token`, { grant_type: 'client_credentials', scope: 'mcp:tools', resource: 'https://orders.example' }, auth), 400, 'invalid_target');
    await assertError(await postForm(`${s.url}/token`, { grant_type: 'client_credentials', scope: 'orders:read' }, auth), 400, 'invalid_scope');
  });

  test('a native public client: code + PKCE with resource, consent asked (never first-party)', async () => {
    const info = await registered(native);
    assert.equal(info.client_secret, undefined);
    assert.equal(info.token_endpoint_auth_method, 'none');
    const { verifier, challenge } = pkce();
    const params = new URLSearchParams({
      response_type: 'code', client_id: info.client_id as string, redirect_uri: 'http://127.0.0.1:49152/callback', scope: 'openid mcp:tools',
      state: 'st', code_challenge: challenge, code_challenge_method: 'S256', resource: MCP,
    });
    const agent = new Agent(s.url);
    let sawConsent = false;
    const orig = agent.get.bind(agent);
    agent.get = async (path, headers) => ((sawConsent ||= path.startsWith('/consent')), orig(path, headers));
    const back = await authorize(agent, params, alice);
    assert.ok(sawConsent, 'the consent page was shown');
    const code = back.searchParams.get('code')!;
    const res = await postForm(`${s.url}/token`, { grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:49152/callback', code_verifier: verifier, client_id: info.client_id as string, resource: MCP });
    assert.equal(res.status, 200, await res.clone().text());
    // aud names the requested resource (plus the issuer, for /userinfo, because openid was granted).
    // RFC 8707: with `resource`, aud is exactly the requested resource (the issuer is not added for openid).
    assert.deepEqual(decodeJwt(((await res.json()) as { access_token: string }).access_token).aud, MCP);
  });

  test('RFC 7592 read: the token works once per read (each answer carries a new one); the old one is refused', async () => {
    const info = await registered(native);
    const uri = info.registration_client_uri as string;
    const r1 = await manage(uri, info.registration_access_token as string);
    assert.equal(r1.status, 200);
    const read = (await r1.json()) as Json;
    assert.equal(read.client_id, info.client_id);
    assert.deepEqual(read.redirect_uris, native.redirect_uris);
    assert.notEqual(read.registration_access_token, info.registration_access_token);
    await assertError(await manage(uri, info.registration_access_token as string), 401, 'invalid_token');
    assert.equal((await manage(uri, read.registration_access_token as string)).status, 200);
  });

  test('a registration token of client A cannot read, change or delete client B', async () => {
    const a = await registered(native);
    const b = await registered(native);
    const bUri = b.registration_client_uri as string;
    const aToken = a.registration_access_token as string;
    await assertError(await manage(bUri, aToken), 401, 'invalid_token');
    await assertError(await manage(bUri, aToken, 'PUT', { ...native, client_id: b.client_id, redirect_uris: ['https://evil.example/cb'] }), 401, 'invalid_token');
    await assertError(await manage(bUri, aToken, 'DELETE'), 401, 'invalid_token');
    await assertError(await manage(`${s.url}/register/no-such-client`, aToken), 401, 'invalid_token');
    const still = await s.tessera.ctx.stores.clients.get(b.client_id as string);
    assert.deepEqual(still?.redirectUris, native.redirect_uris);
    // A's own token was not spent by those attempts.
    assert.equal((await manage(a.registration_client_uri as string, aToken)).status, 200);
  });

  test('RFC 7592 update: full replacement validated by the same policy; client_id and client_secret must match', async () => {
    const info = await registered();
    const uri = info.registration_client_uri as string;
    let token = info.registration_access_token as string;
    await assertError(await manage(uri, token, 'PUT', { ...web, client_id: 'someone-else' }), 400, 'invalid_request');
    await assertError(await manage(uri, token, 'PUT', { ...web, client_id: info.client_id, client_secret: 'wrong' }), 400, 'invalid_client_metadata');
    await assertError(await manage(uri, token, 'PUT', { ...web, client_id: info.client_id, redirect_uris: ['http://tool.example/cb'] }), 400, 'invalid_redirect_uri');
    const res = await manage(uri, token, 'PUT', { client_id: info.client_id, client_secret: info.client_secret, registration_client_uri: uri, redirect_uris: ['https://tool.example/new'], client_name: 'Renamed' });
    assert.equal(res.status, 200, await res.clone().text());
    const upd = (await res.json()) as Json;
    token = upd.registration_access_token as string;
    assert.deepEqual(upd.redirect_uris, ['https://tool.example/new']);
    assert.deepEqual(upd.grant_types, ['authorization_code'], 'omitted fields take their defaults');
    assert.equal(upd.client_secret, undefined, 'the secret is kept, not reissued');
    assert.equal(upd.client_name, 'Renamed');
    await assertError(await manage(uri, token, 'PUT', 'not json' as unknown as Json), 400, 'invalid_client_metadata');
  });

  test('deleted clients get no tokens and their registration token is dead', async () => {
    const info = await registered();
    const auth = { authorization: basic(info.client_id as string, info.client_secret as string) };
    assert.equal((await postForm(`${s.url}/token`, { grant_type: 'client_credentials', resource: MCP }, auth)).status, 200);
    const del = await manage(info.registration_client_uri as string, info.registration_access_token as string, 'DELETE');
    assert.equal(del.status, 204);
    await assertError(await postForm(`${s.url}/token`, { grant_type: 'client_credentials', resource: MCP }, auth), 401, 'invalid_client');
    await assertError(await manage(info.registration_client_uri as string, info.registration_access_token as string), 401, 'invalid_token');
    const page = await fetch(`${s.url}/authorize?${new URLSearchParams({ response_type: 'code', client_id: info.client_id as string, redirect_uri: web.redirect_uris[0]!, code_challenge: pkce().challenge, code_challenge_method: 'S256' })}`, { redirect: 'manual' });
    assert.equal(page.status, 400);
    assert.equal(page.headers.get('location'), null);
  });

  test('a disabled client is refused at /token and /authorize; enabled again, it works', async () => {
    const info = await registered();
    const id = info.client_id as string;
    const auth = { authorization: basic(id, info.client_secret as string) };
    const c = (await s.tessera.ctx.stores.clients.get(id))!;
    await s.tessera.ctx.stores.clients.upsert({ ...c, disabled: true });
    await assertError(await postForm(`${s.url}/token`, { grant_type: 'client_credentials', resource: MCP }, auth), 401, 'invalid_client');
    const page = await fetch(`${s.url}/authorize?${new URLSearchParams({ response_type: 'code', client_id: id, redirect_uri: web.redirect_uris[0]!, code_challenge: pkce().challenge, code_challenge_method: 'S256' })}`, { redirect: 'manual' });
    assert.equal(page.status, 400);
    const { disabled: _d, ...enabled } = (await s.tessera.ctx.stores.clients.get(id))!;
    assert.equal(_d, true);
    await s.tessera.ctx.stores.clients.upsert(enabled);
    assert.equal((await postForm(`${s.url}/token`, { grant_type: 'client_credentials', resource: MCP }, auth)).status, 200);
  });
}

for (const backend of backends) describe(backend.name, () => suite(backend));

describe('open registration with a per-source hourly limit', () => {
  let s: Running;
  before(async () => {
    s = await startOidcServer({ registration: { enabled: true, open: true, maxClientsPerIpPerHour: 2 } });
  });
  after(async () => s?.dispose());

  test('no initial token needed; the third registration from one source in an hour → 429, deleting does not reset it', async () => {
    const body = JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' });
    const post = () => fetch(`${s.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const first = (await (await post()).json()) as Json;
    assert.equal((await post()).status, 201);
    const del = await fetch(first.registration_client_uri as string, { method: 'DELETE', headers: { authorization: `Bearer ${first.registration_access_token as string}` } });
    assert.equal(del.status, 204);
    const third = await post();
    assert.equal(third.status, 429);
    assert.ok(Number(third.headers.get('retry-after')) > 0);
  });

  test('registration off (the default): no endpoint, nothing in discovery', async () => {
    const off = await startOidcServer();
    try {
      const meta = (await (await fetch(`${off.url}/.well-known/openid-configuration`)).json()) as Json;
      assert.equal(meta.registration_endpoint, undefined);
      assert.equal((await fetch(`${off.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 404);
    } finally {
      await off.dispose();
    }
  });
});
