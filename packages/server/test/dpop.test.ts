// RFC 9449 DPoP at the authorization server over real HTTP: proofs at /token bind what is issued,
// dpop_jkt binds the code, public clients' refresh tokens are bound, /userinfo takes the DPoP scheme,
// /introspect reports cnf; and the server-side attack matrix, each refused with its status and code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, postForm, serviceClient, SERVICE_SECRET, startServer, type Running } from './helpers.ts';
import { Agent, alice, authorize, pkce, users } from './oidc-helpers.ts';
import { claimsOf, dpopKey, hs256Proof, proof, unsignedProof, type DpopKey } from './support/dpop.ts';

const SPA_REDIRECT = 'https://spa.example/callback';
const WEB_REDIRECT = 'https://web.example/cb';
const BOUND_SECRET = 'bound-client-secret-0123456789ab';
const WEB_SECRET = 'dpop-web-secret-0123456789abcdef';

const clients = [
  serviceClient,
  { id: 'dpop-spa', type: 'public' as const, grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'profile'], redirectUris: [SPA_REDIRECT], firstParty: true },
  { id: 'dpop-web', secret: WEB_SECRET, grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'profile'], redirectUris: [WEB_REDIRECT], firstParty: true },
  { id: 'bound-svc', secret: BOUND_SECRET, grants: ['client_credentials'], scopes: ['orders:read'], audience: 'https://orders.example', dpopBoundAccessTokens: true },
];

let s: Running;
let key: DpopKey;
let other: DpopKey;
before(async () => {
  s = await startServer({ clients, users });
  key = await dpopKey('ES256');
  other = await dpopKey('EdDSA');
});
after(() => s.dispose());

const tokenUrl = () => `${s.url}/token`;
const cc = (headers: Record<string, string>, id = serviceClient.id, secret = SERVICE_SECRET) =>
  postForm(tokenUrl(), { grant_type: 'client_credentials' }, { authorization: basic(id, secret), ...headers });

async function refused(res: Response, status: number, error: string): Promise<void> {
  const body = await res.json() as { error: string };
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.error, error);
  assert.equal(res.headers.get('cache-control'), 'no-store');
}

/** Code flow for `clientId` with PKCE (+ dpop_jkt); returns the code and verifier. */
async function code(clientId: string, redirect: string, dpopJkt?: string): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  const p = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirect, scope: 'openid profile', state: 's', code_challenge: challenge, code_challenge_method: 'S256' });
  if (dpopJkt) p.set('dpop_jkt', dpopJkt);
  const cb = await authorize(new Agent(s.url), p, alice);
  return { code: cb.searchParams.get('code')!, verifier };
}

