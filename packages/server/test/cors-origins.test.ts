import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/index.ts';
import { basic, postForm, SERVICE_SECRET, startServer, type Running } from './helpers.ts';
import { spaClient, startOidcServer, webClient } from './oidc-helpers.ts';

/**
 * Issue 12 item 5 over plain HTTP: which origins get CORS where. Public documents: `*`, never
 * credentials. /token, /revoke, /userinfo: a public client's redirect-URI origins and any client's
 * `allowedOrigins`, nothing else. Preflights allow the Authorization and DPoP request headers.
 */
const SPA = 'https://spa.example';
const PORTAL = 'https://portal.example';
const PUBLIC_DOCS = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/jwks.json'];
const CLIENT_ENDPOINTS = [['/token', 'POST'], ['/revoke', 'POST'], ['/userinfo', 'GET'], ['/userinfo', 'POST']] as const;

let s: Running;
before(async () => {
  s = await startOidcServer({
    clients: [resourceServer(), { ...webClient, allowedOrigins: [PORTAL] }, spaClient],
  });
});
after(() => s.dispose());

function resourceServer() {
  return { id: 'svc', secret: SERVICE_SECRET, grants: ['client_credentials'], scopes: ['orders:read'], audience: 'https://orders.example', permissions: ['introspect' as const] };
}

