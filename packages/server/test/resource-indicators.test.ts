import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { basic, postForm, type Running } from './helpers.ts';
import { Agent, alice, authorize, pkce, REDIRECT, startOidcServer, tokenRequest, users } from './oidc-helpers.ts';
import { backends, type Backend, type TestDatabase } from './support/backends.ts';
import { loadConfig } from '../src/index.ts';

/**
 * Issue 14 item 2: RFC 8707 resource indicators at /authorize, /par and /token for every grant and on
 * refresh, with registered resources (`resourceServers`) and their scopes, and `requireResourceIndicator`.
 */
const ORDERS = 'https://orders.example';
const BILLING = 'https://billing.example';
const REPORTS = 'https://reports.example';
const SECRET = 'resource-test-secret-0123456789';

const resourceServers = [
  { resource: ORDERS, scopes: ['orders:read', 'orders:write'] },
  { resource: BILLING, scopes: ['billing:read'] },
  { resource: REPORTS },
];
const svc = {
  id: 'svc', type: 'confidential' as const, secret: SECRET, grants: ['client_credentials'],
  scopes: ['orders:read', 'orders:write', 'billing:read'], audience: ORDERS, resources: [BILLING],
};
const app = {
  id: 'app', type: 'confidential' as const, secret: SECRET, grants: ['authorization_code', 'refresh_token'], firstParty: true,
  scopes: ['openid', 'profile', 'orders:read', 'billing:read'], resources: [ORDERS, BILLING], redirectUris: [REDIRECT],
};
const legacy = { id: 'legacy', type: 'confidential' as const, secret: SECRET, grants: ['password'], scopes: ['orders:read'], resources: [ORDERS] };

type Body = Record<string, string | number>;
async function ok(res: Response): Promise<Body> {
  const body = await res.json() as Body;
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}
async function refused(res: Response, status: number, error: string): Promise<void> {
  const body = await res.json() as Body;
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.error, error);
}
function aud(token: string | number | undefined): unknown {
  return decodeJwt(String(token)).aud;
}
function cc(s: Running, form: string): Promise<Response> {
  return postForm(`${s.url}/token`, `grant_type=client_credentials&${form}`, { authorization: basic('svc', SECRET) });
}

function suite(backend: Backend) {
  let s: Running;
  let tdb: TestDatabase;
  before(async () => {
    tdb = await backend.create();
    s = await startOidcServer({ databaseUrl: tdb.url, clients: [svc, app, legacy], users, resourceServers });
  });
  after(async () => {
    await s?.dispose();
    await tdb?.drop();
  });

  async function code(resources: string[], scope: string): Promise<{ code: string; verifier: string }> {
    const { verifier, challenge } = pkce();
    const p = new URLSearchParams({ response_type: 'code', client_id: 'app', redirect_uri: REDIRECT, scope, state: 's', code_challenge: challenge, code_challenge_method: 'S256' });
    for (const r of resources) p.append('resource', r);
    const cb = await authorize(new Agent(s.url), p, alice);
    assert.equal(cb.searchParams.get('error'), null, cb.searchParams.get('error_description') ?? '');
    return { code: cb.searchParams.get('code')!, verifier };
  }
  function redeem(c: { code: string; verifier: string }, resources: string[] = []): Promise<Response> {
    const form = new URLSearchParams({ grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier });
    for (const r of resources) form.append('resource', r);
    return postForm(`${s.url}/token`, form.toString(), { authorization: basic('app', SECRET) });
  }
  function refresh(rt: string | number, resource?: string, scope?: string): Promise<Response> {
    return tokenRequest(s.url, { grant_type: 'refresh_token', refresh_token: String(rt), ...(resource ? { resource } : {}), ...(scope ? { scope } : {}) }, SECRET, 'app');
  }

  describe('client_credentials', () => {
    test('aud is exactly the requested resource; the default scopes narrow to its scopes', async () => {
      const body = await ok(await cc(s, `resource=${encodeURIComponent(BILLING)}`));
      assert.equal(aud(body.access_token), BILLING);
      assert.equal(body.scope, 'billing:read');
    });
    test('a scope of another resource → invalid_scope; a resource the client may not use → invalid_target', async () => {
      await refused(await cc(s, `resource=${encodeURIComponent(BILLING)}&scope=orders:read`), 400, 'invalid_scope');
      await refused(await cc(s, `resource=${encodeURIComponent(REPORTS)}`), 400, 'invalid_target');
      await refused(await cc(s, 'resource=https%3A%2F%2Fevil.example'), 400, 'invalid_target');
    });
    test('two resources: both in aud, scopes of either', async () => {
      const body = await ok(await cc(s, `resource=${encodeURIComponent(ORDERS)}&resource=${encodeURIComponent(BILLING)}&scope=orders:read%20billing:read`));
      assert.deepEqual(aud(body.access_token), [ORDERS, BILLING]);
    });
  });

  describe('password', () => {
    test('resource sets aud; another resource is invalid_target', async () => {
      const form = { grant_type: 'password', username: alice.username, password: alice.password };
      const body = await ok(await tokenRequest(s.url, { ...form, resource: ORDERS }, SECRET, 'legacy'));
      assert.equal(aud(body.access_token), ORDERS);
      await refused(await tokenRequest(s.url, { ...form, resource: BILLING }, SECRET, 'legacy'), 400, 'invalid_target');
    });
  });

  describe('authorization code and refresh', () => {
    test('the grant holds both resources; the token request narrows to one, aud exactly it, its scopes only', async () => {
      const c = await code([ORDERS, BILLING], 'openid orders:read billing:read');
      const body = await ok(await redeem(c, [ORDERS]));
      assert.equal(aud(body.access_token), ORDERS, 'no issuer added: the token is for the resource');
      assert.equal(body.scope, 'openid orders:read');
      assert.ok(body.id_token);

      // RFC 8707 §2.2: refresh down-scopes to any resource of the grant.
      const toBilling = await ok(await refresh(body.refresh_token!, BILLING));
      assert.equal(aud(toBilling.access_token), BILLING);
      assert.equal(decodeJwt(String(toBilling.access_token)).scope, 'openid billing:read');
      const both = await ok(await refresh(toBilling.refresh_token!));
      assert.deepEqual(aud(both.access_token), [ORDERS, BILLING]);
      await refused(await refresh(both.refresh_token!, REPORTS), 400, 'invalid_target');
      await refused(await refresh(both.refresh_token!, BILLING, 'orders:read'), 400, 'invalid_scope');
      // Refused requests did not rotate the token.
      assert.equal(aud((await ok(await refresh(both.refresh_token!, ORDERS))).access_token), ORDERS);
    });
    test('a token request may not name a resource outside the authorization request', async () => {
      const c = await code([ORDERS], 'openid orders:read');
      await refused(await redeem(c, [BILLING]), 400, 'invalid_target');
      assert.equal(aud((await ok(await redeem(c))).access_token), ORDERS, 'the refused request did not burn the code');
    });
    test('at /authorize: a scope of another resource is invalid_scope; an unusable resource invalid_target', async () => {
      for (const [resource, scope, error] of [[BILLING, 'orders:read', 'invalid_scope'], [REPORTS, 'openid', 'invalid_target']] as const) {
        const { challenge } = pkce();
        const p = new URLSearchParams({ response_type: 'code', client_id: 'app', redirect_uri: REDIRECT, scope, state: 's', code_challenge: challenge, code_challenge_method: 'S256', resource });
        const res = await fetch(`${s.url}/authorize?${p}`, { redirect: 'manual' });
        assert.equal(res.status, 303);
        assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), error);
      }
    });
    test('at /par: the same checks, as JSON', async () => {
      const { challenge } = pkce();
      const form = { response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' };
      await refused(await postForm(`${s.url}/par`, { ...form, resource: REPORTS }, { authorization: basic('app', SECRET) }), 400, 'invalid_target');
      await refused(await postForm(`${s.url}/par`, { ...form, scope: 'orders:read', resource: BILLING }, { authorization: basic('app', SECRET) }), 400, 'invalid_scope');
      assert.equal((await postForm(`${s.url}/par`, { ...form, resource: BILLING }, { authorization: basic('app', SECRET) })).status, 201);
    });
  });
}