describe('DPoP at /token', () => {
  test('metadata lists the proof algorithms (RFC 9449 §5.1)', async () => {
    const m = await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json() as Record<string, unknown>;
    assert.deepEqual(m.dpop_signing_alg_values_supported, ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256']);
  });

  test('client credentials with a proof → token_type DPoP, cnf.jkt = the key thumbprint; introspection returns cnf', async () => {
    const res = await cc({ dpop: await proof(key, { htu: tokenUrl() }) });
    assert.equal(res.status, 200);
    const body = await res.json() as { access_token: string; token_type: string };
    assert.equal(body.token_type, 'DPoP');
    assert.deepEqual(claimsOf(body.access_token).cnf, { jkt: key.jkt });
    const intro = await postForm(`${s.url}/introspect`, { token: body.access_token }, { authorization: basic(serviceClient.id, SERVICE_SECRET) });
    const info = await intro.json() as Record<string, unknown>;
    assert.equal(info.active, true);
    assert.equal(info.token_type, 'DPoP');
    assert.deepEqual(info.cnf, { jkt: key.jkt });
    // Without a proof the same client still gets a bearer token (DPoP is the client's choice).
    const bearer = await (await cc({})).json() as { access_token: string; token_type: string };
    assert.equal(bearer.token_type, 'Bearer');
    assert.equal(claimsOf(bearer.access_token).cnf, undefined);
  });

  test('htu is compared after normalisation, without query or fragment (RFC 9449 §4.3)', async () => {
    const u = new URL(tokenUrl());
    const htu = `HTTP://${u.host.toUpperCase()}/%74oken?x=1#frag`;
    assert.equal((await cc({ dpop: await proof(key, { htu }) })).status, 200);
  });

  const attacks: Array<[string, () => Promise<Record<string, string>>]> = [
    ['wrong htm', async () => ({ dpop: await proof(key, { htu: tokenUrl(), htm: 'GET' }) })],
    ['wrong htu (another endpoint)', async () => ({ dpop: await proof(key, { htu: `${s.url}/introspect` }) })],
    ['wrong htu (another host)', async () => ({ dpop: await proof(key, { htu: 'https://evil.example/token' }) })],
    ['stale iat', async () => ({ dpop: await proof(key, { htu: tokenUrl(), iat: Math.floor(Date.now() / 1000) - 600 }) })],
    ['iat in the future', async () => ({ dpop: await proof(key, { htu: tokenUrl(), iat: Math.floor(Date.now() / 1000) + 600 }) })],
    ['private key in jwk', async () => ({ dpop: await proof(key, { htu: tokenUrl(), header: { jwk: key.privateJwk } }) })],
    ['alg none', async () => ({ dpop: unsignedProof(key, tokenUrl()) })],
    ['HS256', async () => ({ dpop: await hs256Proof(key, tokenUrl()) })],
    ['typ is not dpop+jwt', async () => ({ dpop: await proof(key, { htu: tokenUrl(), header: { typ: 'JWT' } }) })],
    ['no jwk', async () => ({ dpop: await proof(key, { htu: tokenUrl(), header: { jwk: undefined } }) })],
    ['jwk of another key than the signature', async () => ({ dpop: await proof(key, { htu: tokenUrl(), header: { jwk: other.publicJwk, alg: 'ES256' } }) })],
    ['garbage', async () => ({ dpop: 'not-a-jwt' })],
    ['empty header', async () => ({ dpop: '' })],
  ];
  for (const [name, headers] of attacks) {
    test(`refused: ${name} → 400 invalid_dpop_proof, nothing issued`, async () => {
      await refused(await cc(await headers()), 400, 'invalid_dpop_proof');
    });
  }

  test('refused: a proof replayed (same jti) → 400 invalid_dpop_proof', async () => {
    const p = await proof(key, { htu: tokenUrl() });
    assert.equal((await cc({ dpop: p })).status, 200);
    await refused(await cc({ dpop: p }), 400, 'invalid_dpop_proof');
  });

  test('dpopBoundAccessTokens: no bearer token for that client (RFC 9449 §5.2)', async () => {
    await refused(await cc({}, 'bound-svc', BOUND_SECRET), 400, 'invalid_dpop_proof');
    const ok = await cc({ dpop: await proof(key, { htu: tokenUrl() }) }, 'bound-svc', BOUND_SECRET);
    assert.equal(ok.status, 200);
    assert.equal((await ok.json() as { token_type: string }).token_type, 'DPoP');
  });
});

describe('DPoP with the code flow, refresh and /userinfo', () => {
  const redeem = async (c: { code: string; verifier: string }, k: DpopKey | undefined, clientId = 'dpop-spa', redirect = SPA_REDIRECT) => {
    const headers: Record<string, string> = k ? { dpop: await proof(k, { htu: tokenUrl() }) } : {};
    if (clientId === 'dpop-web') headers.authorization = basic('dpop-web', WEB_SECRET);
    const form: Record<string, string> = { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: redirect };
    if (clientId !== 'dpop-web') form.client_id = clientId;
    return postForm(tokenUrl(), form, headers);
  };
  const refresh = async (rt: string, k: DpopKey | undefined, clientId = 'dpop-spa') => {
    const headers: Record<string, string> = k ? { dpop: await proof(k, { htu: tokenUrl() }) } : {};
    if (clientId === 'dpop-web') headers.authorization = basic('dpop-web', WEB_SECRET);
    return postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: rt, ...(clientId === 'dpop-web' ? {} : { client_id: clientId }) }, headers);
  };
  const userinfo = async (token: string, headers: Record<string, string>) => fetch(`${s.url}/userinfo`, { headers: { authorization: `DPoP ${token}`, ...headers } });

  test('dpop_jkt binds the code: another key → invalid_grant, the code survives; the right key → DPoP tokens', async () => {
    const c = await code('dpop-spa', SPA_REDIRECT, key.jkt);
    await refused(await redeem(c, other), 400, 'invalid_grant');
    await refused(await redeem(c, undefined), 400, 'invalid_grant');
    const res = await redeem(c, key);
    assert.equal(res.status, 200);
    const t = await res.json() as { access_token: string; token_type: string; refresh_token: string };
    assert.equal(t.token_type, 'DPoP');
    assert.deepEqual(claimsOf(t.access_token).cnf, { jkt: key.jkt });
  });

  test('a malformed dpop_jkt is invalid_request at /authorize', async () => {
    const { challenge } = pkce();
    const p = new URLSearchParams({ response_type: 'code', client_id: 'dpop-spa', redirect_uri: SPA_REDIRECT, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', dpop_jkt: 'short' });
    const res = await new Agent(s.url).get(`/authorize?${p}`);
    assert.equal(res.status, 303);
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'invalid_request');
  });

  test('a public client\'s refresh token is bound: another key or no proof → invalid_grant; the same key works', async () => {
    const t = await (await redeem(await code('dpop-spa', SPA_REDIRECT), key)).json() as { refresh_token: string };
    await refused(await refresh(t.refresh_token, other), 400, 'invalid_grant');
    await refused(await refresh(t.refresh_token, undefined), 400, 'invalid_grant');
    const res = await refresh(t.refresh_token, key);
    assert.equal(res.status, 200);
    const next = await res.json() as { access_token: string; token_type: string; refresh_token: string };
    assert.equal(next.token_type, 'DPoP');
    assert.deepEqual(claimsOf(next.access_token).cnf, { jkt: key.jkt });
    // The family stays bound after rotation.
    await refused(await refresh(next.refresh_token, other), 400, 'invalid_grant');
  });

  test('a public client\'s unbound family is bound by its first DPoP refresh', async () => {
    const t = await (await redeem(await code('dpop-spa', SPA_REDIRECT), undefined)).json() as { refresh_token: string; token_type: string };
    assert.equal(t.token_type, 'Bearer');
    const res = await refresh(t.refresh_token, key);
    assert.equal(res.status, 200);
    const next = await res.json() as { refresh_token: string };
    await refused(await refresh(next.refresh_token, other), 400, 'invalid_grant');
    await refused(await refresh(next.refresh_token, undefined), 400, 'invalid_grant');
    assert.equal((await refresh(next.refresh_token, key)).status, 200);
  });

  test('a confidential client\'s refresh token is not bound (RFC 9449 §5): a new key gets tokens bound to it', async () => {
    const t = await (await redeem(await code('dpop-web', WEB_REDIRECT), key, 'dpop-web', WEB_REDIRECT)).json() as { refresh_token: string };
    const res = await refresh(t.refresh_token, other, 'dpop-web');
    assert.equal(res.status, 200);
    assert.deepEqual(claimsOf((await res.json() as { access_token: string }).access_token).cnf, { jkt: other.jkt });
  });

  test('/userinfo: DPoP scheme + proof with ath → claims; the attacks are refused with a DPoP challenge', async () => {
    const t = await (await redeem(await code('dpop-spa', SPA_REDIRECT), key)).json() as { access_token: string };
    const ui = `${s.url}/userinfo`;
    const ok = await userinfo(t.access_token, { dpop: await proof(key, { htm: 'GET', htu: ui, accessToken: t.access_token }) });
    assert.equal(ok.status, 200);
    assert.match((await ok.json() as { sub: string }).sub, /^usr_/);

    const asBearer = await fetch(ui, { headers: { authorization: `Bearer ${t.access_token}` } });
    await refused(asBearer, 401, 'invalid_token');
    assert.match(asBearer.headers.get('www-authenticate')!, /^Bearer realm="[^"]+", error="invalid_token"/);

    const cases: Array<[string, Record<string, string>, string]> = [
      ['wrong ath', { dpop: await proof(key, { htm: 'GET', htu: ui, ath: 'A'.repeat(43) }) }, 'invalid_dpop_proof'],
      ['no ath', { dpop: await proof(key, { htm: 'GET', htu: ui }) }, 'invalid_dpop_proof'],
      ['proof key ≠ cnf.jkt', { dpop: await proof(other, { htm: 'GET', htu: ui, accessToken: t.access_token }) }, 'invalid_dpop_proof'],
      ['no proof', {}, 'invalid_dpop_proof'],
      ['wrong htm', { dpop: await proof(key, { htm: 'POST', htu: ui, accessToken: t.access_token }) }, 'invalid_dpop_proof'],
    ];
    for (const [name, headers, error] of cases) {
      const res = await userinfo(t.access_token, headers);
      assert.equal(res.status, 401, name);
      assert.equal((await res.json() as { error: string }).error, error, name);
      assert.match(res.headers.get('www-authenticate')!, new RegExp(`^DPoP error="${error}", error_description="[^"]+", algs="ES256 EdDSA Ed25519 PS256 RS256"$`), name);
    }
    const replayed = await proof(key, { htm: 'GET', htu: ui, accessToken: t.access_token });
    assert.equal((await userinfo(t.access_token, { dpop: replayed })).status, 200);
    assert.equal((await userinfo(t.access_token, { dpop: replayed })).status, 401);
  });

  test('/userinfo: a bearer token sent with the DPoP scheme is refused', async () => {
    const t = await (await redeem(await code('dpop-spa', SPA_REDIRECT), undefined)).json() as { access_token: string; token_type: string };
    assert.equal(t.token_type, 'Bearer');
    const res = await userinfo(t.access_token, { dpop: await proof(key, { htm: 'GET', htu: `${s.url}/userinfo`, accessToken: t.access_token }) });
    await refused(res, 401, 'invalid_token');
  });
});

