// One suite, run against the Express and the Fastify adapter over real HTTP: identical status codes,
// WWW-Authenticate headers and bodies (RFC 6750 §3, SECURITY-CHECKLIST G10, G11).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createVerifier, type AuthFailure, type Verifier } from '../src/index.ts';
import { AUDIENCE, startIssuer, type TestIssuer } from './helpers/issuer.ts';
import { expressApp, fastifyApp, type AppFactory, type RunningApp } from './helpers/apps.ts';
import { dpopKey, hs256Proof, proof, unsignedProof, type DpopKey } from './helpers/dpop.ts';

interface Case {
  name: string;
  /** `url` is the app's base URL (DPoP proofs name it in `htu`). */
  request: (t: Tokens, url: string) => Req | Promise<Req>;
  status: number;
  www?: string | null;
  body?: unknown;
}
interface Req { method?: string; path?: string; headers?: Record<string, string>; body?: string }
interface Tokens { user: string; admin: string; noScope: string; expired: string; writer: string; bound: string; boundNoScope: string; mfa: string; pwd: string; old: string }

const REALM = 'orders';
const invalid = (d: string) => `Bearer realm="${REALM}", error="invalid_token", error_description="${d}"`;
const badRequest = (d: string) => `Bearer realm="${REALM}", error="invalid_request", error_description="${d}"`;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const ALGS = 'ES256 EdDSA Ed25519 PS256 RS256';
const dpopError = (error: string, d: string, scope?: string) => `DPoP error="${error}", error_description="${d}", ${scope ? `scope="${scope}", ` : ''}algs="${ALGS}"`;
let key: DpopKey;
let other: DpopKey;
/** `Authorization: DPoP` plus a fresh proof for GET /orders (overridable). */
const dpop = async (token: string, url: string, o: Partial<Parameters<typeof proof>[1]> = {}, k: DpopKey = key) =>
  ({ authorization: `DPoP ${token}`, dpop: await proof(k, { htm: 'GET', htu: `${url}/orders`, accessToken: token, ...o }) });

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
  // RFC 9449 §7: DPoP-bound tokens.
  {
    name: 'DPoP: bound token + proof of its key → 200',
    request: async (t, url) => ({ headers: await dpop(t.bound, url) }),
    status: 200, www: null,
    body: { sub: 'user-1', clientId: 'web-app', scopes: ['openid', 'orders:read'], roles: ['user'], enumerable: ['claims', 'clientId', 'roles', 'scopes', 'sub'], hasToken: true },
  },
  { name: 'DPoP: lower-case scheme, htu with a query → 200', request: async (t, url) => ({ path: '/orders?page=2', headers: { ...(await dpop(t.bound, url, { htu: `${url}/orders?other=1` })), authorization: `dpop ${t.bound}` } }), status: 200, www: null },
  { name: 'DPoP: bound token sent as Bearer → 401 invalid_token', request: (t) => ({ headers: { authorization: `Bearer ${t.bound}` } }), status: 401, www: invalid('a DPoP-bound access token must be sent with the DPoP scheme') },
  { name: 'DPoP: no proof → 401 invalid_dpop_proof', request: (t) => ({ headers: { authorization: `DPoP ${t.bound}` } }), status: 401, www: dpopError('invalid_dpop_proof', 'the DPoP proof is invalid'), body: { error: 'invalid_dpop_proof', error_description: 'the DPoP proof is invalid' } },
  { name: 'DPoP: wrong ath', request: async (t, url) => ({ headers: await dpop(t.bound, url, { ath: 'A'.repeat(43) }) }), status: 401, www: dpopError('invalid_dpop_proof', 'the DPoP proof is invalid') },
  { name: 'DPoP: proof key is not cnf.jkt', request: async (t, url) => ({ headers: await dpop(t.bound, url, {}, other) }), status: 401, www: dpopError('invalid_dpop_proof', 'the DPoP proof key is not the key the access token is bound to') },
  { name: 'DPoP: wrong htm', request: async (t, url) => ({ headers: await dpop(t.bound, url, { htm: 'POST' }) }), status: 401, www: dpopError('invalid_dpop_proof', 'the DPoP proof is invalid') },
  { name: 'DPoP: wrong htu', request: async (t, url) => ({ headers: await dpop(t.bound, url, { htu: `${url}/public` }) }), status: 401, www: dpopError('invalid_dpop_proof', 'the DPoP proof is invalid') },
  { name: 'DPoP: stale iat', request: async (t, url) => ({ headers: await dpop(t.bound, url, { iat: Math.floor(Date.now() / 1000) - 600 }) }), status: 401, www: dpopError('invalid_dpop_proof', 'the DPoP proof is invalid') },
  { name: 'DPoP: private key in jwk', request: async (t, url) => ({ headers: await dpop(t.bound, url, { header: { jwk: key.privateJwk } }) }), status: 401, www: dpopError('invalid_dpop_proof', 'the DPoP proof is invalid') },
  { name: 'DPoP: alg none', request: (t, url) => ({ headers: { authorization: `DPoP ${t.bound}`, dpop: unsignedProof(key, `${url}/orders`, 'GET') } }), status: 401, www: dpopError('invalid_dpop_proof', 'the DPoP proof is invalid') },
  { name: 'DPoP: HS256', request: async (t, url) => ({ headers: { authorization: `DPoP ${t.bound}`, dpop: await hs256Proof(key, `${url}/orders`, undefined, 'GET') } }), status: 401, www: dpopError('invalid_dpop_proof', 'the DPoP proof is invalid') },
  {
    name: 'DPoP: a proof replayed (same jti) → 401 invalid_dpop_proof',
    request: async (t, url) => {
      const headers = await dpop(t.bound, url);
      assert.equal((await fetch(`${url}/orders`, { headers })).status, 200);
      return { headers };
    },
    status: 401, www: dpopError('invalid_dpop_proof', 'the DPoP proof was already used'),
  },
  { name: 'DPoP: an unbound token with the DPoP scheme → 401 invalid_token', request: async (t, url) => ({ headers: await dpop(t.user, url) }), status: 401, www: dpopError('invalid_token', 'the access token is not DPoP-bound') },
  { name: 'DPoP: insufficient scope → 403 with a DPoP challenge', request: async (t, url) => ({ headers: await dpop(t.boundNoScope, url) }), status: 403, www: dpopError('insufficient_scope', 'the access token lacks a required scope', 'orders:read') },
  { name: 'DPoP: header + query token → 400', request: async (t, url) => ({ path: `/orders?access_token=${t.bound}`, headers: await dpop(t.bound, url) }), status: 400, www: dpopError('invalid_request', 'more than one method was used to send the access token') },
  { name: 'JSON body access_token is not a token', request: (t) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ access_token: t.writer }) }), status: 401, www: `Bearer realm="${REALM}"` },
];

