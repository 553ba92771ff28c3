import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse, type Server } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { freePort, type Running } from './helpers.ts';
import { Agent, alice, authorize, hidden, location, startOidcServer, users } from './oidc-helpers.ts';
import { clientKey, type ClientKey } from './support/assertions.ts';
import { backends, type Backend, type TestDatabase } from './support/backends.ts';
import { addressAllowed, documentUrl, fetchJson, DocumentRefused, maxAgeOf } from '../src/engine/cimd/index.ts';
import { loadConfig } from '../src/index.ts';

/**
 * Issue 14 item 3: client ID metadata documents (draft-ietf-oauth-client-id-metadata-document) over real
 * HTTP. The documents are served by a plain HTTP server on 127.0.0.1 (allowed only outside production,
 * `clientIdMetadataDocuments.allowLoopback`). openid-client runs code + PKCE (public client) and PAR +
 * private_key_jwt with the document URL as its client_id; bad documents are refused without a 500.
 */
const CALLBACK = 'https://agent.example/cb';
const MCP = 'https://mcp.example/mcp';

let docs: Server;
let DOCS = '';
const hits = new Map<string, number>();
const held: ServerResponse[] = [];
let pkKey: ClientKey;

function doc(path: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { client_id: `${DOCS}${path}`, client_name: 'Agent Smith', redirect_uris: [CALLBACK], grant_types: ['authorization_code', 'refresh_token'], scope: 'openid mcp:tools', ...extra };
}

