import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Running } from './helpers.ts';
import { basic, serviceClient, SERVICE_SECRET } from './helpers.ts';
import { Agent, alice, authParams, authorize, hidden, LOGOUT_REDIRECT, pkce, REDIRECT, spaClient, startOidcServer, tokenRequest, users, webClient } from './oidc-helpers.ts';

/** Issue 3 §7–8: /userinfo (OIDC Core §5.3, RFC 6750) and RP-initiated logout. */
let s: Running;
before(async () => {
  s = await startOidcServer({ clients: [serviceClient, { ...webClient, grants: ['authorization_code', 'refresh_token'] }, spaClient], users });
});
after(() => s.dispose());

/** Signs in on `agent` and exchanges the code; returns the token response. */
async function tokens(agent: Agent, extra: Record<string, string | undefined> = {}) {
  const { verifier, challenge } = pkce();
  const cb = await authorize(agent, authParams(challenge, extra), alice);
  const form: Record<string, string> = { grant_type: 'authorization_code', code: cb.searchParams.get('code')!, code_verifier: verifier };
  if (extra.redirect_uri !== undefined || !extra.client_id) form.redirect_uri = extra.redirect_uri ?? REDIRECT;
  const res = await (extra.client_id === 'spa' ? tokenRequest(s.url, form, null, 'spa') : tokenRequest(s.url, form));
  assert.equal(res.status, 200);
  return res.json() as Promise<{ access_token: string; id_token?: string; refresh_token?: string }>;
}

function userinfo(init: RequestInit & { query?: string } = {}) {
  return fetch(`${s.url}/userinfo${init.query ?? ''}`, init);
}

function bearerChallenge(res: Response): string {
  return res.headers.get('www-authenticate') ?? '';
}

describe('/userinfo', () => {
  test('GET and POST with a bearer token → the claims of the granted scopes', async () => {
    const t = await tokens(new Agent(s.url));
    for (const method of ['GET', 'POST']) {
      const res = await userinfo({ method, headers: { authorization: `Bearer ${t.access_token}` } });
      assert.equal(res.status, 200, method);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const claims = await res.json() as Record<string, unknown>;
      assert.match(claims.sub as string, /^usr_/);
      assert.equal(claims.name, 'Alice Liddell');
      assert.equal(claims.preferred_username, 'alice');
      assert.equal(claims.email, 'alice@example.com');
      assert.equal(claims.email_verified, true);
    }
  });
  test('the scheme is case-insensitive; a form-body token works on POST (RFC 6750 §2.2)', async () => {
    const t = await tokens(new Agent(s.url));
    assert.equal((await userinfo({ headers: { authorization: `bEaReR ${t.access_token}` } })).status, 200);
    const form = await userinfo({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ access_token: t.access_token }) });
    assert.equal(form.status, 200);
  });
  test('only openid → only sub', async () => {
    const t = await tokens(new Agent(s.url), { scope: 'openid' });
    const claims = await (await userinfo({ headers: { authorization: `Bearer ${t.access_token}` } })).json() as Record<string, unknown>;
    assert.deepEqual(Object.keys(claims), ['sub']);
  });
  test('no token → 401 with a bare Bearer challenge (no error code)', async () => {
    const res = await userinfo();
    assert.equal(res.status, 401);
    assert.equal(bearerChallenge(res), `Bearer realm="${s.url}"`);
  });
  test('an invalid, tampered or foreign token → 401 invalid_token', async () => {
    const t = await tokens(new Agent(s.url));
    const [h, p] = t.access_token.split('.');
    const tampered = `${h}.${p}.${'A'.repeat(342)}`;
    for (const token of ['garbage', tampered, t.id_token!]) {
      const res = await userinfo({ headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 401);
      assert.match(bearerChallenge(res), /^Bearer realm="[^"]+", error="invalid_token"/);
      assert.equal((await res.json() as { error: string }).error, 'invalid_token');
    }
  });
  test('a client-credentials token (not for a user, not for userinfo) → 401 invalid_token', async () => {
    const cc = await fetch(`${s.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(serviceClient.id, SERVICE_SECRET) }, body: 'grant_type=client_credentials' });
    const { access_token } = await cc.json() as { access_token: string };
    const res = await userinfo({ headers: { authorization: `Bearer ${access_token}` } });
    assert.equal(res.status, 401);
    assert.match(bearerChallenge(res), /error="invalid_token"/);
  });
  test('a user token without openid → 403 insufficient_scope, scope="openid"', async () => {
    const t = await tokens(new Agent(s.url), { client_id: 'spa', redirect_uri: 'https://spa.example/callback', scope: 'profile' });
    const res = await userinfo({ headers: { authorization: `Bearer ${t.access_token}` } });
    assert.equal(res.status, 403);
    assert.match(bearerChallenge(res), /error="insufficient_scope"/);
    assert.match(bearerChallenge(res), /scope="openid"/);
  });
  test('a token in the query, or in two places → 400 invalid_request', async () => {
    const t = await tokens(new Agent(s.url));
    const q = await userinfo({ query: `?access_token=${t.access_token}` });
    assert.equal(q.status, 400);
    assert.match(bearerChallenge(q), /error="invalid_request"/);
    const both = await userinfo({ method: 'POST', headers: { authorization: `Bearer ${t.access_token}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ access_token: t.access_token }) });
    assert.equal(both.status, 400);
  });
});