for (const backend of backends) describe(backend.name, () => suite(backend));

describe('requireResourceIndicator', () => {
  let s: Running;
  before(async () => {
    s = await startOidcServer({ clients: [svc, app], users, resourceServers, requireResourceIndicator: true });
  });
  after(() => s?.dispose());

  test('/token without resource is invalid_request; with it, a token', async () => {
    await refused(await cc(s, 'scope=orders:read'), 400, 'invalid_request');
    assert.equal(aud((await ok(await cc(s, `resource=${encodeURIComponent(ORDERS)}`))).access_token), ORDERS);
  });
  test('/authorize and /par without resource are refused; the whole flow with it works', async () => {
    const { verifier, challenge } = pkce();
    const p = new URLSearchParams({ response_type: 'code', client_id: 'app', redirect_uri: REDIRECT, scope: 'openid orders:read', state: 's', code_challenge: challenge, code_challenge_method: 'S256' });
    const res = await fetch(`${s.url}/authorize?${p}`, { redirect: 'manual' });
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'invalid_request');
    await refused(await postForm(`${s.url}/par`, Object.fromEntries(p), { authorization: basic('app', SECRET) }), 400, 'invalid_request');

    p.append('resource', ORDERS);
    const cb = await authorize(new Agent(s.url), p, alice);
    const form = { grant_type: 'authorization_code', code: cb.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier };
    await refused(await tokenRequest(s.url, form, SECRET, 'app'), 400, 'invalid_request');
    const body = await ok(await tokenRequest(s.url, { ...form, resource: ORDERS }, SECRET, 'app'));
    assert.equal(aud(body.access_token), ORDERS);
    await refused(await tokenRequest(s.url, { grant_type: 'refresh_token', refresh_token: String(body.refresh_token) }, SECRET, 'app'), 400, 'invalid_request');
    assert.equal((await tokenRequest(s.url, { grant_type: 'refresh_token', refresh_token: String(body.refresh_token), resource: ORDERS }, SECRET, 'app')).status, 200);
  });
});

describe('registered resources in the config', () => {
  test('a client resource that is not registered stops the start', () => {
    assert.throws(() => loadConfig({ env: {}, overrides: { resourceServers, clients: [{ ...svc, resources: ['https://elsewhere.example'] }] } }), /resource https:\/\/elsewhere\.example is not registered in resourceServers/);
    assert.throws(() => loadConfig({ env: {}, overrides: { resourceServers: [{ resource: ORDERS }, { resource: ORDERS }], clients: [] } }), /registered twice/);
  });
});