function json(res: ServerResponse, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

before(async () => {
  pkKey = await clientKey('ES256');
  docs = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    switch (path) {
      case '/consent.json':
      case '/agent.json': return json(res, doc(path, { logo_uri: `${DOCS}/logo.png` }), { 'cache-control': 'max-age=600' });
      case '/cached/a.json': case '/cached/b.json': case '/cached/c.json': return json(res, doc(path), { 'cache-control': 'max-age=600' });
      case '/nostore.json': return json(res, doc(path), { 'cache-control': 'no-store' });
      case '/foreign-logo.json': return json(res, doc(path, { logo_uri: 'https://evil.example/logo.png' }));
      case '/pk.json': return json(res, doc(path, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${DOCS}/pk-jwks.json` }));
      case '/pk-private-jwks.json': return json(res, doc(path, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://10.0.0.1/jwks.json' }));
      case '/pk-no-jwks.json': return json(res, doc(path, { token_endpoint_auth_method: 'private_key_jwt' }));
      case '/pk-jwks.json': return json(res, { keys: [pkKey.publicJwk] });
      case '/mismatch.json': return json(res, doc('/someone-else.json'));
      case '/secret.json': return json(res, doc(path, { client_secret: 'shhh-0123456789abcdef' }));
      case '/basic.json': return json(res, doc(path, { token_endpoint_auth_method: 'client_secret_basic' }));
      case '/bad-redirect.json': return json(res, doc(path, { redirect_uris: ['http://evil.example/cb'] }));
      case '/redirect.json': return void res.writeHead(302, { location: 'http://10.0.0.1/agent.json' }).end();
      case '/redirect-loopback.json': return void res.writeHead(302, { location: `${DOCS}/agent.json` }).end();
      case '/big.json': return json(res, doc(path, { client_uri: `https://agent.example/${'x'.repeat(6000)}` }));
      case '/big-chunked.json': {
        // No Content-Length: the cap must hold while the body streams.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(JSON.stringify(doc(path)).slice(0, -1));
        for (let i = 0; i < 10; i++) res.write(`,"pad${i}":"${'y'.repeat(1000)}"`);
        return void res.end('}');
      }
      case '/slow.json': held.push(res); return;
      case '/not-json.json': return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
      case '/broken.json': return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"client_id":');
      default: return void res.writeHead(404).end();
    }
  });
  const port = await freePort();
  await new Promise<void>((r) => docs.listen(port, '127.0.0.1', r));
  DOCS = `http://127.0.0.1:${port}`;
});
after(async () => {
  for (const r of held) r.destroy();
  await new Promise((r) => docs.close(r));
});

const settings = (extra: Record<string, unknown> = {}) => ({
  resourceServers: [{ resource: MCP, scopes: ['mcp:tools'] }],
  clientIdMetadataDocuments: { enabled: true, allowLoopback: true, timeoutMs: 800, maxBytes: 4096, ...extra },
});

function suite(backend: Backend) {
  let s: Running;
  let tdb: TestDatabase;
  before(async () => {
    tdb = await backend.create();
    s = await startOidcServer({ databaseUrl: tdb.url, clients: [], users, ...settings() });
  });
  after(async () => {
    await s?.dispose();
    await tdb?.drop();
  });

  test('discovery says client_id_metadata_document_supported', async () => {
    const meta = await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json() as Record<string, unknown>;
    assert.equal(meta.client_id_metadata_document_supported, true);
    // What document clients may ask for is listed too (the server's own scopes and the resource's).
    assert.deepEqual(meta.scopes_supported, ['email', 'mcp:tools', 'openid', 'profile']);
  });

  test('openid-client: code + PKCE as a public client whose client_id is its document URL, with resource', async () => {
    const clientId = `${DOCS}/agent.json`;
    const config = await oidc.discovery(new URL(s.url), clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK, scope: 'openid mcp:tools', state, resource: MCP,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const cb = await authorize(new Agent(s.url), url.searchParams, alice);
    const tokens = await oidc.authorizationCodeGrant(config, cb, { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true }, { resource: MCP });
    const at = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${s.url}/jwks.json`)), { issuer: s.url, audience: MCP });
    assert.equal(at.payload.aud, MCP, 'aud is exactly the requested resource');
    assert.equal(at.payload.client_id, clientId);
    assert.equal(tokens.claims()!.aud, clientId);
    assert.equal(tokens.scope, 'openid mcp:tools');
    // The refresh token works for the same document client (stored rows name the URL as client id).
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: MCP });
    assert.ok(refreshed.access_token);
  });

  test('openid-client: PAR + code + PKCE + private_key_jwt with the document\'s jwks_uri', async () => {
    const config = await oidc.discovery(new URL(s.url), `${DOCS}/pk.json`, undefined, oidc.PrivateKeyJwt({ key: pkKey.privateKey, kid: pkKey.kid }), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = await oidc.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: CALLBACK, scope: 'openid', state, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const cb = await authorize(new Agent(s.url), url.searchParams, alice);
    const tokens = await oidc.authorizationCodeGrant(config, cb, { pkceCodeVerifier: verifier, expectedState: state });
    assert.ok(tokens.access_token);
    // The same client without its assertion is refused: the document said private_key_jwt.
    const res = await fetch(`${s.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: `${DOCS}/pk.json` }) });
    assert.equal(res.status, 401);
    assert.equal((await res.json() as { error: string }).error, 'invalid_client');
  });

  test('the consent page shows an unverified client with its host; a logo only from its own origin', async () => {
    const page = await consentPage(s, `${DOCS}/consent.json`);
    assert.match(page.html, /id="unverified-client"/);
    assert.match(page.html, new RegExp(`<strong class="client-host">127\\.0\\.0\\.1:${new URL(DOCS).port}</strong>`));
    assert.match(page.html, /Agent Smith<\/strong> \(unverified/);
    assert.match(page.html, new RegExp(`<img src="${DOCS}/logo.png"`));
    assert.match(page.csp, new RegExp(`img-src 'self' ${DOCS.replace(/\./g, '\\.')};`));
    const foreign = await consentPage(s, `${DOCS}/foreign-logo.json`);
    assert.doesNotMatch(foreign.html, /<img/);
    assert.doesNotMatch(foreign.html, /evil\.example/);
    assert.match(foreign.csp, /img-src 'self';/);
  });

  for (const [what, path] of [
    ['client_id differs from the document URL', '/mismatch.json'],
    ['a client secret in the document', '/secret.json'],
    ['a secret-based token_endpoint_auth_method', '/basic.json'],
    ['a redirect URI that is not acceptable', '/bad-redirect.json'],
    ['a redirect to a private address', '/redirect.json'],
    ['private_key_jwt with a jwks_uri on a private address', '/pk-private-jwks.json'],
    ['private_key_jwt without a jwks_uri', '/pk-no-jwks.json'],
    ['a redirect even to an allowed address', '/redirect-loopback.json'],
    ['an oversize body (Content-Length)', '/big.json'],
    ['an oversize body (streamed)', '/big-chunked.json'],
    ['a slow server (timeout)', '/slow.json'],
    ['not application/json', '/not-json.json'],
    ['malformed JSON', '/broken.json'],
    ['a 404', '/missing.json'],
  ] as const) {
    test(`refused without a 500: ${what}`, async () => {
      const clientId = `${DOCS}${path}`;
      const res = await fetch(`${s.url}/authorize?${authorizeQuery(clientId)}`, { redirect: 'manual' });
      assert.equal(res.status, 400, 'an error page, never a redirect to the document\'s redirect URI');
      assert.match(await res.text(), /unknown client/);
      const par = await fetch(`${s.url}/par`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: authorizeQuery(clientId) });
      assert.equal(par.status, 401);
      assert.equal((await par.json() as { error: string }).error, 'invalid_client');
      const token = await fetch(`${s.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x'.repeat(43), code_verifier: 'v'.repeat(43), redirect_uri: CALLBACK, client_id: clientId }) });
      assert.equal(token.status, 401);
      assert.equal((await token.json() as { error: string }).error, 'invalid_client');
    });
  }

  test('client ids that are not document URLs are not fetched', async () => {
    for (const id of [`${DOCS}/`, `${DOCS}/a/../agent.json`, `${DOCS}/agent.json#x`, `http://user:pw@127.0.0.1:1/agent.json`, `https://${'a'.repeat(130)}.example/x.json`]) {
      const before = hits.get('/agent.json') ?? 0;
      const res = await fetch(`${s.url}/authorize?${authorizeQuery(id)}`, { redirect: 'manual' });
      assert.equal(res.status, 400, id);
      assert.equal(hits.get('/agent.json') ?? 0, before);
    }
  });
}

