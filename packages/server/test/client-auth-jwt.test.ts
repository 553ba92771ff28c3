import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends, type Backend, type TestDatabase } from './support/backends.ts';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { basic, postForm, SERVICE_SECRET, serviceClient, startServer, type Running } from './helpers.ts';
import { assertionClaims, assertionForm, ASSERTION_TYPE, clientKey, signAssertion, unsignedAssertion, type ClientKey } from './support/assertions.ts';

/**
 * Issue 13 item 1: JWT client authentication (RFC 7523 §2.2, §3; OIDC Core §9; rfc7523bis) at its HTTP
 * surface — every attack of the matrix refused with 401 invalid_client (or 400 invalid_request for a
 * malformed request), on a real server over SQLite.
 */
function suite(backend: Backend): void {
  let tdb: TestDatabase;
  const CSJ_SECRET = 'client-secret-jwt-secret-0123456789abcdefghij';
  let s: Running;
  let key: ClientKey;
  let otherKey: ClientKey;
  let remoteKey: ClientKey;
  let jwksServer: Server;
  let jwksUrl: string;
  let issuer: string;

  before(async () => {
    key = await clientKey('ES256');
    otherKey = await clientKey('ES256', key.kid); // same kid, different key
    remoteKey = await clientKey('PS256');
    jwksServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [remoteKey.publicJwk] }));
    });
    jwksServer.listen(0, '127.0.0.1');
    await once(jwksServer, 'listening');
    const addr = jwksServer.address();
    jwksUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/jwks.json`;
    const common = { type: 'confidential' as const, grants: ['client_credentials'], scopes: ['orders:read'], audience: 'https://orders.example' };
    tdb = await backend.create();
    s = await startServer({
      databaseUrl: tdb.url,
      // The matrix fails on purpose many times from one IP; throttling is tested elsewhere.
      clientAuth: { maxFailuresPerClient: 10_000, maxFailuresPerIp: 10_000 },
      clients: [
        serviceClient,
        { ...common, id: 'pk', tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk as { kty: string }] } },
        { ...common, id: 'pk-remote', tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: jwksUrl },
        { ...common, id: 'csj', tokenEndpointAuthMethod: 'client_secret_jwt', secret: CSJ_SECRET },
        { ...common, id: 'pk-rs', tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk as { kty: string }] }, permissions: ['introspect'] },
      ],
    });
    issuer = s.url;
  });
  after(async () => {
    await s?.dispose();
    await tdb?.drop();
    jwksServer?.close();
  });

  function cc(form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return postForm(`${s.url}/token`, { grant_type: 'client_credentials', scope: 'orders:read', ...form }, headers);
  }

  async function assertError(res: Response, status: number, error: string): Promise<void> {
    const body = (await res.json()) as { error: string; error_description: string };
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.error, error);
    assert.equal(res.headers.get('cache-control'), 'no-store');
  }

  const sign = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, k: ClientKey = key, id = 'pk') =>
    signAssertion(k, assertionClaims(id, issuer, claims), header);

  describe('private_key_jwt (RFC 7523 §2.2) at /token', () => {
    test('a valid ES256 assertion authenticates the client', async () => {
      const res = await cc(assertionForm(await sign()));
      assert.equal(res.status, 200, await res.clone().text());
      const body = (await res.json()) as { access_token: string; token_type: string };
      assert.equal(body.token_type, 'Bearer');
      const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString()) as { client_id: string };
      assert.equal(claims.client_id, 'pk');
    });

    test('aud as an array holding only the issuer is accepted (rfc7523bis -03)', async () => {
      assert.equal((await cc(assertionForm(await sign({ aud: [issuer] })))).status, 200);
    });

    test('a client_id parameter naming the same client is accepted', async () => {
      assert.equal((await cc({ ...assertionForm(await sign()), client_id: 'pk' })).status, 200);
    });

    test('keys from a jwks_uri (http on 127.0.0.1 outside production), PS256', async () => {
      const res = await cc(assertionForm(await sign({}, {}, remoteKey, 'pk-remote')));
      assert.equal(res.status, 200, await res.clone().text());
    });
  });

  describe('attack matrix: client assertions (SECURITY-CHECKLIST C10, L1)', () => {
    test('reused jti → invalid_client', async () => {
      const a = await sign();
      assert.equal((await cc(assertionForm(a))).status, 200);
      await assertError(await cc(assertionForm(a)), 401, 'invalid_client');
      // A new assertion carrying the same jti is a replay too.
      const jti = (JSON.parse(Buffer.from(a.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
      await assertError(await cc(assertionForm(await sign({ jti }))), 401, 'invalid_client');
    });

    test('a forged assertion does not burn its jti', async () => {
      const jti = randomUUID();
      await assertError(await cc(assertionForm(await sign({ jti }, {}, otherKey))), 401, 'invalid_client');
      assert.equal((await cc(assertionForm(await sign({ jti })))).status, 200);
    });

    test('wrong aud → invalid_client (token endpoint URL not accepted by default, no extra audiences, not the PAR URL)', async () => {
      for (const aud of [`${issuer}/token`, `${issuer}/par`, 'https://other.example', [issuer, 'https://other.example'], `${issuer}/`]) {
        await assertError(await cc(assertionForm(await sign({ aud }))), 401, 'invalid_client');
      }
    });

    test('expired, exp missing, or exp too far ahead → invalid_client', async () => {
      const now = Math.floor(Date.now() / 1000);
      await assertError(await cc(assertionForm(await sign({ iat: now - 600, exp: now - 300 }))), 401, 'invalid_client');
      await assertError(await cc(assertionForm(await sign({ exp: undefined }))), 401, 'invalid_client');
      await assertError(await cc(assertionForm(await sign({ exp: now + 3600 }))), 401, 'invalid_client');
    });

    test('jti missing → invalid_client', async () => {
      await assertError(await cc(assertionForm(await sign({ jti: undefined }))), 401, 'invalid_client');
    });

    test('iss ≠ sub → invalid_client', async () => {
      await assertError(await cc(assertionForm(await sign({ sub: 'svc' }))), 401, 'invalid_client');
      await assertError(await cc(assertionForm(await sign({ iss: 'svc' }))), 401, 'invalid_client');
    });

    test('HS256 keyed with the client\'s public key → invalid_client', async () => {
      for (const secret of [JSON.stringify(key.publicJwk), String(key.publicJwk.x)]) {
        const a = await new SignJWT(assertionClaims('pk', issuer)).setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(new TextEncoder().encode(secret));
        await assertError(await cc(assertionForm(a)), 401, 'invalid_client');
      }
    });

    test('unknown kid → invalid_client', async () => {
      await assertError(await cc(assertionForm(await sign({}, { kid: 'no-such-kid' }))), 401, 'invalid_client');
      await assertError(await cc(assertionForm(await sign({}, { kid: 'no-such-kid' }, remoteKey, 'pk-remote'))), 401, 'invalid_client');
    });

    test('alg none → invalid_client', async () => {
      await assertError(await cc(assertionForm(unsignedAssertion(assertionClaims('pk', issuer)))), 401, 'invalid_client');
    });

    test('signed by another key under the registered kid → invalid_client', async () => {
      await assertError(await cc(assertionForm(await sign({}, {}, otherKey))), 401, 'invalid_client');
    });

    test('a JWT of another kind (typ at+jwt, dpop+jwt) → invalid_client', async () => {
      await assertError(await cc(assertionForm(await sign({}, { typ: 'at+jwt' }))), 401, 'invalid_client');
      await assertError(await cc(assertionForm(await sign({}, { typ: 'dpop+jwt' }))), 401, 'invalid_client');
    });

    test('garbage, oversized or iss-less assertions → invalid_client, never a 500', async () => {
      for (const a of ['not.a.jwt', 'x', `${'a'.repeat(9000)}.b.c`, await sign({ iss: undefined })]) {
        await assertError(await cc(assertionForm(a)), 401, 'invalid_client');
      }
    });

    test('client_assertion_type missing or wrong → invalid_request', async () => {
      const a = await sign();
      await assertError(await cc({ client_assertion: a }), 400, 'invalid_request');
      await assertError(await cc({ client_assertion: a, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' }), 400, 'invalid_request');
      await assertError(await cc({ client_assertion_type: ASSERTION_TYPE }), 400, 'invalid_request');
    });

    test('an assertion plus a client secret (two methods) → invalid_request', async () => {
      await assertError(await cc(assertionForm(await sign()), { authorization: basic('svc', SERVICE_SECRET) }), 400, 'invalid_request');
      await assertError(await cc({ ...assertionForm(await sign()), client_secret: SERVICE_SECRET }), 400, 'invalid_request');
    });

    test('client_id naming another client → invalid_request', async () => {
      await assertError(await cc({ ...assertionForm(await sign()), client_id: 'svc' }), 400, 'invalid_request');
    });

    test('a client registered for a secret cannot switch to assertions, and the other way round', async () => {
      await assertError(await cc(assertionForm(await sign({}, {}, key, 'svc'))), 401, 'invalid_client');
      await assertError(await cc({ client_id: 'pk' }), 401, 'invalid_client');
      await assertError(await cc({ client_id: 'pk', client_secret: 'whatever-0123456789' }), 401, 'invalid_client');
    });
  });

  describe('client_secret_jwt (HS256 with the client secret)', () => {
    const secret = new TextEncoder().encode(CSJ_SECRET);
    test('an HS256 assertion made with the secret authenticates', async () => {
      const res = await cc(assertionForm(await signAssertion({ alg: 'HS256', secret }, assertionClaims('csj', issuer))));
      assert.equal(res.status, 200, await res.clone().text());
    });

    test('a wrong secret, an asymmetric alg, or the secret sent directly → invalid_client', async () => {
      await assertError(await cc(assertionForm(await signAssertion({ alg: 'HS256', secret: new TextEncoder().encode(`${CSJ_SECRET}x`) }, assertionClaims('csj', issuer)))), 401, 'invalid_client');
      await assertError(await cc(assertionForm(await signAssertion(key, assertionClaims('csj', issuer)))), 401, 'invalid_client');
      await assertError(await cc({}, { authorization: basic('csj', CSJ_SECRET) }), 401, 'invalid_client');
    });

    test('the secret is not stored in plain text or as a usable hash', async () => {
      const row = await s.tessera.db.kysely.selectFrom('clients').selectAll().where('id', '=', 'csj').executeTakeFirstOrThrow();
      assert.equal(row.secret_hash, null);
      assert.ok(row.secret_enc?.startsWith('v1.'));
      assert.ok(!JSON.stringify(row).includes(CSJ_SECRET));
    });
  });

  describe('the other client-authenticated endpoints take assertions too', () => {
    test('/introspect and /revoke with private_key_jwt', async () => {
      const tok = (await (await cc(assertionForm(await sign({}, {}, key, 'pk-rs')))).json()) as { access_token: string };
      const intro = await postForm(`${s.url}/introspect`, { token: tok.access_token, ...assertionForm(await sign({}, {}, key, 'pk-rs')) });
      assert.equal(intro.status, 200);
      assert.equal(((await intro.json()) as { active: boolean }).active, true);
      const rev = await postForm(`${s.url}/revoke`, { token: tok.access_token, ...assertionForm(await sign({}, {}, key, 'pk-rs')) });
      assert.equal(rev.status, 200);
      const again = await postForm(`${s.url}/introspect`, { token: tok.access_token, ...assertionForm(await sign({}, {}, key, 'pk-rs')) });
      assert.deepEqual(await again.json(), { active: false });
    });

    test('/introspect refuses a replayed assertion', async () => {
      const a = await sign({}, {}, key, 'pk-rs');
      assert.equal((await postForm(`${s.url}/introspect`, { token: 'x', ...assertionForm(a) })).status, 200);
      await assertError(await postForm(`${s.url}/introspect`, { token: 'x', ...assertionForm(a) }), 401, 'invalid_client');
    });
  });

  describe('discovery metadata (RFC 8414 §2)', () => {
    test('advertises the methods and algorithms accepted, and PAR', async () => {
      const md = (await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      assert.deepEqual(md.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'client_secret_jwt', 'none']);
      assert.deepEqual(md.token_endpoint_auth_signing_alg_values_supported, ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519', 'HS256']);
      assert.deepEqual(md.revocation_endpoint_auth_signing_alg_values_supported, md.token_endpoint_auth_signing_alg_values_supported);
      assert.deepEqual(md.introspection_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'client_secret_jwt']);
      assert.equal(md.pushed_authorization_request_endpoint, `${s.url}/par`);
      assert.equal(md.require_pushed_authorization_requests, false);
    });
  });

  describe('clientAuth.acceptTokenEndpointAudience (rfc7523bis transition)', () => {
    test('also takes <issuer>/token as aud, still not the PAR URL or a list', async () => {
      const k = await clientKey('ES256');
      const t = await startServer({
        clientAuth: { acceptTokenEndpointAudience: true },
        clients: [{ id: 'old', tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [k.publicJwk as { kty: string }] }, grants: ['client_credentials'], audience: 'https://orders.example' }],
      });
      try {
        const post = async (aud: unknown) => postForm(`${t.url}/token`, { grant_type: 'client_credentials', ...assertionForm(await signAssertion(k, assertionClaims('old', t.url, { aud }))) });
        assert.equal((await post(`${t.url}/token`)).status, 200);
        assert.equal((await post(t.url)).status, 200);
        assert.equal((await post(`${t.url}/par`)).status, 401);
        assert.equal((await post([t.url, `${t.url}/token`])).status, 401);
      } finally {
        await t.dispose();
      }
    });
  });
}

/** The same suite on SQLite and on PostgreSQL: never a 500 on either. */
for (const backend of backends) describe(backend.name, () => suite(backend));
