import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, createTessera, loadConfig } from '../src/index.ts';
import type { RawConfig } from '../src/config/schema.ts';
import { freePort, postForm, startServer, type Running } from './helpers.ts';
import { pkce, REDIRECT, users } from './oidc-helpers.ts';
import { dpopKey, proof } from './support/dpop.ts';
import { assertionClaims, assertionForm, clientKey, signAssertion, type ClientKey } from './support/assertions.ts';

/**
 * Issue 13 item 5: `profile: fapi2` (FAPI 2.0 Security Profile) — start-up errors that name each violating
 * field, what the preset turns on, and the running server's behaviour and metadata. Also the general
 * client-authentication config rules (RFC 7523, RFC 7591).
 */
function problems(overrides: Partial<RawConfig>, env: Record<string, string> = { NODE_ENV: 'test' }): string[] {
  try {
    loadConfig({ env, overrides: { issuer: 'https://as.example', dataDir: '/tmp/unused', ...overrides } });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  return [];
}

const JWK = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' };
const goodClient = {
  id: 'bank-app', type: 'confidential' as const, tokenEndpointAuthMethod: 'private_key_jwt' as const, jwks: { keys: [JWK] },
  grants: ['authorization_code', 'refresh_token'], scopes: ['openid'], redirectUris: [REDIRECT],
};
const fapi = { profile: 'fapi2' as const, keys: { algorithm: 'ES256' as const, reloadEvery: 10 } };

describe('profile fapi2: start-up errors name each violating field', () => {
  test('a compliant config loads; the preset turns on PAR and DPoP binding', () => {
    const cfg = loadConfig({ env: { NODE_ENV: 'test' }, overrides: { issuer: 'https://as.example', dataDir: '/tmp/unused', ...fapi, clients: [goodClient] } });
    assert.equal(cfg.requirePushedAuthorizationRequests, true);
    assert.equal(cfg.clients[0]!.dpopBoundAccessTokens, true);
  });

  test('every forbidden setting of every client is listed', () => {
    const p = problems({
      ...fapi,
      clients: [
        { id: 'legacy', secret: 'legacy-secret-0123456789abcdef', grants: ['password', 'authorization_code'], redirectUris: [REDIRECT] },
        { id: 'spa', type: 'public', grants: ['authorization_code'], redirectUris: [REDIRECT] },
        { ...goodClient, id: 'half', requirePushedAuthorizationRequests: false, dpopBoundAccessTokens: false, tokenEndpointAuthSigningAlg: 'RS256' },
        { id: 'csj', tokenEndpointAuthMethod: 'client_secret_jwt', secret: 'client-secret-jwt-0123456789abcdefghijkl', grants: ['client_credentials'] },
      ],
    });
    for (const expected of [
      'clients.0 (legacy).tokenEndpointAuthMethod: profile fapi2 requires private_key_jwt (is client_secret_basic)',
      'clients.0 (legacy).secret: profile fapi2 forbids client secrets',
      'clients.0 (legacy).grants: profile fapi2 forbids the password grant',
      'clients.1 (spa).type: profile fapi2 allows confidential clients only',
      'clients.1 (spa).tokenEndpointAuthMethod: profile fapi2 requires private_key_jwt (is none)',
      'clients.2 (half).requirePushedAuthorizationRequests: profile fapi2 requires pushed authorization requests',
      'clients.2 (half).dpopBoundAccessTokens: profile fapi2 requires DPoP-bound access tokens',
      'clients.2 (half).tokenEndpointAuthSigningAlg: profile fapi2 allows PS256, ES256, EdDSA, Ed25519',
      'clients.3 (csj).tokenEndpointAuthMethod: profile fapi2 requires private_key_jwt (is client_secret_jwt)',
      'clients.3 (csj).secret: profile fapi2 forbids client secrets',
    ]) assert.ok(p.includes(expected), `missing: ${expected}\n${p.join('\n')}`);
  });

  test('server-wide: PAR switched off, long codes, RS256 signing, token-endpoint audience', () => {
    const p = problems({
      profile: 'fapi2', requirePushedAuthorizationRequests: false, tokens: { accessTokenTtl: 300, maxAccessTokenTtl: 600, codeTtl: 120 },
      clientAuth: { acceptTokenEndpointAudience: true }, clients: [goodClient],
    });
    assert.deepEqual(p.sort(), [
      'clientAuth.acceptTokenEndpointAudience: profile fapi2 accepts the issuer as the only assertion audience',
      'keys.algorithm: profile fapi2 allows ES256 or EdDSA (RS256 is not allowed)',
      'requirePushedAuthorizationRequests: profile fapi2 requires pushed authorization requests',
      'tokens.codeTtl: profile fapi2 allows at most 60 seconds',
    ]);
  });

  test('without the profile the same clients are fine', () => {
    assert.deepEqual(problems({ clients: [{ id: 'legacy', secret: 'legacy-secret-0123456789abcdef', grants: ['password'] }] }), []);
  });

  test('a client created with the CLI that breaks the profile stops the start, named', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-fapi-'));
    try {
      const plain = await startServer({ clients: [] }, dataDir);
      const now = Math.floor(Date.now() / 1000);
      await plain.tessera.ctx.stores.clients.upsert({
        id: 'cli-app', name: 'cli-app', type: 'confidential', secretHash: plain.tessera.ctx.box.hashClientSecret('cli-secret-0123456789abcdef'),
        redirectUris: [], grantTypes: ['client_credentials'], scopes: [], audience: undefined, resources: [], accessTokenTtl: undefined,
        firstParty: false, source: 'cli', createdAt: now, updatedAt: now,
      });
      await plain.stop();
      const port = await freePort();
      const config = loadConfig({ env: { NODE_ENV: 'test' }, overrides: { issuer: `http://127.0.0.1:${port}`, port, dataDir, logLevel: 'silent', ...fapi, clients: [goodClient] } });
      await assert.rejects(createTessera(config, { logger: false, env: {} }), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.ok(e.problems.includes('stored client cli-app (created with the CLI).tokenEndpointAuthMethod: profile fapi2 requires private_key_jwt (is client_secret_basic)'), e.problems.join('\n'));
        assert.ok(e.problems.includes('stored client cli-app (created with the CLI).secret: profile fapi2 forbids client secrets'));
        return true;
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('profile fapi2: the running server', () => {
  let s: Running;
  let es: ClientKey;
  let rs: ClientKey;
  before(async () => {
    es = await clientKey('ES256');
    rs = await clientKey('RS256');
    s = await startServer({
      ...fapi,
      users,
      clients: [{ ...goodClient, jwks: { keys: [es.publicJwk as { kty: string }, rs.publicJwk as { kty: string }] }, grants: ['authorization_code', 'client_credentials'], audience: 'https://orders.example' }],
    });
  });
  after(() => s?.dispose());

  test('metadata: private_key_jwt only, no RS256, PAR required', async () => {
    const md = (await (await fetch(`${s.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.deepEqual(md.token_endpoint_auth_methods_supported, ['private_key_jwt']);
    assert.deepEqual(md.introspection_endpoint_auth_methods_supported, ['private_key_jwt']);
    assert.deepEqual(md.token_endpoint_auth_signing_alg_values_supported, ['PS256', 'ES256', 'EdDSA', 'Ed25519']);
    assert.equal(md.require_pushed_authorization_requests, true);
    assert.deepEqual(md.code_challenge_methods_supported, ['S256']);
    assert.equal(md.authorization_response_iss_parameter_supported, true);
  });

  test('assertions: ES256 accepted, RS256 refused; tokens are DPoP-bound (a request without a proof is refused)', async () => {
    const dpop = await dpopKey();
    const cc = async (k: ClientKey, withProof = true) => postForm(`${s.url}/token`, { grant_type: 'client_credentials', ...assertionForm(await signAssertion(k, assertionClaims('bank-app', s.url))) },
      withProof ? { dpop: await proof(dpop, { htu: `${s.url}/token` }) } : {});
    const ok = await cc(es);
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.equal(((await ok.json()) as { token_type: string }).token_type, 'DPoP');
    const bearer = await cc(es, false);
    assert.equal(bearer.status, 400);
    assert.equal(((await bearer.json()) as { error: string }).error, 'invalid_dpop_proof');
    const bad = await cc(rs);
    assert.equal(bad.status, 401);
    assert.equal(((await bad.json()) as { error: string }).error, 'invalid_client');
  });

  test('/authorize without PAR is refused server-wide', async () => {
    const q = new URLSearchParams({ client_id: 'bank-app', response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', code_challenge: pkce().challenge, code_challenge_method: 'S256' });
    const res = await fetch(`${s.url}/authorize?${q}`, { redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'invalid_request');
  });
});

describe('client-authentication settings in the config file', () => {
  test('each problem is named', () => {
    const p = problems({
      clients: [
        { id: 'a', tokenEndpointAuthMethod: 'private_key_jwt', grants: ['client_credentials'] },
        { id: 'b', tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ ...JWK, d: 'secret' } as { kty: string }] }, secret: 'b-secret-0123456789abcdef', grants: ['client_credentials'] },
        { id: 'c', tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'http://keys.example/jwks', grants: ['client_credentials'], tokenEndpointAuthSigningAlg: 'HS256' },
        { id: 'd', tokenEndpointAuthMethod: 'client_secret_jwt', secret: 'short-secret-0123456', grants: ['client_credentials'] },
        { id: 'e', tokenEndpointAuthMethod: 'client_secret_jwt', secretHash: `hmac-sha256$${'A'.repeat(43)}`, grants: ['client_credentials'] },
        { id: 'f', secret: 'f-secret-0123456789abcdef', jwks: { keys: [JWK] }, grants: ['client_credentials'], tokenEndpointAuthSigningAlg: 'ES256' },
        { id: 'g', type: 'public', tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [JWK] }, grants: ['authorization_code'], redirectUris: [REDIRECT] },
      ],
    });
    for (const expected of [
      'clients.0 (a): private_key_jwt needs exactly one of jwks or jwksUri',
      'clients.1 (b).secret: a private_key_jwt client has no secret',
      'clients.1 (b).jwks.keys.0: contains private key material (d); give the public key only',
      'clients.2 (c).jwksUri: must be an https URL (http only on 127.0.0.1 or localhost, outside production)',
      'clients.2 (c).tokenEndpointAuthSigningAlg: private_key_jwt uses RS256, PS256, ES256, EdDSA or Ed25519',
      'clients.3 (d).secret: client_secret_jwt needs at least 32 characters (HS256, RFC 7518 §3.2)',
      'clients.4 (e).secretHash: client_secret_jwt needs the secret itself (secret, or secretEncrypted in production)',
      'clients.5 (f).jwks: only for tokenEndpointAuthMethod private_key_jwt',
      'clients.5 (f).tokenEndpointAuthSigningAlg: only for private_key_jwt or client_secret_jwt',
      'clients.6 (g).tokenEndpointAuthMethod: a public client uses none',
    ]) assert.ok(p.includes(expected), `missing: ${expected}\n${p.join('\n')}`);
  });

  test('production: no http jwksUri even on loopback; client_secret_jwt uses secretEncrypted', () => {
    const p = problems({
      clients: [
        { id: 'a', tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'http://127.0.0.1:9999/jwks', grants: ['client_credentials'] },
        { id: 'b', tokenEndpointAuthMethod: 'client_secret_jwt', secret: 'client-secret-jwt-0123456789abcdefghijkl', grants: ['client_credentials'] },
      ],
    }, { NODE_ENV: 'production', TESSERA_SECRET: 'x'.repeat(40) });
    assert.ok(p.includes('clients.0 (a).jwksUri: must be an https URL'), p.join('\n'));
    assert.ok(p.includes('clients.1 (b).secret: plain secrets are not allowed in production; use secretEncrypted'), p.join('\n'));
  });
});