for (const backend of backends) describe(backend.name, () => suite(backend));

describe('the fetch cache', () => {
  let s: Running;
  before(async () => {
    s = await startOidcServer({ clients: [], users, ...settings({ cacheEntries: 2 }) });
  });
  after(() => s?.dispose());

  async function use(path: string): Promise<void> {
    const res = await fetch(`${s.url}/authorize?${authorizeQuery(`${DOCS}${path}`)}`, { redirect: 'manual' });
    assert.equal(res.status, 303, `${path} is accepted`);
  }

  test('a document is fetched once while its max-age lasts, and the cache holds at most cacheEntries documents', async () => {
    await use('/cached/a.json');
    await use('/cached/a.json');
    assert.equal(hits.get('/cached/a.json'), 1, 'cached');
    await use('/cached/b.json');
    await use('/cached/c.json');
    await use('/cached/a.json');
    assert.equal(hits.get('/cached/a.json'), 2, 'a was evicted by b and c (bound of 2 entries)');
    await use('/cached/c.json');
    assert.equal(hits.get('/cached/c.json'), 1);
  });

  test('Cache-Control: no-store is honoured', async () => {
    await use('/nostore.json');
    const first = hits.get('/nostore.json')!;
    await use('/nostore.json');
    assert.ok(hits.get('/nostore.json')! > first, 'fetched again');
  });
});

