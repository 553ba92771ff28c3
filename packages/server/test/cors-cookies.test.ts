import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, type Running } from './helpers.ts';
import { authParams, pkce, startOidcServer } from './oidc-helpers.ts';

/** CORS for browser-based public clients (SPA) and cookie attributes on an https issuer. */
let s: Running;
before(async () => {
  s = await startOidcServer();
});
after(() => s.dispose());

const SPA = 'https://spa.example';

describe('CORS for public clients at /token and /userinfo only', () => {
  test('preflight from a public client origin → allowed; from others → no CORS headers', async () => {
    const ok = await fetch(`${s.url}/token`, { method: 'OPTIONS', headers: { origin: SPA, 'access-control-request-method': 'POST' } });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), SPA);
    assert.equal(ok.headers.get('access-control-allow-methods'), 'POST');
    assert.equal(ok.headers.get('access-control-allow-credentials'), null);
    for (const origin of ['https://evil.example', 'https://app.example', 'null']) {
      const res = await fetch(`${s.url}/token`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      assert.equal(res.headers.get('access-control-allow-origin'), null, origin);
    }
  });
  test('actual requests (even errors) carry the header for an allowed origin', async () => {
    const res = await fetch(`${s.url}/token`, { method: 'POST', headers: { origin: SPA, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&client_id=spa&code=x' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('access-control-allow-origin'), SPA);
    const ui = await fetch(`${s.url}/userinfo`, { headers: { origin: SPA } });
    assert.equal(ui.status, 401);
    assert.equal(ui.headers.get('access-control-allow-origin'), SPA);
    assert.match(ui.headers.get('access-control-expose-headers')!, /WWW-Authenticate/);
  });
  test('never on the authorization endpoint or the pages (A11)', async () => {
    const { challenge } = pkce();
    for (const path of [`/authorize?${authParams(challenge, { client_id: 'spa', redirect_uri: 'https://spa.example/callback', scope: 'openid' })}`, '/logout', '/assets/tessera.css']) {
      const res = await fetch(`${s.url}${path}`, { redirect: 'manual', headers: { origin: SPA } });
      assert.equal(res.headers.get('access-control-allow-origin'), null, path);
    }
  });
});

describe('cookies on an https issuer', () => {
  test('are Secure with the __Host- prefix (no Domain, Path=/)', async () => {
    // The issuer is what decides (TLS may end at a proxy); the test server itself listens on http.
    const port = await freePort();
    const t = await startOidcServer({ port, issuer: `https://localhost:${port}` });
    try {
      const { challenge } = pkce();
      const res = await fetch(`${t.url}/authorize?${authParams(challenge)}`, { redirect: 'manual' });
      const cookie = res.headers.getSetCookie()[0]!;
      assert.match(cookie, /^__Host-tessera-browser=[A-Za-z0-9_-]{43};/);
      assert.match(cookie, /; Secure/);
      assert.match(cookie, /; HttpOnly/);
      assert.match(cookie, /; SameSite=Lax/);
      assert.match(cookie, /; Path=\//);
      assert.doesNotMatch(cookie, /Domain=/);
    } finally {
      await t.dispose();
    }
  });
});
