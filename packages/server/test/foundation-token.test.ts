import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import * as oauth from 'oauth4webapi';
import { basic, postForm, SERVICE_SECRET, serviceClient, startServer, type Running } from './helpers.ts';
import { backends, type TestDatabase } from './support/backends.ts';

const CC = { grant_type: 'client_credentials' };

async function expectError(res: Response, status: number, error: string): Promise<Record<string, unknown>> {
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.error, error);
  assert.equal(typeof body.error_description, 'string');
  assert.match(String(body.error_description), /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return body;
}

// On both backends: malformed input must be a 4xx on PostgreSQL as on SQLite (issue 12 item 2).
for (const backend of backends) describe(`client credentials grant (RFC 6749 §4.4, RFC 9068) [${backend.name}]`, () => {
  let s: Running;
  let db: TestDatabase;
  before(async () => {
    db = await backend.create();
    s = await startServer({
      databaseUrl: db.url,
      clients: [
        serviceClient,
        { id: 'weird', secret: 'p@ss:w%rd+with spaces/and=more', grants: ['client_credentials'], scopes: ['a'] },
        { id: 'code-only', secret: 'code-only-secret-0123456789', grants: ['authorization_code'], redirectUris: ['https://app.example/cb'], scopes: ['a'] },
      ],
    });
  });
  after(async () => {
    await s.dispose();
    await db.drop();
  });

  test('issues an RFC 9068 JWT that jose verifies against the served JWKS', async () => {
    const res = await postForm(`${s.url}/token`, { ...CC, scope: 'orders:read' }, { authorization: basic('svc', SERVICE_SECRET) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('pragma'), 'no-cache');
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 900);
    assert.equal(body.scope, 'orders:read');
    assert.equal(body.refresh_token, undefined, 'client_credentials never returns a refresh token (§4.4.3)');

    const token = String(body.access_token);
    const header = decodeProtectedHeader(token);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'RS256');
    const jwks = createRemoteJWKSet(new URL(`${s.url}/jwks.json`));
    const { payload } = await jwtVerify(token, jwks, { issuer: s.url, audience: 'https://orders.example', typ: 'at+jwt', algorithms: ['RS256'] });
    assert.ok(header.kid && typeof header.kid === 'string');
    for (const c of ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope']) assert.ok(c in payload, `claim ${c}`);
    assert.equal(payload.sub, 'svc');
    assert.equal(payload.client_id, 'svc');
    assert.equal(payload.scope, 'orders:read');
    assert.equal(payload.exp! - payload.iat!, 900);
    assert.ok(String(payload.jti).length >= 22);
  });

  test('without scope the client gets its registered scopes; client_secret_post works', async () => {
    const res = await postForm(`${s.url}/token`, { ...CC, client_id: 'svc', client_secret: SERVICE_SECRET });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { scope: string }).scope, 'orders:read orders:write');
  });

  test('Basic credentials are form-urldecoded (RFC 6749 §2.3.1)', async () => {
    const res = await postForm(`${s.url}/token`, CC, { authorization: basic('weird', 'p@ss:w%rd+with spaces/and=more') });
    assert.equal(res.status, 200);
  });

  test('resource indicators (RFC 8707) choose aud; unknown resource is invalid_target', async () => {
    const one = await postForm(`${s.url}/token`, 'grant_type=client_credentials&resource=https%3A%2F%2Fbilling.example', { authorization: basic('svc', SERVICE_SECRET) });
    const t1 = ((await one.json()) as { access_token: string }).access_token;
    assert.equal(JSON.parse(Buffer.from(t1.split('.')[1]!, 'base64url').toString()).aud, 'https://billing.example');
    const two = await postForm(`${s.url}/token`, 'grant_type=client_credentials&resource=https%3A%2F%2Fbilling.example&resource=https%3A%2F%2Forders.example', { authorization: basic('svc', SERVICE_SECRET) });
    const t2 = ((await two.json()) as { access_token: string }).access_token;
    assert.deepEqual(JSON.parse(Buffer.from(t2.split('.')[1]!, 'base64url').toString()).aud, ['https://billing.example', 'https://orders.example']);
    await expectError(await postForm(`${s.url}/token`, { ...CC, resource: 'https://evil.example' }, { authorization: basic('svc', SERVICE_SECRET) }), 400, 'invalid_target');
    await expectError(await postForm(`${s.url}/token`, { ...CC, resource: 'not a uri' }, { authorization: basic('svc', SERVICE_SECRET) }), 400, 'invalid_target');
    await expectError(await postForm(`${s.url}/token`, { ...CC, resource: 'https://orders.example#frag' }, { authorization: basic('svc', SERVICE_SECRET) }), 400, 'invalid_target');
  });

  test('openid-client and oauth4webapi obtain and accept the token', async () => {
    const config = await oidc.discovery(new URL(s.url), 'svc', SERVICE_SECRET, undefined, { execute: [oidc.allowInsecureRequests] });
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'orders:write' });
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, 'orders:write');

    const issuer = new URL(s.url);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
    const client: oauth.Client = { client_id: 'svc' };
    const res = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretPost(SERVICE_SECRET), new URLSearchParams({ scope: 'orders:read' }), { [oauth.allowInsecureRequests]: true });
    const result = await oauth.processClientCredentialsResponse(as, client, res);
    assert.equal(result.scope, 'orders:read');
    // The RFC 9068 validation of oauth4webapi (what a resource server would run).
    const rsReq = new Request('https://orders.example/orders', { headers: { authorization: `Bearer ${result.access_token}` } });
    const claims = await oauth.validateJwtAccessToken(as, rsReq, 'https://orders.example', { [oauth.allowInsecureRequests]: true });
    assert.equal(claims.client_id, 'svc');
  });

  describe('errors answer RFC 6749 §5.2 codes, never a 500', () => {
    const auth = () => ({ authorization: basic('svc', SERVICE_SECRET) });

    test('wrong secret with Basic: 401 invalid_client + WWW-Authenticate: Basic', async () => {
      const res = await postForm(`${s.url}/token`, CC, { authorization: basic('svc', 'wrong-secret') });
      await expectError(res, 401, 'invalid_client');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm="/);
    });

    test('unknown client and wrong secret get the same body', async () => {
      const a = await postForm(`${s.url}/token`, { ...CC, client_id: 'nobody', client_secret: 'x'.repeat(20) });
      const b = await postForm(`${s.url}/token`, { ...CC, client_id: 'svc', client_secret: 'x'.repeat(20) });
      assert.deepEqual(await expectError(a, 401, 'invalid_client'), await expectError(b, 401, 'invalid_client'));
    });

    test('no client authentication: invalid_client', async () => {
      await expectError(await postForm(`${s.url}/token`, CC), 401, 'invalid_client');
      await expectError(await postForm(`${s.url}/token`, { ...CC, client_id: 'svc' }), 401, 'invalid_client');
    });

    test('Basic and client_secret_post together: invalid_request (§2.3)', async () => {
      await expectError(await postForm(`${s.url}/token`, { ...CC, client_secret: SERVICE_SECRET }, auth()), 400, 'invalid_request');
    });

    test('malformed Basic header: 401 invalid_client', async () => {
      await expectError(await postForm(`${s.url}/token`, CC, { authorization: 'Basic !!!' }), 401, 'invalid_client');
      await expectError(await postForm(`${s.url}/token`, CC, { authorization: `Basic ${Buffer.from('nocolon').toString('base64')}` }), 401, 'invalid_client');
      await expectError(await postForm(`${s.url}/token`, CC, { authorization: `Basic ${Buffer.from('svc:%E0%A4%A').toString('base64')}` }), 401, 'invalid_client');
    });

    test('missing grant_type: invalid_request; unknown: unsupported_grant_type', async () => {
      await expectError(await postForm(`${s.url}/token`, { scope: 'a' }, auth()), 400, 'invalid_request');
      await expectError(await postForm(`${s.url}/token`, { grant_type: 'urn:example:nope' }, auth()), 400, 'unsupported_grant_type');
    });

    test('grant not allowed for the client: unauthorized_client', async () => {
      await expectError(await postForm(`${s.url}/token`, CC, { authorization: basic('code-only', 'code-only-secret-0123456789') }), 400, 'unauthorized_client');
    });

    test('scope outside the client\'s allowed scopes: invalid_scope', async () => {
      await expectError(await postForm(`${s.url}/token`, { ...CC, scope: 'orders:read admin' }, auth()), 400, 'invalid_scope');
      await expectError(await postForm(`${s.url}/token`, { ...CC, scope: 'bad"scope' }, auth()), 400, 'invalid_scope');
    });

    test('duplicate parameters: invalid_request; empty ones count as absent', async () => {
      await expectError(await postForm(`${s.url}/token`, 'grant_type=client_credentials&grant_type=client_credentials', auth()), 400, 'invalid_request');
      await expectError(await postForm(`${s.url}/token`, 'grant_type=client_credentials&scope=a&scope=b', auth()), 400, 'invalid_request');
      const res = await postForm(`${s.url}/token`, 'grant_type=client_credentials&scope=&unknown=1', auth());
      assert.equal(res.status, 200);
    });

    test('non-form bodies: invalid_request', async () => {
      const json = await fetch(`${s.url}/token`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify(CC) });
      await expectError(json, 400, 'invalid_request');
      const broken = await fetch(`${s.url}/token`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth() }, body: '{"grant_type":' });
      await expectError(broken, 400, 'invalid_request');
      const none = await fetch(`${s.url}/token`, { method: 'POST', headers: auth() });
      await expectError(none, 400, 'invalid_request');
      const multipart = await fetch(`${s.url}/token`, { method: 'POST', headers: auth(), body: new FormData() });
      await expectError(multipart, 400, 'invalid_request');
    });

    test('parameters in the query string: invalid_request', async () => {
      await expectError(await postForm(`${s.url}/token?client_secret=${SERVICE_SECRET}`, CC, auth()), 400, 'invalid_request');
    });

    test('GET /token: 405 with Allow: POST', async () => {
      const res = await fetch(`${s.url}/token?grant_type=client_credentials`);
      await expectError(res, 405, 'invalid_request');
      assert.equal(res.headers.get('allow'), 'POST');
    });

    test('a body over 64 KiB: 413 invalid_request', async () => {
      await expectError(await postForm(`${s.url}/token`, `grant_type=client_credentials&pad=${'a'.repeat(70 * 1024)}`, auth()), 413, 'invalid_request');
    });

    test('malformed percent-encoding and invalid UTF-8: invalid_request', async () => {
      await expectError(await postForm(`${s.url}/token`, 'grant_type=client_credentials&scope=%zz', auth()), 400, 'invalid_request');
      await expectError(await postForm(`${s.url}/token`, 'grant_type=client_credentials&scope=%', auth()), 400, 'invalid_request');
      await expectError(await postForm(`${s.url}/token`, 'grant_type=client_credentials&scope=%FF%FE', auth()), 400, 'invalid_request');
    });

    test('prototype-polluting names are inert', async () => {
      const res = await postForm(`${s.url}/token`, 'grant_type=client_credentials&__proto__=x&__proto__%5Bscope%5D=admin&constructor%5Bprototype%5D%5Bx%5D=1', auth());
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { scope: string }).scope, 'orders:read orders:write');
      assert.equal(({} as Record<string, unknown>).scope, undefined);
    });

    test('SQL-injection strings are just wrong values', async () => {
      const inj = `svc' OR '1'='1`;
      await expectError(await postForm(`${s.url}/token`, { ...CC, client_id: inj, client_secret: `x' OR 1=1 --xxxxxxx` }), 401, 'invalid_client');
      await expectError(await postForm(`${s.url}/token`, CC, { authorization: basic(`'; DROP TABLE clients; --`, 'x'.repeat(20)) }), 401, 'invalid_client');
      await expectError(await postForm(`${s.url}/token`, { ...CC, scope: `orders:read' OR '1'='1` }, auth()), 400, 'invalid_scope');
      assert.equal((await postForm(`${s.url}/token`, CC, auth())).status, 200, 'clients table still there');
    });

    test('over-long client id or secret: invalid_client, not a 500', async () => {
      await expectError(await postForm(`${s.url}/token`, { ...CC, client_id: 'a'.repeat(5000), client_secret: 'b' }), 401, 'invalid_client');
      await expectError(await postForm(`${s.url}/token`, { ...CC, client_id: 'svc', client_secret: 'b'.repeat(5000) }), 401, 'invalid_client');
    });

    test('too many parameters: invalid_request', async () => {
      const many = Array.from({ length: 150 }, (_, i) => `p${i}=1`).join('&');
      await expectError(await postForm(`${s.url}/token`, `grant_type=client_credentials&${many}`, auth()), 400, 'invalid_request');
    });

    test('huge headers: 431 from the HTTP layer, server stays up', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${s.url}/token`, { method: 'POST', headers: { 'x-big': 'a'.repeat(64 * 1024), 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end('grant_type=client_credentials');
      });
      assert.equal(status, 431);
      assert.equal((await postForm(`${s.url}/token`, CC, auth())).status, 200);
    });

    test('unknown paths: 404 JSON', async () => {
      const res = await fetch(`${s.url}/nope`);
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { error: string }).error, 'not_found');
    });
  });
});