describe('without allowLoopback (as in production)', () => {
  let s: Running;
  before(async () => {
    s = await startOidcServer({ clients: [], users, ...settings({ allowLoopback: false }) });
  });
  after(() => s?.dispose());

  test('an http client_id is not a document URL, and is never fetched', async () => {
    const before = hits.get('/agent.json') ?? 0;
    const res = await fetch(`${s.url}/authorize?${authorizeQuery(`${DOCS}/agent.json`)}`, { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal(hits.get('/agent.json') ?? 0, before);
  });

  test('an https client_id on a loopback or private address is refused before any connection', async () => {
    for (const id of [`https://127.0.0.1:${new URL(DOCS).port}/agent.json`, `https://localhost:${new URL(DOCS).port}/agent.json`, 'https://10.1.2.3/agent.json', 'https://[::1]/agent.json', 'https://169.254.169.254/latest.json']) {
      const res = await fetch(`${s.url}/authorize?${authorizeQuery(id)}`, { redirect: 'manual' });
      assert.equal(res.status, 400, id);
    }
  });
});

describe('policy pieces', () => {
  test('allowLoopback is refused in production', () => {
    assert.throws(() => loadConfig({
      env: { NODE_ENV: 'production' },
      overrides: { issuer: 'https://id.example', clientIdMetadataDocuments: { enabled: true, allowLoopback: true } },
    }), /clientIdMetadataDocuments\.allowLoopback: not allowed in production/);
  });

  test('only public unicast addresses (loopback only when allowed)', () => {
    for (const a of ['10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '127.0.0.1', '::1', '::', 'fe80::1', 'fc00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '2002:a00:1::', '224.0.0.1', '255.255.255.255', 'not-an-ip']) {
      assert.equal(addressAllowed(a, false), false, a);
    }
    for (const a of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946']) assert.equal(addressAllowed(a, false), true, a);
    assert.equal(addressAllowed('127.0.0.1', true), true);
    assert.equal(addressAllowed('::ffff:127.0.0.1', true), true);
    assert.equal(addressAllowed('10.0.0.1', true), false, 'private stays refused with allowLoopback');
  });

  test('document URLs: https, a path, no fragment, no user info, no dot segments, at most 128 characters', () => {
    assert.ok(documentUrl('https://agent.example/client.json', false));
    assert.equal(documentUrl('http://agent.example/client.json', false), undefined);
    assert.equal(documentUrl('http://127.0.0.1:8080/client.json', false), undefined);
    assert.ok(documentUrl('http://127.0.0.1:8080/client.json', true));
    assert.equal(documentUrl('https://agent.example', false), undefined);
    assert.equal(documentUrl('https://agent.example/', false), undefined);
    assert.equal(documentUrl('https://agent.example/a/./b.json', false), undefined);
    assert.equal(documentUrl('https://AGENT.example/c.json', false), undefined, 'not in normal form: the document could not match it');
    assert.equal(documentUrl(`https://agent.example/${'x'.repeat(120)}`, false), undefined);
  });

  test('a hostname that resolves to loopback is refused when loopback is not allowed', async () => {
    await assert.rejects(fetchJson(new URL(`https://localhost:${new URL(DOCS).port}/agent.json`), { allowLoopback: false, timeoutMs: 1000, maxBytes: 4096 }), (e: unknown) => e instanceof DocumentRefused && /non-public address/.test(e.message));
  });

  test('Cache-Control max-age and no-store', () => {
    assert.equal(maxAgeOf('public, max-age=120'), 120);
    assert.equal(maxAgeOf('no-store'), 0);
    assert.equal(maxAgeOf('max-age=60, no-cache'), 0);
    assert.equal(maxAgeOf(undefined), undefined);
  });
});

function authorizeQuery(clientId: string): URLSearchParams {
  return new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: CALLBACK, scope: 'openid', code_challenge: 'c'.repeat(43), code_challenge_method: 'S256', state: 's' });
}

/** Signs in as alice and returns the consent page for this client. */
async function consentPage(s: Running, clientId: string): Promise<{ html: string; csp: string }> {
  const agent = new Agent(s.url);
  let res = await agent.get(`/authorize?${authorizeQuery(clientId)}`);
  const login = await (await agent.get(location(res))).text();
  res = await agent.post('/login', { iid: hidden(login, 'iid')!, csrf: hidden(login, 'csrf')!, ...alice });
  let consent = location(res);
  if (consent.startsWith('/authorize/resume')) consent = location(await agent.get(consent));
  assert.match(consent, /^\/consent/);
  const page = await agent.get(consent);
  return { html: await page.text(), csp: page.headers.get('content-security-policy')! };
}
