import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { jwtVerify } from 'jose';
import { ClientKeys, jwksUriAllowed } from '../src/engine/client-auth/index.ts';
import type { Client } from '../src/storage/stores.ts';
import { assertionClaims, clientKey, signAssertion, type ClientKey } from './support/assertions.ts';

/**
 * A private_key_jwt client's jwks_uri (OIDC Core §10.1.1): fetched over a real local HTTP server, cached,
 * refetched once on an unknown kid (then not again within the cooldown), no redirects, size-capped.
 */
let server: Server;
let base: string;
let fetches = 0;
let body: () => string;
let status = 200;

before(async () => {
  server = createServer((req, res) => {
    fetches++;
    if (req.url === '/redirect') return res.writeHead(302, { location: '/jwks' }).end();
    res.writeHead(status, { 'content-type': 'application/json' }).end(body());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
after(() => server?.close());

function client(jwksUri: string, updatedAt = 1): Client {
  return {
    id: 'c1', name: 'c1', type: 'confidential', secretHash: undefined, redirectUris: [], grantTypes: ['client_credentials'], scopes: [],
    audience: undefined, resources: [], accessTokenTtl: undefined, firstParty: false, tokenEndpointAuthMethod: 'private_key_jwt',
    jwksUri, source: 'cli', createdAt: 1, updatedAt,
  };
}

async function verifies(keys: ClientKeys, c: Client, k: ClientKey): Promise<boolean> {
  const jwt = await signAssertion(k, assertionClaims('c1', 'https://as.example'));
  try {
    await jwtVerify(jwt, keys.resolver(c)!, { algorithms: [k.alg] });
    return true;
  } catch {
    return false;
  }
}

describe('jwks_uri fetching', () => {
  test('unknown kid: exactly one refetch, which finds a rotated key', async () => {
    const k1 = await clientKey('ES256');
    const k2 = await clientKey('ES256');
    let current = [k1];
    body = () => JSON.stringify({ keys: current.map((k) => k.publicJwk) });
    const keys = new ClientKeys({ production: false, cooldownMs: 0 });
    const c = client(`${base}/jwks`);
    fetches = 0;
    assert.equal(await verifies(keys, c, k1), true);
    assert.equal(await verifies(keys, c, k1), true);
    assert.equal(fetches, 1, 'cached after the first fetch');
    current = [k2];
    assert.equal(await verifies(keys, c, k2), true);
    assert.equal(fetches, 2, 'one refetch for the unknown kid');
    const stranger = await clientKey('ES256');
    assert.equal(await verifies(keys, c, stranger), false);
    assert.equal(fetches, 3, 'a kid still unknown after the refetch fails; no loop');
  });

  test('within the cooldown an unknown kid does not refetch', async () => {
    const k1 = await clientKey('ES256');
    body = () => JSON.stringify({ keys: [k1.publicJwk] });
    const keys = new ClientKeys({ production: false, cooldownMs: 60_000 });
    const c = client(`${base}/jwks`, 2);
    fetches = 0;
    assert.equal(await verifies(keys, c, k1), true);
    for (let i = 0; i < 5; i++) assert.equal(await verifies(keys, c, await clientKey('ES256')), false);
    assert.equal(fetches, 1);
  });

  test('a response over 64 KiB, a redirect, or a non-200 is refused', async () => {
    const k1 = await clientKey('ES256');
    body = () => JSON.stringify({ keys: [k1.publicJwk], padding: 'x'.repeat(70_000) });
    assert.equal(await verifies(new ClientKeys({ production: false }), client(`${base}/big`, 3), k1), false);
    body = () => JSON.stringify({ keys: [k1.publicJwk] });
    assert.equal(await verifies(new ClientKeys({ production: false }), client(`${base}/redirect`, 4), k1), false);
    status = 500;
    assert.equal(await verifies(new ClientKeys({ production: false }), client(`${base}/jwks`, 5), k1), false);
    status = 200;
    assert.equal(await verifies(new ClientKeys({ production: false }), client(`${base}/jwks`, 6), k1), true);
  });

  test('https only in production; http only on loopback otherwise', () => {
    assert.equal(jwksUriAllowed('https://client.example/jwks', true), true);
    assert.equal(jwksUriAllowed('http://127.0.0.1:8080/jwks', true), false);
    assert.equal(jwksUriAllowed('http://127.0.0.1:8080/jwks', false), true);
    assert.equal(jwksUriAllowed('http://client.example/jwks', false), false);
    assert.equal(jwksUriAllowed('https://user:pw@client.example/jwks', false), false);
    assert.equal(jwksUriAllowed('file:///etc/passwd', false), false);
    assert.equal(new ClientKeys({ production: true }).resolver(client(`${base}/jwks`, 7)), undefined);
  });
});