describe('DPoP server nonces (dpop.requireNonce)', () => {
  let n: Running;
  before(async () => {
    n = await startServer({ clients, users, dpop: { requireNonce: true } });
  });
  after(() => n.dispose());

  test('a proof without the nonce → 400 use_dpop_nonce with a fresh DPoP-Nonce; with it → 200 (and the next nonce)', async () => {
    const url = `${n.url}/token`;
    const first = await postForm(url, { grant_type: 'client_credentials' }, { authorization: basic(serviceClient.id, SERVICE_SECRET), dpop: await proof(key, { htu: url }) });
    await refused(first, 400, 'use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    assert.match(nonce ?? '', /^[A-Za-z0-9_-]{43}$/);
    const wrong = await postForm(url, { grant_type: 'client_credentials' }, { authorization: basic(serviceClient.id, SERVICE_SECRET), dpop: await proof(key, { htu: url, nonce: 'B'.repeat(43) }) });
    await refused(wrong, 400, 'use_dpop_nonce');
    const ok = await postForm(url, { grant_type: 'client_credentials' }, { authorization: basic(serviceClient.id, SERVICE_SECRET), dpop: await proof(key, { htu: url, nonce: nonce! }) });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('dpop-nonce'), nonce);
  });

  test('/userinfo without the nonce → 401 use_dpop_nonce, DPoP challenge and DPoP-Nonce (RFC 9449 §9)', async () => {
    const { verifier, challenge } = pkce();
    const p = new URLSearchParams({ response_type: 'code', client_id: 'dpop-spa', redirect_uri: SPA_REDIRECT, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' });
    const cb = await authorize(new Agent(n.url), p, alice);
    const url = `${n.url}/token`;
    const form = { grant_type: 'authorization_code', code: cb.searchParams.get('code')!, code_verifier: verifier, redirect_uri: SPA_REDIRECT, client_id: 'dpop-spa' };
    const nonce = (await postForm(url, form, { dpop: await proof(key, { htu: url }) })).headers.get('dpop-nonce')!;
    const t = await (await postForm(url, form, { dpop: await proof(key, { htu: url, nonce }) })).json() as { access_token: string };
    const ui = `${n.url}/userinfo`;
    const res = await fetch(ui, { headers: { authorization: `DPoP ${t.access_token}`, dpop: await proof(key, { htm: 'GET', htu: ui, accessToken: t.access_token }) } });
    await refused(res, 401, 'use_dpop_nonce');
    assert.match(res.headers.get('www-authenticate')!, /^DPoP error="use_dpop_nonce"/);
    const fresh = res.headers.get('dpop-nonce')!;
    const ok = await fetch(ui, { headers: { authorization: `DPoP ${t.access_token}`, dpop: await proof(key, { htm: 'GET', htu: ui, accessToken: t.access_token, nonce: fresh }) } });
    assert.equal(ok.status, 200);
  });
});
