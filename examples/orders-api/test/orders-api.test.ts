import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { generate } from 'otplib';
import { basic, postForm, SERVICE_SECRET, type Running } from '../../../packages/server/test/helpers.ts';
import { Agent, alice, authorize, authParams, hidden, location, pkce, REDIRECT, spaClient, startOidcServer, tokenRequest, webClient } from '../../../packages/server/test/oidc-helpers.ts';
import { serviceClient } from '../../../packages/server/test/helpers.ts';
import { buildOrdersApi } from '../src/app.ts';

const AUDIENCE = 'https://orders.example';
const admin = { username: 'admin', password: 'admin-password-1' };
const RS_SECRET = 'orders-api-rs-secret-0123456789';
/** The API's own client at Tessera: it may read the revocation feed (permission `introspect`). */
const ordersRs = { id: 'orders-api', secret: RS_SECRET, grants: ['client_credentials'], scopes: [], audience: AUDIENCE, permissions: ['introspect' as const] };

describe('orders API: scopes and roles enforced with Tessera tokens', () => {
  let tessera: Running;
  let api: FastifyInstance;
  let apiUrl: string;
  const dir = mkdtempSync(join(tmpdir(), 'orders-api-'));

  before(async () => {
    tessera = await startOidcServer({ clients: [serviceClient, webClient, spaClient, ordersRs] });
    api = await buildOrdersApi({
      issuer: tessera.url,
      audience: AUDIENCE,
      dbFile: join(dir, 'orders.db'),
      jwksCooldown: 1,
      revocation: { feed: { clientId: 'orders-api', clientSecret: RS_SECRET } },
    });
    apiUrl = await api.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await api?.close();
    await tessera?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serviceToken(scope: string): Promise<string> {
    const res = await postForm(`${tessera.url}/token`, { grant_type: 'client_credentials', scope }, { authorization: basic('svc', SERVICE_SECRET) });
    assert.equal(res.status, 200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  async function userToken(login: { username: string; password: string }): Promise<string> {
    const { verifier, challenge } = pkce();
    const agent = new Agent(tessera.url);
    const redirect = await authorize(agent, authParams(challenge, { scope: 'openid orders:read' }), login);
    const code = redirect.searchParams.get('code');
    assert.ok(code, `no code in ${redirect}`);
    const res = await tokenRequest(tessera.url, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
    assert.equal(res.status, 200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  const call = (method: string, path: string, token?: string, body?: unknown) =>
    fetch(`${apiUrl}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  test('no token: 401 with a Bearer challenge and no error code', async () => {
    const res = await call('GET', '/orders');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="orders"');
  });

  test('a forged token: 401 invalid_token', async () => {
    const good = await serviceToken('orders:read');
    const [h, p] = good.split('.');
    const res = await call('GET', '/orders', `${h}.${p}.${'A'.repeat(342)}`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  test('orders:read lists and reads; creating needs orders:write (403 insufficient_scope)', async () => {
    const read = await serviceToken('orders:read');
    const list = await call('GET', '/orders', read);
    assert.equal(list.status, 200);
    const { orders } = (await list.json()) as { orders: { id: number }[] };
    assert.ok(orders.length >= 3);
    assert.equal((await call('GET', `/orders/${orders[0]!.id}`, read)).status, 200);
    assert.equal((await call('GET', '/orders/999999', read)).status, 404);
    const denied = await call('POST', '/orders', read, { item: 'Tea', quantity: 1 });
    assert.equal(denied.status, 403);
    assert.match(denied.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="orders:write"/);
    const write = await serviceToken('orders:write');
    const created = await call('POST', '/orders', write, { item: 'Tea', quantity: 1 });
    assert.equal(created.status, 201);
    assert.equal(((await created.json()) as { owner: string }).owner, 'svc');
    assert.equal((await call('POST', '/orders', write, { item: '', quantity: -1 })).status, 400);
  });

  test('users read, only admins delete', async () => {
    const aliceToken = await userToken(alice);
    const adminToken = await userToken(admin);
    const { orders } = (await (await call('GET', '/orders', aliceToken)).json()) as { orders: { id: number }[] };
    const id = orders.at(-1)!.id;
    const forbidden = await call('DELETE', `/orders/${id}`, aliceToken);
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    assert.equal((await call('DELETE', `/orders/${id}`, await serviceToken('orders:read orders:write'))).status, 403, 'a client token has no roles');
    // RFC 9470 step-up: the admin's password-only token is not enough to delete.
    const weak = await call('DELETE', `/orders/${id}`, adminToken);
    assert.equal(weak.status, 401);
    assert.equal(weak.headers.get('www-authenticate'), 'Bearer realm="orders", error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="urn:tessera:acr:mfa"');
    assert.equal(((await weak.json()) as { error: string }).error, 'insufficient_user_authentication');
    assert.equal((await call('GET', `/orders/${id}`, aliceToken)).status, 200, 'nothing was deleted');
    // The client re-authorizes with the challenge's acr_values: Tessera asks the admin to set up TOTP
    // (computed here from the secret with otplib), then the same user's new token may delete.
    const strong = await steppedUpToken(admin, 'urn:tessera:acr:mfa');
    assert.equal(decodeJwt(strong).sub, decodeJwt(adminToken).sub, 'the same user');
    assert.deepEqual(decodeJwt(strong).amr, ['pwd', 'otp', 'mfa']);
    assert.equal((await call('DELETE', `/orders/${id}`, strong)).status, 204);
    assert.equal((await call('GET', `/orders/${id}`, aliceToken)).status, 404);
  });

  /** Signs in with `acr_values`, enrols TOTP when Tessera asks, and redeems the code. */
  async function steppedUpToken(login: { username: string; password: string }, acr: string): Promise<string> {
    const { verifier, challenge } = pkce();
    const agent = new Agent(tessera.url);
    let res = await agent.get(`/authorize?${authParams(challenge, { scope: 'openid orders:read', acr_values: acr })}`);
    const loginPage = await (await agent.get(location(res))).text();
    res = await agent.post('/login', { iid: hidden(loginPage, 'iid')!, csrf: hidden(loginPage, 'csrf')!, ...login });
    while (res.status === 303 && location(res).startsWith('/authorize/')) res = await agent.get(location(res));
    assert.match(location(res), /^\/mfa\/totp\/setup\?iid=/, 'Tessera asks for a second factor');
    const setup = await (await agent.get(location(res))).text();
    const secret = /<code id="secret">([A-Z2-7]+)<\/code>/.exec(setup)![1]!;
    const confirmed = await agent.post('/mfa/totp/setup', { csrf: hidden(setup, 'csrf')!, iid: hidden(setup, 'iid')!, code: await generate({ secret, epoch: Math.floor(Date.now() / 1000) }) });
    assert.equal(confirmed.status, 200);
    const next = /<a href="([^"]+)">Continue/.exec(await confirmed.text())![1]!.replace(/&amp;/g, '&');
    res = await agent.get(next);
    while (res.status === 303 && location(res).startsWith('/')) {
      if (location(res).startsWith('/consent')) {
        const page = await (await agent.get(location(res))).text();
        res = await agent.post('/consent', { iid: hidden(page, 'iid')!, csrf: hidden(page, 'csrf')!, decision: 'allow' });
      } else res = await agent.get(location(res));
    }
    const code = new URL(location(res)).searchParams.get('code')!;
    const tok = await tokenRequest(tessera.url, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
    assert.equal(tok.status, 200);
    return ((await tok.json()) as { access_token: string }).access_token;
  }

  test('a key rotation at the server is picked up without restarting the API', async () => {
    const before = await serviceToken('orders:read');
    assert.equal((await call('GET', '/orders', before)).status, 200);
    // The usual rotation activates the published `next` key, which the API's cached JWKS already holds.
    await tessera.tessera.ctx.keyring.rotate();
    const next = await serviceToken('orders:read');
    assert.equal((await call('GET', '/orders', next)).status, 200);
    // A second one activates a key created after the API's last fetch: an unknown kid, so one refetch
    // (allowed once the API's 1 s refetch cooldown has passed).
    await new Promise((r) => setTimeout(r, 1100));
    await tessera.tessera.ctx.keyring.rotate();
    const after = await serviceToken('orders:read');
    assert.notEqual(decodeProtectedHeader(after).kid, decodeProtectedHeader(before).kid);
    assert.equal((await call('GET', '/orders', after)).status, 200);
    assert.equal((await call('GET', '/orders', before)).status, 200, 'tokens of the retired key stay valid');
  });

  test('a revoked access token is refused within 1 s through the revocation feed', async () => {
    const token = await serviceToken('orders:read');
    assert.equal((await call('GET', '/orders', token)).status, 200, 'accepted (and cached) before the revocation');
    const revoked = await postForm(`${tessera.url}/revoke`, { token }, { authorization: basic('svc', SERVICE_SECRET) });
    assert.equal(revoked.status, 200);
    const started = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - started < 1000) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await call('GET', '/orders', token)).status;
    }
    assert.equal(status, 401, `still accepted ${Date.now() - started} ms after the revocation`);
    assert.equal((await call('GET', '/orders', await serviceToken('orders:read'))).status, 200, 'other tokens unaffected');
  });
});
