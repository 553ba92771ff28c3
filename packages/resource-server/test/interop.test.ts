// Interop: what our verifier accepts, Auth0's express-oauth2-jwt-bearer accepts too (and the reverse for
// refusals), both configured only with the issuer and audience and discovering keys over real HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { createVerifier, type Verifier } from '../src/index.ts';
import { AUDIENCE, startIssuer, type TestIssuer } from './helpers/issuer.ts';

// Loaded untyped: its global `Express.Request.auth` declaration differs from ours (both cannot be in one program).
const { auth } = createRequire(import.meta.url)('express-oauth2-jwt-bearer') as {
  auth: (o: { issuerBaseURL: string; audience: string; strict?: boolean }) => RequestHandler;
};

let issuer: TestIssuer;
let verifier: Verifier;
let url: string;
let close: () => Promise<void>;

before(async () => {
  issuer = await startIssuer();
  verifier = createVerifier({ issuer: issuer.url, audience: AUDIENCE });
  const app = express();
  const ok: RequestHandler = (_req, res) => void res.json({ ok: true });
  app.get('/orders', auth({ issuerBaseURL: issuer.url, audience: AUDIENCE }), ok);
  // strict: RFC 9068 profile (typ at+jwt required); its default accepts any typ.
  app.get('/strict', auth({ issuerBaseURL: issuer.url, audience: AUDIENCE, strict: true }), ok);
  app.use(((err: { status?: number }, _req, res, _next) => void res.status(err.status ?? 500).end()) as ErrorRequestHandler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`;
  close = () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
});
after(async () => {
  await close();
  await verifier.close();
  await issuer.close();
});

const auth0 = (token: string, path = '/orders') => fetch(url.replace('/orders', path), { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);

test('tokens our verifier accepts are accepted by express-oauth2-jwt-bearer (RS256, ES256)', async () => {
  for (const key of [issuer.keys.rs, issuer.keys.es]) {
    const token = await issuer.sign({}, { key });
    assert.equal((await verifier.verify(token)).sub, 'user-1');
    assert.equal(await auth0(token), 200, `${key.alg} accepted by Auth0's middleware`);
    assert.equal(await auth0(token, '/strict'), 200, `${key.alg} accepted in its RFC 9068 strict mode`);
  }
  assert.ok(issuer.requests.includes('/.well-known/openid-configuration'), 'Auth0 discovered our test issuer');
});

test('both refuse the same bad tokens (wrong audience, expired; typ JWT in strict mode)', async () => {
  const t = Math.floor(Date.now() / 1000);
  for (const token of [await issuer.sign({ aud: 'https://other.test' }), await issuer.sign({ exp: t - 600, iat: t - 900, nbf: t - 900 })]) {
    await assert.rejects(verifier.verify(token));
    assert.equal(await auth0(token), 401);
  }
  const idToken = await issuer.sign({}, { header: { typ: 'JWT' } });
  await assert.rejects(verifier.verify(idToken));
  assert.equal(await auth0(idToken, '/strict'), 401);
  assert.equal(await auth0(idToken), 200, 'documented difference: its default mode accepts typ JWT; we never do');
});