let issuer: TestIssuer;
let verifier: Verifier;
let tokens: Tokens;
const seen = new Map<string, unknown[]>();

before(async () => {
  issuer = await startIssuer();
  key = await dpopKey('ES256');
  other = await dpopKey('EdDSA');
  verifier = createVerifier({ issuer: issuer.url, audience: AUDIENCE });
  const t = Math.floor(Date.now() / 1000);
  tokens = {
    user: await issuer.sign(),
    admin: await issuer.sign({ roles: ['admin'], scope: 'orders:read' }),
    noScope: await issuer.sign({ scope: 'openid' }),
    expired: await issuer.sign({ exp: t - 120, iat: t - 900, nbf: t - 900 }),
    writer: await issuer.sign({ scope: 'orders:write' }),
    bound: await issuer.sign({ cnf: { jkt: key.jkt } }),
    boundNoScope: await issuer.sign({ cnf: { jkt: key.jkt }, scope: 'openid' }),
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
          const r = await c.request(tokens, app.url);
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

test('DPoP required, with nonces, behind a proxy (public origin): both adapters answer identically', async () => {
  const seenBy: unknown[][] = [];
  for (const factory of [expressApp, fastifyApp]) {
    const app = await factory(verifier, { realm: REALM, dpop: { required: true, nonce: { secret: 'n'.repeat(32) }, origin: 'https://api.example' } });
    const out: unknown[] = [];
    const call = async (headers: Record<string, string>) => {
      const res = await fetch(`${app.url}/orders`, { headers });
      const r = { status: res.status, www: res.headers.get('www-authenticate'), nonce: res.headers.get('dpop-nonce'), body: await res.json() as unknown };
      out.push({ ...r, nonce: r.nonce ? 'present' : null });
      return r;
    };
    try {
      const none = await call({});
      assert.equal(none.status, 401);
      assert.equal(none.www, `DPoP algs="${ALGS}"`);
      const bearer = await call({ authorization: `Bearer ${tokens.user}` });
      assert.equal(bearer.status, 401);
      assert.equal(bearer.www, dpopError('invalid_token', 'this resource requires a DPoP-bound access token'));
      const local = await call(await dpop(tokens.bound, app.url));
      assert.equal(local.status, 401, 'htu must name the public origin, not the address the proxy forwarded to');
      const noNonce = await call(await dpop(tokens.bound, 'https://api.example'));
      assert.equal(noNonce.status, 401);
      assert.equal(noNonce.www, dpopError('use_dpop_nonce', "the DPoP proof must carry the resource server's nonce"));
      assert.match(noNonce.nonce ?? '', /^[A-Za-z0-9_-]{43}$/);
      const ok = await call(await dpop(tokens.bound, 'https://api.example', { nonce: noNonce.nonce! }));
      assert.equal(ok.status, 200);
    } finally {
      await app.close();
    }
    seenBy.push(out);
  }
  assert.deepEqual(seenBy[1], seenBy[0]);
});

test('invalid DPoP options are a TypeError at construction', async () => {
  const { requireAuth } = await import('../src/express.ts');
  assert.throws(() => requireAuth(verifier, { dpop: { algorithms: ['HS256'] } }), /dpop algorithm HS256 is not allowed/);
  assert.throws(() => requireAuth(verifier, { dpop: { origin: 'https://api.example/path' } }), /dpop.origin/);
  assert.throws(() => requireAuth(verifier, { dpop: { nonce: { secret: 'short' } } }), /dpop.nonce.secret/);
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

test('RFC 9728: resourceMetadata serves the document on both adapters and names it in every challenge', async (t) => {
  const resource = 'https://orders.test/api';
  const rsVerifier = createVerifier({ issuer: issuer.url, audience: [resource] });
  const onlyMine = await issuer.sign({ aud: resource });
  const answers = new Map<string, unknown>();
  const metaUrl = 'https://orders.test/.well-known/oauth-protected-resource/api';
  try {
    for (const [name, factory] of [['express', expressApp], ['fastify', fastifyApp]] as const) {
      const app = await factory(rsVerifier, { realm: REALM, resourceMetadata: { resource, scopesSupported: ['orders:read'], resourceName: 'Orders' } });
      try {
        const seenHere: unknown[] = [];
        for (const path of ['/.well-known/oauth-protected-resource/api', '/.well-known/oauth-protected-resource']) {
          const res = await fetch(app.url + path);
          assert.equal(res.status, 200, `${name} ${path}`);
          assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
          assert.equal(res.headers.get('access-control-allow-origin'), '*');
          const doc = await res.json();
          assert.deepEqual(doc, {
            resource, authorization_servers: [issuer.url], scopes_supported: ['orders:read'], bearer_methods_supported: ['header'], resource_name: 'Orders',
          });
          seenHere.push(doc);
        }
        assert.equal((await fetch(app.url + '/.well-known/oauth-protected-resource/other')).status, 404);
        const none = await fetch(app.url + '/orders');
        assert.equal(none.status, 401);
        assert.equal(none.headers.get('www-authenticate'), `Bearer realm="${REALM}", resource_metadata="${metaUrl}"`);
        const wrongAud = await fetch(app.url + '/orders', { headers: { authorization: `Bearer ${tokens.user}` } });
        assert.equal(wrongAud.status, 401, 'a token for another resource is refused');
        assert.equal(wrongAud.headers.get('www-authenticate'), `${invalid('the access token is invalid')}, resource_metadata="${metaUrl}"`);
        const scopeless = await fetch(app.url + '/orders', { headers: { authorization: `Bearer ${await issuer.sign({ aud: resource, scope: 'openid' })}` } });
        assert.equal(scopeless.status, 403);
        assert.match(scopeless.headers.get('www-authenticate') ?? '', /scope="orders:read", resource_metadata="https:\/\/orders\.test\/\.well-known\/oauth-protected-resource\/api"$/);
        assert.equal((await fetch(app.url + '/orders', { headers: { authorization: `Bearer ${onlyMine}` } })).status, 200);
        seenHere.push(none.headers.get('www-authenticate'), wrongAud.headers.get('www-authenticate'), scopeless.headers.get('www-authenticate'));
        answers.set(name, seenHere);
      } finally {
        await app.close();
      }
    }
    assert.deepEqual(answers.get('fastify'), answers.get('express'));
    await t.test('a resource that is not the verifier audience, or not https, is a TypeError at construction', async () => {
      const { requireAuth } = await import('../src/express.ts');
      assert.throws(() => requireAuth(rsVerifier, { resourceMetadata: { resource: 'https://elsewhere.test' } }), /one of the verifier audiences/);
      assert.throws(() => requireAuth(rsVerifier, { resourceMetadata: { resource: 'ftp://orders.test/api' } }), /https URL without a fragment/);
      assert.throws(() => requireAuth(rsVerifier, { resourceMetadata: { resource, authorizationServers: ['http://evil.example'] } }), /authorizationServers/);
    });
  } finally {
    await rsVerifier.close();
  }
});