function preflight(path: string, origin: string, method: string, headers = 'authorization, dpop, content-type'): Promise<Response> {
  return fetch(`${s.url}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });
}

function allowedHeaders(res: Response): string[] {
  return (res.headers.get('access-control-allow-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());
}

describe('public documents: any origin, no credentials', () => {
  test('GET answers Access-Control-Allow-Origin: * and never Allow-Credentials, even with a cookie', async () => {
    for (const path of PUBLIC_DOCS) {
      for (const origin of ['https://anyone.example', 'null', SPA]) {
        const res = await fetch(`${s.url}${path}`, { headers: { origin, cookie: 'tessera-browser=x' } });
        assert.equal(res.status, 200, path);
        assert.equal(res.headers.get('access-control-allow-origin'), '*', `${path} ${origin}`);
        assert.equal(res.headers.get('access-control-allow-credentials'), null, path);
      }
    }
  });

  test('the /.well-known/jwks.json alias, where served, is public the same way', async () => {
    const res = await fetch(`${s.url}/.well-known/jwks.json`, { headers: { origin: 'https://anyone.example' } });
    if (res.status === 404) return; // served once the alias route exists (issue 12 item 7)
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
  });

  test('preflight allows GET with Authorization and DPoP, without credentials', async () => {
    for (const path of PUBLIC_DOCS) {
      const res = await preflight(path, 'https://anyone.example', 'GET');
      assert.equal(res.status, 204, path);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.equal(res.headers.get('access-control-allow-credentials'), null);
      assert.match(res.headers.get('access-control-allow-methods')!, /GET/);
      assert.ok(allowedHeaders(res).includes('authorization') && allowedHeaders(res).includes('dpop'), path);
    }
  });
});

describe('/token, /revoke, /userinfo: only origins a client allows', () => {
  test('a public client\'s redirect-URI origin and a client\'s allowedOrigins pass the preflight with Authorization and DPoP', async () => {
    for (const origin of [SPA, PORTAL]) {
      for (const [path, method] of CLIENT_ENDPOINTS) {
        const res = await preflight(path, origin, method);
        assert.equal(res.status, 204, `${origin} ${path}`);
        assert.equal(res.headers.get('access-control-allow-origin'), origin, `${origin} ${path}`);
        assert.equal(res.headers.get('access-control-allow-credentials'), null);
        assert.ok(res.headers.get('access-control-allow-methods')!.includes(method));
        assert.ok(allowedHeaders(res).includes('authorization') && allowedHeaders(res).includes('dpop'), path);
        assert.match(res.headers.get('vary') ?? '', /origin/i);
      }
    }
  });

  test('actual requests carry the origin and expose WWW-Authenticate and DPoP-Nonce', async () => {
    const revoke = await postForm(`${s.url}/revoke`, { client_id: 'spa', token: 'x' }, { origin: SPA });
    assert.equal(revoke.status, 200);
    assert.equal(revoke.headers.get('access-control-allow-origin'), SPA);
    const ui = await fetch(`${s.url}/userinfo`, { headers: { origin: PORTAL, authorization: 'Bearer x' } });
    assert.equal(ui.status, 401);
    assert.equal(ui.headers.get('access-control-allow-origin'), PORTAL);
    assert.match(ui.headers.get('access-control-expose-headers')!, /WWW-Authenticate/);
    assert.match(ui.headers.get('access-control-expose-headers')!, /DPoP-Nonce/);
    assert.equal(ui.headers.get('access-control-allow-credentials'), null);
  });

  test('any other origin gets no CORS headers, preflight or not', async () => {
    // app.example is the confidential web app's redirect origin: its secret never belongs in a browser.
    const others = ['https://evil.example', 'https://app.example', 'null', 'https://spa.example:8443', 'http://spa.example', 'https://sub.spa.example', 'https://spa.example.evil.example'];
    for (const origin of others) {
      for (const [path, method] of CLIENT_ENDPOINTS) {
        const pre = await preflight(path, origin, method);
        assert.equal(pre.headers.get('access-control-allow-origin'), null, `${origin} ${path}`);
        assert.equal(pre.headers.get('access-control-allow-methods'), null);
        assert.equal(pre.headers.get('access-control-allow-headers'), null);
      }
      const token = await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { origin, authorization: basic('svc', SERVICE_SECRET) });
      assert.equal(token.status, 200, 'the request itself is served: CORS only decides what a page may read');
      assert.equal(token.headers.get('access-control-allow-origin'), null, origin);
      const revoke = await postForm(`${s.url}/revoke`, { client_id: 'spa', token: 'x' }, { origin });
      assert.equal(revoke.headers.get('access-control-allow-origin'), null, origin);
      const ui = await fetch(`${s.url}/userinfo`, { headers: { origin } });
      assert.equal(ui.headers.get('access-control-allow-origin'), null, origin);
    }
  });

  test('never on /introspect, /authorize or the pages, even for an allowed origin (A11)', async () => {
    const intro = await postForm(`${s.url}/introspect`, { token: 'x' }, { origin: SPA, authorization: basic('svc', SERVICE_SECRET) });
    assert.equal(intro.status, 200);
    assert.equal(intro.headers.get('access-control-allow-origin'), null);
    for (const path of ['/introspect', '/authorize', '/login', '/logout']) {
      const pre = await preflight(path, SPA, 'POST');
      assert.equal(pre.headers.get('access-control-allow-origin'), null, path);
    }
  });

  test('a client registered while running is allowed at once (no restart)', async () => {
    const origin = 'https://late.example';
    assert.equal((await preflight('/token', origin, 'POST')).headers.get('access-control-allow-origin'), null);
    const now = Math.floor(Date.now() / 1000);
    await s.tessera.ctx.stores.clients.upsert({
      id: 'late', name: 'Late', type: 'confidential', secretHash: s.tessera.ctx.box.hashClientSecret('late-secret-0123456789abcdef'), redirectUris: [], grantTypes: ['client_credentials'],
      scopes: [], audience: undefined, resources: [], accessTokenTtl: undefined, firstParty: false, allowedOrigins: [origin], source: 'cli', createdAt: now, updatedAt: now,
    });
    assert.equal((await preflight('/token', origin, 'POST')).headers.get('access-control-allow-origin'), origin);
  });
});

describe('allowedOrigins is validated', () => {
  test('the config refuses what is not an origin as browsers send it', () => {
    const bad = ['https://spa.example/', 'https://spa.example/app', '*', 'null', 'http://spa.example', 'spa.example', 'https://*.spa.example'];
    for (const origin of bad) {
      assert.throws(
        () => loadConfig({ env: {}, overrides: { clients: [{ ...spaClient, allowedOrigins: [origin] }] } }),
        (e: Error) => e.message.includes('clients.0 (spa).allowedOrigins.0'),
        origin,
      );
    }
    assert.doesNotThrow(() => loadConfig({ env: {}, overrides: { clients: [{ ...spaClient, allowedOrigins: ['https://spa.example:8443', 'http://127.0.0.1:5173', 'http://localhost:3000'] }] } }));
  });

  test('tessera clients create --allowed-origin stores the origins and refuses bad ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cors-cli-'));
    const cfg = join(dir, 'tessera.json');
    writeFileSync(cfg, JSON.stringify({ dataDir: dir }));
    const run = (...args: string[]) => spawnSync(process.execPath, [join(import.meta.dirname, '../bin/tessera.mjs'), '--config', cfg, 'clients', ...args], { encoding: 'utf8', timeout: 30_000 });
    try {
      const bad = run('create', '--id', 'p1', '--type', 'public', '--grant', 'authorization_code', '--redirect-uri', 'https://p1.example/cb', '--allowed-origin', 'https://p1.example/');
      assert.equal(bad.status, 2, bad.stderr);
      assert.match(bad.stderr, /--allowed-origin https:\/\/p1\.example\/: /);
      const ok = run('create', '--id', 'p1', '--type', 'public', '--grant', 'authorization_code', '--redirect-uri', 'https://p1.example/cb', '--allowed-origin', 'https://other.example', 'http://127.0.0.1:5173');
      assert.equal(ok.status, 0, ok.stderr);
      const shown = JSON.parse(run('show', 'p1').stdout) as { allowedOrigins: string[] };
      assert.deepEqual(shown.allowedOrigins, ['https://other.example', 'http://127.0.0.1:5173']);
      const t = await startServer({ clients: [] }, dir);
      try {
        const pre = await fetch(`${t.url}/revoke`, { method: 'OPTIONS', headers: { origin: 'https://other.example', 'access-control-request-method': 'POST' } });
        assert.equal(pre.headers.get('access-control-allow-origin'), 'https://other.example');
      } finally {
        await t.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