describe('RP-initiated logout (issue 3 §8)', () => {
  async function signedIn() {
    const agent = new Agent(s.url);
    const t = await tokens(agent);
    return { agent, idToken: t.id_token!, accessToken: t.access_token, refreshToken: t.refresh_token! };
  }
  async function assertSignedOut(agent: Agent) {
    const { challenge } = pkce();
    const res = await agent.get(`/authorize?${authParams(challenge, { prompt: 'none' })}`);
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'login_required');
  }

  test('without a session → the logged-out page', async () => {
    const res = await fetch(`${s.url}/logout`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /You are signed out/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.match(res.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
  });
  test('with a session and no hint → a confirmation form; confirming without the CSRF token → 403', async () => {
    const { agent } = await signedIn();
    const page = await agent.get('/logout');
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Sign out\?/);
    const csrf = hidden(html, 'csrf')!;
    assert.equal((await agent.post('/logout', { confirm: '1' })).status, 403);
    assert.equal((await agent.post('/logout', { confirm: '1', csrf }, { origin: 'https://evil.example' })).status, 403);
    const done = await agent.post('/logout', { confirm: '1', csrf });
    assert.equal(done.status, 200);
    assert.match(await done.text(), /You are signed out/);
    assert.ok(done.headers.getSetCookie().some((c) => /^tessera-session=;/.test(c)));
    await assertSignedOut(agent);
  });
  test('a cross-site GET cannot sign the user out without confirmation', async () => {
    const { agent } = await signedIn();
    await agent.get('/logout?client_id=webapp');
    const { challenge } = pkce();
    const res = await agent.get(`/authorize?${authParams(challenge, { prompt: 'none' })}`);
    assert.ok(new URL(res.headers.get('location')!).searchParams.get('code'));
  });
  test('a valid id_token_hint for this session + registered post_logout_redirect_uri → 303 there with state', async () => {
    const { agent, idToken } = await signedIn();
    const res = await agent.get(`/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: LOGOUT_REDIRECT, state: 'bye 1' })}`);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `${LOGOUT_REDIRECT}?state=bye%201`);
    await assertSignedOut(agent);
  });
  test('logout revokes what the session issued: its access tokens and refresh tokens (DESIGN.md §2)', async () => {
    const { agent, idToken, accessToken, refreshToken } = await signedIn();
    const other = await signedIn();
    assert.equal((await userinfo({ headers: { authorization: `Bearer ${accessToken}` } })).status, 200);
    await agent.get(`/logout?${new URLSearchParams({ id_token_hint: idToken })}`);
    assert.equal((await userinfo({ headers: { authorization: `Bearer ${accessToken}` } })).status, 401);
    const res = await tokenRequest(s.url, { grant_type: 'refresh_token', refresh_token: refreshToken });
    assert.equal((await res.json() as { error: string }).error, 'invalid_grant');
    // Another browser's session of the same user is untouched.
    assert.equal((await userinfo({ headers: { authorization: `Bearer ${other.accessToken}` } })).status, 200);
    assert.equal((await tokenRequest(s.url, { grant_type: 'refresh_token', refresh_token: other.refreshToken })).status, 200);
  });
  test('POST /logout from the RP works the same', async () => {
    const { agent, idToken } = await signedIn();
    const res = await agent.post('/logout', { id_token_hint: idToken, post_logout_redirect_uri: LOGOUT_REDIRECT });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), LOGOUT_REDIRECT);
    await assertSignedOut(agent);
  });
  test('confirming carries the registered post_logout_redirect_uri through the form', async () => {
    const { agent } = await signedIn();
    const html = await (await agent.get(`/logout?client_id=webapp&post_logout_redirect_uri=${encodeURIComponent(LOGOUT_REDIRECT)}&state=s1`)).text();
    assert.match(html, /name="post_logout_redirect_uri"/);
    const res = await agent.post('/logout', { confirm: '1', csrf: hidden(html, 'csrf')!, client_id: 'webapp', post_logout_redirect_uri: LOGOUT_REDIRECT, state: 's1' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `${LOGOUT_REDIRECT}?state=s1`);
  });
  test('an unregistered post_logout_redirect_uri → error page, never a redirect (A6)', async () => {
    const { agent, idToken } = await signedIn();
    for (const uri of ['https://evil.example/', `${LOGOUT_REDIRECT}/`, REDIRECT]) {
      const res = await agent.get(`/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: uri })}`);
      assert.equal(res.status, 400, uri);
      assert.equal(res.headers.get('location'), null);
    }
    const noClient = await agent.get(`/logout?post_logout_redirect_uri=${encodeURIComponent(LOGOUT_REDIRECT)}`);
    assert.equal(noClient.status, 400);
  });
  test('an invalid id_token_hint, or one for another client_id → error page', async () => {
    const { agent, idToken } = await signedIn();
    const [h, p] = idToken.split('.');
    const cases: Array<Record<string, string>> = [{ id_token_hint: `${h}.${p}.AAAA` }, { id_token_hint: 'nope' }, { id_token_hint: idToken, client_id: 'spa' }];
    for (const q of cases) {
      const res = await agent.get(`/logout?${new URLSearchParams(q)}`);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
    }
  });
  test('an access token is not accepted as id_token_hint', async () => {
    const agent = new Agent(s.url);
    const t = await tokens(agent);
    const res = await agent.get(`/logout?${new URLSearchParams({ id_token_hint: t.access_token })}`);
    assert.equal(res.status, 400);
  });
});
