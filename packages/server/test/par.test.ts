import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends, type Backend, type TestDatabase } from './support/backends.ts';
import { basic, postForm, serviceClient, type Running } from './helpers.ts';
import { Agent, alice, authorize, pkce, REDIRECT, spaClient, startOidcServer, tokenRequest, users, WEB_SECRET, webClient } from './oidc-helpers.ts';
import { assertionClaims, assertionForm, clientKey, signAssertion, type ClientKey } from './support/assertions.ts';
import { dpopKey, proof } from './support/dpop.ts';

/**
 * Issue 13 item 2: pushed authorization requests (RFC 9126) at the HTTP surface, with the request_uri
 * attack matrix (SECURITY-CHECKLIST L2, B15): used twice, expired, another client's, mixed with other
 * parameters, and a PAR-required client going straight to /authorize.
 */
function suite(backend: Backend): void {
  let tdb: TestDatabase;
  let s: Running;
  let key: ClientKey;
  const parOnly = { ...webClient, id: 'par-only', requirePushedAuthorizationRequests: true };

  before(async () => {
    key = await clientKey('EdDSA');
    const pkApp = {
      id: 'pk-app', type: 'confidential' as const, tokenEndpointAuthMethod: 'private_key_jwt' as const, jwks: { keys: [key.publicJwk as { kty: string }] },
      grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'profile'], redirectUris: [REDIRECT], firstParty: true,
    };
    tdb = await backend.create();
    s = await startOidcServer({ databaseUrl: tdb.url, clients: [serviceClient, webClient, spaClient, parOnly, pkApp], users });
  });
  after(async () => {
    await s?.dispose();
    await tdb?.drop();
  });

  const WEB = { authorization: basic(webClient.id, WEB_SECRET) };
  const authorization = (extra: Record<string, string> = {}) => {
    const { challenge, verifier } = pkce();
    return { verifier, form: { response_type: 'code', redirect_uri: REDIRECT, scope: 'openid profile', state: 'st-par', nonce: 'n-par', code_challenge: challenge, code_challenge_method: 'S256', ...extra } };
  };

  async function push(form: Record<string, string> | string, headers: Record<string, string> = WEB): Promise<Response> {
    return postForm(`${s.url}/par`, form, headers);
  }

  async function pushed(headers: Record<string, string> = WEB, extra: Record<string, string> = {}): Promise<{ requestUri: string; verifier: string }> {
    const { form, verifier } = authorization(extra);
    const res = await push(form, headers);
    assert.equal(res.status, 201, await res.clone().text());
    return { requestUri: ((await res.json()) as { request_uri: string }).request_uri, verifier };
  }

  function authorizeGet(query: Record<string, string>): Promise<Response> {
    return fetch(`${s.url}/authorize?${new URLSearchParams(query)}`, { redirect: 'manual' });
  }

  async function assertErrorPage(res: Response, code: string): Promise<void> {
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await res.text(), new RegExp(`<code>${code}</code>`));
  }

  async function assertJsonError(res: Response, status: number, error: string): Promise<void> {
    const body = (await res.json()) as { error: string };
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.error, error);
  }

  describe('POST /par (RFC 9126 §2)', () => {
    test('201 with a single-use urn request_uri and expires_in 60, no-store', async () => {
      const res = await push(authorization().form);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = (await res.json()) as { request_uri: string; expires_in: number };
      assert.match(body.request_uri, /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/);
      assert.equal(body.expires_in, 60);
    });

    test('the pushed request runs the whole code flow, and the code redeems', async () => {
      const { requestUri, verifier } = await pushed();
      const agent = new Agent(s.url);
      const cb = await authorize(agent, new URLSearchParams({ client_id: webClient.id, request_uri: requestUri }), alice);
      assert.equal(`${cb.origin}${cb.pathname}`, REDIRECT);
      assert.equal(cb.searchParams.get('state'), 'st-par');
      assert.equal(cb.searchParams.get('iss'), s.url);
      const res = await tokenRequest(s.url, { grant_type: 'authorization_code', code: cb.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier });
      assert.equal(res.status, 200, await res.clone().text());
      assert.ok(((await res.json()) as { id_token?: string }).id_token);
    });

    test('a DPoP proof at /par binds the code to its key (RFC 9449 §10.1); a dpop_jkt that disagrees is refused', async () => {
      const key = await dpopKey();
      const other = await dpopKey();
      const mismatch = await push({ ...authorization().form, dpop_jkt: other.jkt }, { ...WEB, dpop: await proof(key, { htu: `${s.url}/par` }) });
      await assertJsonError(mismatch, 400, 'invalid_dpop_proof');
      const { requestUri, verifier } = await pushed({ ...WEB, dpop: await proof(key, { htu: `${s.url}/par` }) });
      const cb = await authorize(new Agent(s.url), new URLSearchParams({ client_id: webClient.id, request_uri: requestUri }), alice);
      const redeem = async (headers: Record<string, string>) =>
        postForm(`${s.url}/token`, { grant_type: 'authorization_code', code: cb.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier }, { ...WEB, ...headers });
      // Without a proof, or with another key, the bound code is refused and survives (RFC 9449 §10).
      await assertJsonError(await redeem({}), 400, 'invalid_grant');
      await assertJsonError(await redeem({ dpop: await proof(other, { htu: `${s.url}/token` }) }), 400, 'invalid_grant');
      const ok = await redeem({ dpop: await proof(key, { htu: `${s.url}/token` }) });
      assert.equal(ok.status, 200, await ok.clone().text());
      assert.equal(((await ok.json()) as { token_type: string }).token_type, 'DPoP');
    });

    test('a public client pushes with its client_id (auth method none)', async () => {
      const { challenge } = pkce();
      const res = await push({ client_id: spaClient.id, response_type: 'code', redirect_uri: spaClient.redirectUris[0]!, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' }, {});
      assert.equal(res.status, 201, await res.clone().text());
    });

    test('private_key_jwt at /par; aud must be the issuer, not the PAR URL', async () => {
      const ok = await push({ ...authorization().form, ...assertionForm(await signAssertion(key, assertionClaims('pk-app', s.url))) }, {});
      assert.equal(ok.status, 201, await ok.clone().text());
      const parAud = await push({ ...authorization().form, ...assertionForm(await signAssertion(key, assertionClaims('pk-app', s.url, { aud: `${s.url}/par` }))) }, {});
      await assertJsonError(parAud, 401, 'invalid_client');
    });

    test('client credentials are never stored with the pushed request', async () => {
      const a = await signAssertion(key, assertionClaims('pk-app', s.url));
      assert.equal((await push({ ...authorization().form, ...assertionForm(a) }, {})).status, 201);
      const rows = await s.tessera.db.kysely.selectFrom('pushed_authorization_requests').select(['params']).execute();
      for (const r of rows) {
        assert.ok(!r.params.includes('client_assertion') && !r.params.includes(a.slice(0, 40)) && !r.params.includes(WEB_SECRET));
      }
    });

    test('same validation as /authorize; errors are JSON, never redirects', async () => {
      await assertJsonError(await push(authorization({ redirect_uri: 'https://evil.example/cb' }).form), 400, 'invalid_request');
      await assertJsonError(await push(authorization({ code_challenge_method: 'plain' }).form), 400, 'invalid_request');
      await assertJsonError(await push(authorization({ response_type: 'token' }).form), 400, 'unsupported_response_type');
      await assertJsonError(await push(authorization({ scope: 'admin' }).form), 400, 'invalid_scope');
      await assertJsonError(await push(`${new URLSearchParams(authorization().form)}&scope=openid`), 400, 'invalid_request');
    });

    test('request_uri inside a pushed request, or client_id of another client → invalid_request', async () => {
      await assertJsonError(await push(authorization({ request_uri: 'urn:ietf:params:oauth:request_uri:abc' }).form), 400, 'invalid_request');
      await assertJsonError(await push(authorization({ client_id: spaClient.id }).form), 400, 'invalid_request');
    });

    test('client authentication is required (401 invalid_client); only form POST', async () => {
      await assertJsonError(await push(authorization().form, { authorization: basic(webClient.id, 'wrong-secret-0123456789') }), 401, 'invalid_client');
      await assertJsonError(await push({ ...authorization().form, client_id: webClient.id }, {}), 401, 'invalid_client');
      await assertJsonError(await fetch(`${s.url}/par`, { method: 'POST', headers: { ...WEB, 'content-type': 'application/json' }, body: '{}' }), 400, 'invalid_request');
      assert.equal((await fetch(`${s.url}/par`)).status, 405);
    });
  });

  describe('attack matrix: request_uri at /authorize (RFC 9126 §4, SECURITY-CHECKLIST L2)', () => {
    test('used twice → invalid_request_uri page the second time', async () => {
      const { requestUri } = await pushed();
      const first = await authorizeGet({ client_id: webClient.id, request_uri: requestUri });
      assert.equal(first.status, 303);
      await assertErrorPage(await authorizeGet({ client_id: webClient.id, request_uri: requestUri }), 'invalid_request_uri');
    });

    test('expired → invalid_request_uri page', async () => {
      const { requestUri } = await pushed();
      const now = Math.floor(Date.now() / 1000);
      await s.tessera.db.kysely.updateTable('pushed_authorization_requests').set({ expires_at: now - 1 }).where('consumed_at', 'is', null).execute();
      await assertErrorPage(await authorizeGet({ client_id: webClient.id, request_uri: requestUri }), 'invalid_request_uri');
    });

    test('another client\'s request_uri → invalid_request_uri page, and it stays usable by its own client', async () => {
      const { requestUri } = await pushed();
      await assertErrorPage(await authorizeGet({ client_id: spaClient.id, request_uri: requestUri }), 'invalid_request_uri');
      await assertErrorPage(await authorizeGet({ client_id: 'no-such-client', request_uri: requestUri }), 'invalid_request_uri');
      assert.equal((await authorizeGet({ client_id: webClient.id, request_uri: requestUri })).status, 303);
    });

    test('mixed with other parameters → invalid_request page, nothing ignored silently', async () => {
      const { requestUri } = await pushed();
      const extras: Record<string, string>[] = [{ scope: 'openid' }, { redirect_uri: REDIRECT }, { state: 'x' }, { response_type: 'code' }, { code_challenge: pkce().challenge }];
      for (const extra of extras) {
        await assertErrorPage(await authorizeGet({ client_id: webClient.id, request_uri: requestUri, ...extra }), 'invalid_request');
      }
      const res = await fetch(`${s.url}/authorize?client_id=${webClient.id}&request_uri=${encodeURIComponent(requestUri)}&request_uri=${encodeURIComponent(requestUri)}`, { redirect: 'manual' });
      await assertErrorPage(res, 'invalid_request');
      assert.equal((await authorizeGet({ client_id: webClient.id, request_uri: requestUri })).status, 303, 'the refused attempts did not consume it');
    });

    test('missing client_id, malformed or unknown request_uri → page errors', async () => {
      const { requestUri } = await pushed();
      await assertErrorPage(await authorizeGet({ request_uri: requestUri }), 'invalid_request');
      await assertErrorPage(await authorizeGet({ client_id: webClient.id, request_uri: 'https://evil.example/req' }), 'invalid_request_uri');
      await assertErrorPage(await authorizeGet({ client_id: webClient.id, request_uri: `urn:ietf:params:oauth:request_uri:${'A'.repeat(43)}` }), 'invalid_request_uri');
    });

    test('a PAR-required client going straight to /authorize → invalid_request to its redirect URI', async () => {
      const { challenge } = pkce();
      const res = await authorizeGet({ client_id: parOnly.id, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', state: 'st-direct', code_challenge: challenge, code_challenge_method: 'S256' });
      assert.equal(res.status, 303);
      const loc = new URL(res.headers.get('location')!);
      assert.equal(`${loc.origin}${loc.pathname}`, REDIRECT);
      assert.equal(loc.searchParams.get('error'), 'invalid_request');
      assert.equal(loc.searchParams.get('state'), 'st-direct');
      assert.equal(loc.searchParams.get('iss'), s.url);
      assert.equal(loc.searchParams.get('code'), null);
      const viaPar = await pushed({ authorization: basic(parOnly.id, WEB_SECRET) });
      assert.equal((await authorizeGet({ client_id: parOnly.id, request_uri: viaPar.requestUri })).status, 303);
    });

    test('a request_uri presented as an authorization code → invalid_grant (B15)', async () => {
      const { requestUri } = await pushed();
      const res = await tokenRequest(s.url, { grant_type: 'authorization_code', code: requestUri.split(':').pop()!, redirect_uri: REDIRECT, code_verifier: pkce().verifier });
      await assertJsonError(res, 400, 'invalid_grant');
    });
  });
}

/** The same suite on SQLite and on PostgreSQL: never a 500 on either. */
for (const backend of backends) describe(backend.name, () => suite(backend));
