// One suite, run against the Express and the Fastify adapter over real HTTP: identical status codes,
// WWW-Authenticate headers and bodies (RFC 6750 §3, SECURITY-CHECKLIST G10, G11).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createVerifier, type AuthFailure, type Verifier } from '../src/index.ts';
import { AUDIENCE, startIssuer, type TestIssuer } from './helpers/issuer.ts';
import { expressApp, fastifyApp, type AppFactory, type RunningApp } from './helpers/apps.ts';

interface Case {
  name: string;
  request: (t: Tokens) => { method?: string; path?: string; headers?: Record<string, string>; body?: string };
  status: number;
  www?: string | null;
  body?: unknown;
}
interface Tokens { user: string; admin: string; noScope: string; expired: string; writer: string; mfa: string; pwd: string; old: string }

const REALM = 'orders';
const invalid = (d: string) => `Bearer realm="${REALM}", error="invalid_token", error_description="${d}"`;
const badRequest = (d: string) => `Bearer realm="${REALM}", error="invalid_request", error_description="${d}"`;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

const cases: Case[] = [
  { name: 'no token', request: () => ({}), status: 401, www: `Bearer realm="${REALM}"`, body: { error: 'invalid_token', error_description: 'an access token is required' } },
  { name: 'another scheme (Basic) counts as no token', request: () => ({ headers: { authorization: 'Basic dTpw' } }), status: 401, www: `Bearer realm="${REALM}"` },
  { name: 'bad token', request: () => ({ headers: { authorization: 'Bearer not.a.token' } }), status: 401, www: invalid('the access token is invalid'), body: { error: 'invalid_token', error_description: 'the access token is invalid' } },
  { name: 'expired token', request: (t) => ({ headers: { authorization: `Bearer ${t.expired}` } }), status: 401, www: invalid('the access token is invalid') },
  { name: 'malformed Bearer value', request: () => ({ headers: { authorization: 'Bearer a b' } }), status: 400, www: badRequest('the access token is malformed') },
  { name: 'query token', request: (t) => ({ path: `/orders?access_token=${t.user}` }), status: 400, www: badRequest('access tokens are not accepted in the query string'), body: { error: 'invalid_request', error_description: 'access tokens are not accepted in the query string' } },
  { name: 'header + query', request: (t) => ({ path: `/orders?x=1&access_token=${t.user}`, headers: { authorization: `Bearer ${t.user}` } }), status: 400, www: badRequest('more than one method was used to send the access token') },
  { name: 'header + form body', request: (t) => ({ method: 'POST', headers: { ...FORM, authorization: `Bearer ${t.writer}` }, body: `access_token=${t.writer}` }), status: 400, www: badRequest('more than one method was used to send the access token') },
  { name: 'two form tokens', request: (t) => ({ method: 'POST', headers: FORM, body: `access_token=${t.writer}&access_token=${t.writer}` }), status: 400, www: badRequest('the access token is malformed') },
  { name: 'insufficient scope', request: (t) => ({ headers: { authorization: `Bearer ${t.noScope}` } }), status: 403, www: `Bearer realm="${REALM}", error="insufficient_scope", error_description="the access token lacks a required scope", scope="orders:read"`, body: { error: 'insufficient_scope', error_description: 'the access token lacks a required scope' } },
  { name: 'missing role', request: (t) => ({ method: 'DELETE', path: '/orders/1', headers: { authorization: `Bearer ${t.user}` } }), status: 403, www: `Bearer realm="${REALM}", error="insufficient_scope", error_description="the access token lacks a required role"` },
  { name: 'guard without authentication fails closed', request: (t) => ({ path: '/unguarded-guard', headers: { authorization: `Bearer ${t.user}` } }), status: 500, www: null, body: { error: 'server_error', error_description: 'internal error' } },
  // RFC 9470 §3 step-up: 401 insufficient_user_authentication naming what would satisfy the resource.
  { name: 'acr too weak', request: (t) => ({ path: '/stepup/acr', headers: { authorization: `Bearer ${t.pwd}` } }), status: 401, www: `Bearer realm="${REALM}", error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="urn:tessera:acr:mfa"`, body: { error: 'insufficient_user_authentication', error_description: 'a stronger authentication is required' } },
  { name: 'no acr at all', request: (t) => ({ path: '/stepup/acr', headers: { authorization: `Bearer ${t.user}` } }), status: 401, www: `Bearer realm="${REALM}", error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="urn:tessera:acr:mfa"` },
  { name: 'acr satisfied', request: (t) => ({ path: '/stepup/acr', headers: { authorization: `Bearer ${t.mfa}` } }), status: 200, www: null },
  { name: 'authentication too old', request: (t) => ({ path: '/stepup/recent', headers: { authorization: `Bearer ${t.old}` } }), status: 401, www: `Bearer realm="${REALM}", error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age="300"` },
  { name: 'no auth_time', request: (t) => ({ path: '/stepup/recent', headers: { authorization: `Bearer ${t.user}` } }), status: 401, www: `Bearer realm="${REALM}", error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age="300"` },
  { name: 'recent authentication', request: (t) => ({ path: '/stepup/recent', headers: { authorization: `Bearer ${t.mfa}` } }), status: 200, www: null },
  { name: 'public route needs nothing', request: () => ({ path: '/public' }), status: 200, www: null, body: { public: true } },
  {
    name: 'success, lower-case scheme: auth populated, token not enumerable',
    request: (t) => ({ headers: { authorization: `bearer ${t.user}` } }),
    status: 200, www: null,
    body: { sub: 'user-1', clientId: 'web-app', scopes: ['openid', 'orders:read'], roles: ['user'], enumerable: ['claims', 'clientId', 'roles', 'scopes', 'sub'], hasToken: true },
  },
  { name: 'admin may delete', request: (t) => ({ method: 'DELETE', path: '/orders/1', headers: { authorization: `BEARER ${t.admin}` } }), status: 200, www: null },
  { name: 'form-body token on POST', request: (t) => ({ method: 'POST', headers: FORM, body: `access_token=${t.writer}` }), status: 201, www: null },
  { name: 'JSON body access_token is not a token', request: (t) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ access_token: t.writer }) }), status: 401, www: `Bearer realm="${REALM}"` },
];

