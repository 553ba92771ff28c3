import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Running } from './helpers.ts';
import { Agent, alice, authParams, authorize, pkce, REDIRECT, startOidcServer, webClient, spaClient } from './oidc-helpers.ts';
import { serviceClient } from './helpers.ts';
import { backends, type TestDatabase } from './support/backends.ts';

/** Issue 3 §2: the authorization endpoint, every rule at its HTTP surface (SECURITY-CHECKLIST A, B). */
const ccApp = { id: 'ccapp', name: 'CC only', type: 'confidential' as const, secret: 'ccapp-secret-0123456789abcdef', grants: ['client_credentials'], redirectUris: ['https://cc.example/cb'] };

// On both backends: malformed input must be an error page on PostgreSQL as on SQLite (issue 12 item 2).
for (const backend of backends) describe(`the authorization endpoint [${backend.name}]`, () => {
let s: Running;
let db: TestDatabase;
const { challenge } = pkce();
before(async () => {
  db = await backend.create();
  s = await startOidcServer({ databaseUrl: db.url, clients: [serviceClient, webClient, spaClient, ccApp] });
});
after(async () => {
  await s.dispose();
  await db.drop();
});

function get(query: URLSearchParams | string, headers: Record<string, string> = {}) {
  return fetch(`${s.url}/authorize?${query}`, { redirect: 'manual', headers });
}

/** A3: an HTML error page, 400, and no Location at all. */
async function assertErrorPage(res: Response, text?: RegExp) {
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('location'), null);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const html = await res.text();
  if (text) assert.match(html, text);
}

/** An error redirect to the registered URI with `error`, `iss` and the untouched `state`. */
async function assertErrorRedirect(res: Response, error: string, state: string | null = 'st-123', base = REDIRECT) {
  assert.equal(res.status, 303, await res.clone().text());
  const loc = new URL(res.headers.get('location')!);
  assert.equal(`${loc.origin}${loc.pathname}`, base);
  assert.equal(loc.searchParams.get('error'), error);
  assert.equal(loc.searchParams.get('iss'), s.url);
  assert.equal(loc.searchParams.get('state'), state);
  assert.equal(loc.searchParams.get('code'), null);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
}

describe('client and redirect URI are verified before anything is redirected (A1–A4)', () => {
  test('unknown client_id → error page, no redirect', async () => {
    await assertErrorPage(await get(authParams(challenge, { client_id: 'nope' })), /unknown client/i);
  });
  test('missing client_id → error page', async () => {
    await assertErrorPage(await get(authParams(challenge, { client_id: undefined })));
  });
  test('repeated client_id or redirect_uri → error page', async () => {
    await assertErrorPage(await get(`${authParams(challenge)}&client_id=webapp`));
    await assertErrorPage(await get(`${authParams(challenge)}&redirect_uri=${encodeURIComponent(REDIRECT)}`));
  });
  const table = [
    'https://app.example/cb/../x',
    'https://app.example/cb?x=1',
    'https://app.example/CB',
    'https://APP.example/cb',
    'https://app.example/cb/',
    'https://app.example:443/cb',
    'https://app.example/cb%2F',
    'https://app.example/cb%2f..',
    'https://app.example/cb#x',
    'https://app.example/cb#',
    'http://app.example/cb',
    'https://app.example/c%62',
    'https://app.example.evil.com/cb',
    'https://evil.com@app.example/cb',
    'https://app.example@evil.com/cb',
    'https://app.example/cb@evil.com',
    'https://app.example\\@evil.com/cb',
    ' https://app.example/cb',
    'https://app.example/cb ',
    'https://app.example/cb\t',
    '//app.example/cb',
    'app.example/cb',
    'https://app.example/cb\u0000',
    `https://app.example/cb${'a'.repeat(2100)}`,
  ];
  for (const uri of table) {
    test(`redirect_uri ${JSON.stringify(uri.slice(0, 40))} is rejected with a page`, async () => {
      await assertErrorPage(await get(authParams(challenge, { redirect_uri: uri })));
    });
  }
  test('the registered URI itself is accepted', async () => {
    const res = await get(authParams(challenge));
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location')!, /^\/login\?iid=/);
  });
  test('loopback IP redirect: any port, but path, scheme and host must match (A2, RFC 8252 §7.3)', async () => {
    for (const ok of ['http://127.0.0.1:5555/loop', 'http://127.0.0.1/loop', 'http://127.0.0.1:65535/loop']) {
      const res = await get(authParams(challenge, { redirect_uri: ok }));
      assert.equal(res.status, 303, ok);
      assert.match(res.headers.get('location')!, /^\/login/);
    }
    for (const bad of ['http://127.0.0.1:5555/loop2', 'http://127.0.0.1:5555/loop/', 'http://localhost:5555/loop', 'https://127.0.0.1:5555/loop',
      'http://[::1]:5555/loop', 'http://127.0.0.2:5555/loop', 'http://127.0.0.1:99999/loop', 'http://127.0.0.1:5555@evil.com/loop', 'http://127.0.0.1:5555/loop?x=1']) {
      await assertErrorPage(await get(authParams(challenge, { redirect_uri: bad })));
    }
  });
  test('a non-loopback registration never matches a loopback request', async () => {
    await assertErrorPage(await get(authParams(challenge, { redirect_uri: 'http://127.0.0.1:8080/cb' })));
  });
  test('several registered URIs and none requested → error page (A4)', async () => {
    await assertErrorPage(await get(authParams(challenge, { redirect_uri: undefined })), /redirect_uri is required/);
  });
  test('exactly one registered URI and none requested → that URI is used', async () => {
    const res = await get(authParams(challenge, { client_id: 'spa', redirect_uri: undefined, scope: 'openid' }));
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location')!, /^\/login/);
  });
  test('malformed percent-encoding in the query → error page', async () => {
    await assertErrorPage(await get(`${authParams(challenge)}&x=%zz`));
  });
});

describe('errors after the redirect URI is verified go back to it with state and iss (A7–A10, B1–B4)', () => {
  test('repeated parameter → invalid_request (A7)', async () => {
    await assertErrorRedirect(await get(`${authParams(challenge)}&scope=openid`), 'invalid_request');
    await assertErrorRedirect(await get(`${authParams(challenge)}&code_challenge=${challenge}`), 'invalid_request');
  });
  test('repeated state → invalid_request without a state', async () => {
    await assertErrorRedirect(await get(`${authParams(challenge)}&state=other`), 'invalid_request', null);
  });
  test('response_type token / id_token / code token → unsupported_response_type (A8)', async () => {
    for (const rt of ['token', 'id_token', 'code token', 'code id_token', 'none', 'CODE']) {
      await assertErrorRedirect(await get(authParams(challenge, { response_type: rt })), 'unsupported_response_type');
    }
  });
  test('missing response_type → invalid_request', async () => {
    await assertErrorRedirect(await get(authParams(challenge, { response_type: undefined })), 'invalid_request');
  });
  test('missing code_challenge → invalid_request, for confidential and public clients (B2)', async () => {
    await assertErrorRedirect(await get(authParams(challenge, { code_challenge: undefined, code_challenge_method: undefined })), 'invalid_request');
    const spa = authParams(challenge, { client_id: 'spa', redirect_uri: 'https://spa.example/callback', scope: 'openid', code_challenge: undefined });
    await assertErrorRedirect(await get(spa), 'invalid_request', 'st-123', 'https://spa.example/callback');
  });
  test('code_challenge_method plain, S512, or absent → invalid_request (B3)', async () => {
    for (const m of ['plain', 'S512', 's256', undefined]) {
      await assertErrorRedirect(await get(authParams(challenge, { code_challenge_method: m })), 'invalid_request');
    }
  });
  test('code_challenge outside 43–128 unreserved characters → invalid_request (B4)', async () => {
    for (const c of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}!`, `${'a'.repeat(42)}=`, `${'a'.repeat(42)}+`]) {
      await assertErrorRedirect(await get(authParams(challenge, { code_challenge: c })), 'invalid_request');
    }
  });
  test('a scope the client may not have → invalid_scope', async () => {
    await assertErrorRedirect(await get(authParams(challenge, { scope: 'openid admin:all' })), 'invalid_scope');
  });
  test('a client without the authorization_code grant → unauthorized_client', async () => {
    const p = authParams(challenge, { client_id: 'ccapp', redirect_uri: 'https://cc.example/cb' });
    await assertErrorRedirect(await get(p), 'unauthorized_client', 'st-123', 'https://cc.example/cb');
  });
  test('request → request_not_supported; request_uri beside other parameters → invalid_request page (RFC 9126 §4, L2)', async () => {
    await assertErrorRedirect(await get(authParams(challenge, { request: 'eyJhbGciOiJub25lIn0.e30.' })), 'request_not_supported');
    // request_uri is supported since PAR (issue 13), but only with client_id beside it: nothing is ignored silently.
    await assertErrorPage(await get(authParams(challenge, { request_uri: 'urn:x' })), /invalid_request/);
  });
  test('response_mode other than query → invalid_request', async () => {
    await assertErrorRedirect(await get(authParams(challenge, { response_mode: 'fragment' })), 'invalid_request');
  });
  test('invalid prompt values → invalid_request', async () => {
    await assertErrorRedirect(await get(authParams(challenge, { prompt: 'none login' })), 'invalid_request');
    await assertErrorRedirect(await get(authParams(challenge, { prompt: 'bogus' })), 'invalid_request');
  });
  test('max_age must be a non-negative integer', async () => {
    await assertErrorRedirect(await get(authParams(challenge, { max_age: '-1' })), 'invalid_request');
    await assertErrorRedirect(await get(authParams(challenge, { max_age: '1.5' })), 'invalid_request');
  });
  test('over-long nonce or login_hint → invalid_request, never truncated (A17)', async () => {
    await assertErrorRedirect(await get(authParams(challenge, { nonce: 'n'.repeat(513) })), 'invalid_request');
    await assertErrorRedirect(await get(authParams(challenge, { login_hint: 'h'.repeat(257) })), 'invalid_request');
  });
  test('an unknown resource → invalid_target (RFC 8707)', async () => {
    await assertErrorRedirect(await get(authParams(challenge, { resource: 'https://unknown.example' })), 'invalid_target');
  });
  test('state is echoed byte for byte, however odd (A10)', async () => {
    const state = 'a b&c=d/é%20+?#"<>\'ü\u{1F600}';
    const res = await get(authParams(challenge, { state, prompt: 'none' }));
    const loc = new URL(res.headers.get('location')!);
    assert.equal(loc.searchParams.get('state'), state);
  });
  test('an over-long state → invalid_request, and it is not echoed (A10)', async () => {
    await assertErrorRedirect(await get(authParams(challenge, { state: 's'.repeat(1025) })), 'invalid_request', null);
  });
  test('an empty state counts as absent; unknown parameters are ignored (A7)', async () => {
    const res = await get(`${authParams(challenge, { state: undefined, prompt: 'none' })}&state=&foo=bar`);
    const loc = new URL(res.headers.get('location')!);
    assert.equal(loc.searchParams.get('error'), 'login_required');
    assert.equal(loc.searchParams.has('state'), false);
  });
  test('the registered URI keeps its own query when parameters are added', async () => {
    const client = { ...spaClient, id: 'q', redirectUris: ['https://q.example/cb?tenant=7'] };
    const other = await startOidcServer({ clients: [client] });
    try {
      const res = await fetch(`${other.url}/authorize?${authParams(challenge, { client_id: 'q', redirect_uri: 'https://q.example/cb?tenant=7', scope: 'openid', prompt: 'none' })}`, { redirect: 'manual' });
      assert.match(res.headers.get('location')!, /^https:\/\/q\.example\/cb\?tenant=7&error=login_required&/);
    } finally {
      await other.dispose();
    }
  });
});

describe('sessions and prompt handling (A15, OIDC Core §3.1.2.1)', () => {
  test('prompt=none without a session → login_required, never a page', async () => {
    await assertErrorRedirect(await get(authParams(challenge, { prompt: 'none' })), 'login_required');
  });
  test('prompt=none with a session but no consent → consent_required', async () => {
    const a = new Agent(s.url);
    await authorize(a, authParams(challenge, { client_id: 'spa', redirect_uri: 'https://spa.example/callback', scope: 'openid' }), alice);
    await assertErrorRedirect(await a.get(`/authorize?${authParams(challenge, { prompt: 'none' })}`), 'consent_required');
  });
  test('prompt=none with a session and consent → a code, with iss and state', async () => {
    const a = new Agent(s.url);
    await authorize(a, authParams(challenge), alice);
    const res = await a.get(`/authorize?${authParams(challenge, { prompt: 'none' })}`);
    assert.equal(res.status, 303);
    const loc = new URL(res.headers.get('location')!);
    assert.match(loc.searchParams.get('code')!, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(loc.searchParams.get('iss'), s.url);
    assert.equal(loc.searchParams.get('state'), 'st-123');
  });
  test('prompt=login, select_account and max_age=0 ask for the password again; max_age=3600 does not', async () => {
    const a = new Agent(s.url);
    await authorize(a, authParams(challenge), alice);
    for (const extra of [{ prompt: 'login' }, { prompt: 'select_account' }, { max_age: '0' }]) {
      const res = await a.get(`/authorize?${authParams(challenge, extra)}`);
      assert.match(res.headers.get('location')!, /^\/login\?iid=/, JSON.stringify(extra));
    }
    const res = await a.get(`/authorize?${authParams(challenge, { max_age: '3600' })}`);
    assert.match(res.headers.get('location')!, /^https:\/\/app\.example\/cb\?code=/);
    // Signing in again satisfies prompt=login for that request.
    const again = await authorize(a, authParams(challenge, { prompt: 'login' }), alice);
    assert.ok(again.searchParams.get('code'));
  });
  test('login_hint pre-fills the username, escaped (A17)', async () => {
    const a = new Agent(s.url);
    const res = await a.get(`/authorize?${authParams(challenge, { login_hint: '"><script>alert(1)</script>' })}`);
    const html = await (await a.get(res.headers.get('location')!)).text();
    assert.ok(!html.includes('<script>alert(1)'));
    assert.match(html, /value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
  });
  test('POST /authorize is accepted like GET', async () => {
    const res = await fetch(`${s.url}/authorize`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: authParams(challenge, { prompt: 'none' }).toString() });
    await assertErrorRedirect(res, 'login_required');
  });
});

describe('browser surface headers (A11, A13, A14)', () => {
  test('no Access-Control-Allow-Origin, even for a cross-origin request', async () => {
    for (const res of [await get(authParams(challenge), { origin: 'https://evil.example' }), await get(authParams(challenge, { client_id: 'nope' }), { origin: 'https://evil.example' })]) {
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    }
    const pre = await fetch(`${s.url}/authorize`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    assert.equal(pre.headers.get('access-control-allow-origin'), null);
  });
  test('the browser cookie is HttpOnly, SameSite=Lax, not Secure on an http issuer', async () => {
    const res = await get(authParams(challenge));
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('tessera-browser='))!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.doesNotMatch(cookie, /Secure/);
    assert.match(cookie, /Path=\//);
  });
});
});