let issuer: TestIssuer;
let verifier: Verifier;
let tokens: Tokens;
const seen = new Map<string, unknown[]>();

before(async () => {
  issuer = await startIssuer();
  verifier = createVerifier({ issuer: issuer.url, audience: AUDIENCE });
  const t = Math.floor(Date.now() / 1000);
  tokens = {
    user: await issuer.sign(),
    admin: await issuer.sign({ roles: ['admin'], scope: 'orders:read' }),
    noScope: await issuer.sign({ scope: 'openid' }),
    expired: await issuer.sign({ exp: t - 120, iat: t - 900, nbf: t - 900 }),
    writer: await issuer.sign({ scope: 'orders:write' }),
    mfa: await issuer.sign({ acr: 'urn:tessera:acr:mfa', amr: ['pwd', 'otp', 'mfa'], auth_time: t - 10 }),
    pwd: await issuer.sign({ acr: 'urn:tessera:acr:pwd', amr: ['pwd'], auth_time: t - 10 }),
    old: await issuer.sign({ acr: 'urn:tessera:acr:mfa', auth_time: t - 1000 }),
  };
});
after(async () => {
  await verifier.close();
  await issuer.close();
});

function suite(name: string, factory: AppFactory): void {
  test(`${name} adapter`, async (t) => {
    const logs: AuthFailure[] = [];
    const app: RunningApp = await factory(verifier, { realm: REALM, allowFormBody: true, log: (f) => logs.push(f) });
    const results: unknown[] = [];
    try {
      for (const c of cases) {
        await t.test(c.name, async () => {
          const r = c.request(tokens);
          const res = await fetch(app.url + (r.path ?? '/orders'), { method: r.method ?? 'GET', headers: r.headers, body: r.body });
          const text = await res.text();
          const body = text ? (JSON.parse(text) as unknown) : undefined;
          assert.equal(res.status, c.status);
          if (c.www !== undefined) assert.equal(res.headers.get('www-authenticate'), c.www);
          if (c.body !== undefined) assert.deepEqual(body, c.body);
          if (res.status >= 400) {
            assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
            assert.equal(res.headers.get('cache-control'), 'no-store');
          }
          results.push({ case: c.name, status: res.status, www: res.headers.get('www-authenticate'), type: res.headers.get('content-type'), body });
        });
      }
      await t.test('the log hook gets the reason, never the token', () => {
        assert.ok(logs.some((l) => l.status === 401 && /exp/.test(l.debug ?? '')), 'expired-token reason logged');
        assert.ok(logs.every((l) => !l.path.includes('?')));
        const all = JSON.stringify(logs);
        for (const tok of Object.values(tokens)) assert.ok(!all.includes(tok) && !all.includes(tok.split('.')[2]!));
      });
    } finally {
      await app.close();
    }
    seen.set(name, results);
  });
}

suite('express', expressApp);
suite('fastify', fastifyApp);

test('both adapters answered every case identically', () => {
  const e = seen.get('express');
  const f = seen.get('fastify');
  assert.equal(e?.length, cases.length);
  assert.deepEqual(f, e);
});

test('options instead of a verifier: each adapter creates its own; Fastify closes it with the app', async () => {
  const { mountFeed, eventually, RS_CLIENT } = await import('./helpers/feed.ts');
  const { requireAuth } = await import('../src/express.ts');
  const { tesseraAuth } = await import('../src/fastify.ts');
  const { default: express } = await import('express');
  const { default: Fastify } = await import('fastify');
  const feed = mountFeed(issuer);
  const options = { issuer: issuer.url, audience: AUDIENCE, realm: 'own', revocation: { feed: RS_CLIENT } };
  const expressMw = requireAuth(options);
  const exApp = express();
  exApp.get('/x', expressMw, (req, res) => void res.json({ sub: req.auth?.sub }));
  const server = exApp.listen(0, '127.0.0.1');
  const app = Fastify();
  try {
    await new Promise((r) => server.once('listening', r));
    const exUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/x`;
    assert.equal((await fetch(exUrl)).headers.get('www-authenticate'), 'Bearer realm="own"');
    const ok = await fetch(exUrl, { headers: { authorization: `Bearer ${tokens.user}` } });
    assert.deepEqual(await ok.json(), { sub: 'user-1' });
    await expressMw.verifier.close();
    await eventually(() => feed.streams.size === 0, 3000);

    await app.register(tesseraAuth, options);
    app.get('/x', { preHandler: app.authenticate }, async (req) => ({ sub: req.auth?.sub }));
    const res = await app.inject({ url: '/x', headers: { authorization: `Bearer ${tokens.user}` } });
    assert.deepEqual(res.json(), { sub: 'user-1' });
    await eventually(() => feed.streams.size === 1, 3000);
    await app.close();
    await eventually(() => feed.streams.size === 0, 3000); // Fastify's own verifier closed with the app
  } finally {
    server.closeAllConnections();
    server.close();
    await expressMw.verifier.close();
    await app.close();
    issuer.extra = undefined;
  }
});
