import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import { loadConfig } from '../src/index.ts';
import type { RawConfig } from '../src/config/schema.ts';
import { basic, postForm, SERVICE_SECRET, serviceClient, startServer, type Running } from './helpers.ts';
import { Agent, alice, authorize, authParams, pkce, REDIRECT, tokenRequest, users, WEB_SECRET, webClient } from './oidc-helpers.ts';

/**
 * Issue 12 item 6: OIDC Discovery §3 requires RS256 among the ID token algorithms. A server whose access
 * tokens are ES256 or EdDSA keeps an RS256 key chain beside its own, publishes both, signs ID tokens with
 * RS256 unless the client registered `idTokenSignedResponseAlg`, and rotates and persists both chains.
 */
const esClient = { ...webClient, id: 'webapp-es', idTokenSignedResponseAlg: 'ES256' as const };

function startEs(overrides: Partial<RawConfig> = {}, dataDir?: string): Promise<Running> {
  return startServer({ keys: { algorithm: 'ES256', reloadEvery: 10 }, clients: [serviceClient, webClient, esClient], users, ...overrides }, dataDir);
}

async function jwks(s: Running): Promise<JSONWebKeySet> {
  return (await (await fetch(`${s.url}/jwks.json`)).json()) as JSONWebKeySet;
}

async function accessToken(s: Running): Promise<string> {
  const res = await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', SERVICE_SECRET) });
  return ((await res.json()) as { access_token: string }).access_token;
}

/**
 * Login and consent over HTTP, then the code exchange by openid-client with non-repudiation checks on,
 * so it verifies the ID token's signature against the published JWKS (and its alg against the client's
 * `id_token_signed_response_alg`, RS256 when unset: OIDC Registration §2).
 */
async function idToken(s: Running, clientId: string, metadata: Partial<oidc.ClientMetadata> = {}): Promise<string> {
  const config = await oidc.discovery(new URL(s.url), clientId, metadata, oidc.ClientSecretBasic(WEB_SECRET), {
    execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks],
  });
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid profile', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', nonce, state: 'st',
  });
  const callback = await authorize(new Agent(s.url), url.searchParams, alice);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: 'st', idTokenExpected: true });
  assert.equal(tokens.claims()!.aud, clientId);
  return tokens.id_token!;
}

function activeKids(s: Running): Record<string, string> {
  return Object.fromEntries(s.tessera.ctx.keyring.list().filter((k) => k.state === 'active').map((k) => [k.alg, k.kid]));
}

describe('an ES256 server', () => {
  let s: Running;
  after(() => s?.dispose());

  test('lists RS256 and ES256 for ID tokens and publishes an active key of each', async () => {
    s = await startEs();
    const md = (await (await fetch(`${s.url}/.well-known/openid-configuration`)).json()) as { id_token_signing_alg_values_supported: string[] };
    assert.deepEqual(md.id_token_signing_alg_values_supported, ['RS256', 'ES256']);
    const set = await jwks(s);
    const kids = activeKids(s);
    assert.deepEqual(Object.keys(kids).sort(), ['ES256', 'RS256']);
    for (const kid of Object.values(kids)) assert.ok(set.keys.some((k) => k.kid === kid), 'active keys are published');
    for (const k of set.keys) assert.equal(k.use, 'sig');
    assert.ok(set.keys.some((k) => k.alg === 'RS256' && k.kty === 'RSA') && set.keys.some((k) => k.alg === 'ES256' && k.kty === 'EC'));
  });

  test('signs access tokens ES256 and ID tokens RS256 by default; openid-client verifies the ID token', async () => {
    assert.equal(decodeProtectedHeader(await accessToken(s)).alg, 'ES256');
    const header = decodeProtectedHeader(await idToken(s, 'webapp'));
    assert.equal(header.alg, 'RS256');
    assert.equal(header.kid, activeKids(s).RS256);
    assert.equal(header.typ, 'JWT');
  });

  test('signs ID tokens with the client\'s idTokenSignedResponseAlg', async () => {
    const t = await idToken(s, 'webapp-es', { id_token_signed_response_alg: 'ES256' });
    const header = decodeProtectedHeader(t);
    assert.equal(header.alg, 'ES256');
    assert.equal(header.kid, activeKids(s).ES256);
  });

  test('a stored client whose ID token alg has no key gets server_error, and its code is not burned', async () => {
    const now = Math.floor(Date.now() / 1000);
    await s.tessera.ctx.stores.clients.upsert({
      id: 'webapp-ed', name: 'Ed', type: 'confidential', secretHash: s.tessera.ctx.box.hashClientSecret(WEB_SECRET), redirectUris: [REDIRECT], grantTypes: ['authorization_code'],
      scopes: ['openid'], audience: undefined, resources: [], accessTokenTtl: undefined, firstParty: true, idTokenSignedResponseAlg: 'EdDSA', source: 'cli', createdAt: now, updatedAt: now,
    });
    const { verifier, challenge } = pkce();
    const callback = await authorize(new Agent(s.url), authParams(challenge, { client_id: 'webapp-ed', scope: 'openid' }), alice);
    const form = { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier };
    for (let i = 0; i < 2; i++) {
      const res = await tokenRequest(s.url, form, WEB_SECRET, 'webapp-ed');
      assert.equal(res.status, 500);
      assert.deepEqual(await res.json(), { error: 'server_error', error_description: 'the server cannot sign ID tokens for this client' });
    }
  });
});

describe('both key chains rotate and persist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-idalg-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a restart keeps both keys: same kids in the JWKS and on new tokens', async () => {
    const a = await startEs({}, dir);
    const kids = activeKids(a);
    const published = (await jwks(a)).keys.map((k) => k.kid).sort();
    const before = await idToken(a, 'webapp');
    await a.stop();
    const b = await startEs({}, dir);
    try {
      assert.deepEqual((await jwks(b)).keys.map((k) => k.kid).sort(), published);
      assert.deepEqual(activeKids(b), kids);
      assert.equal(decodeProtectedHeader(await idToken(b, 'webapp')).kid, kids.RS256);
      assert.equal(decodeProtectedHeader(await accessToken(b)).kid, kids.ES256);
      // The ID token from before the restart still verifies against the JWKS after it.
      await jwtVerify(before, createLocalJWKSet(await jwks(b)), { issuer: a.url, audience: 'webapp' });
    } finally {
      await b.stop();
    }
  });

  test('tessera keys rotate rotates both chains; the retired keys stay published', async () => {
    const cfg = join(dir, 'tessera.json');
    writeFileSync(cfg, JSON.stringify({ dataDir: dir, keys: { algorithm: 'ES256' } }));
    const s = await startEs({}, dir);
    try {
      const before = activeKids(s);
      const next = Object.fromEntries(s.tessera.ctx.keyring.list().filter((k) => k.state === 'next').map((k) => [k.alg, k.kid]));
      const oldId = await idToken(s, 'webapp');
      const r = spawnSync(process.execPath, [join(import.meta.dirname, '../bin/tessera.mjs'), '--config', cfg, 'keys', 'rotate'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`ES256 active: ${next.ES256}`));
      assert.match(r.stdout, new RegExp(`RS256 active: ${next.RS256}`));
      await s.tessera.ctx.keyring.reload(); // what the running server does within keys.reloadEvery
      assert.deepEqual(activeKids(s), next, 'the published next keys became active');
      assert.equal(decodeProtectedHeader(await idToken(s, 'webapp')).kid, next.RS256);
      assert.equal(decodeProtectedHeader(await accessToken(s)).kid, next.ES256);
      const set = await jwks(s);
      for (const kid of Object.values(before)) assert.ok(set.keys.some((k) => k.kid === kid), 'retired key still published');
      await jwtVerify(oldId, createLocalJWKSet(set), { issuer: s.url, audience: 'webapp' });
      assert.equal(s.tessera.ctx.keyring.list().filter((k) => k.state === 'next').length, 2, 'a fresh next key per chain');
    } finally {
      await s.stop();
    }
  });

  test('keys.rotateEvery rotates both chains on schedule', async () => {
    const s = await startEs({ keys: { algorithm: 'ES256', rotateEvery: 2, reloadEvery: 10 } });
    try {
      const before = activeKids(s);
      const deadline = Date.now() + 15_000;
      let now = activeKids(s);
      while ((now.ES256 === before.ES256 || now.RS256 === before.RS256) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 300));
        now = activeKids(s);
      }
      assert.notEqual(now.ES256, before.ES256, 'ES256 rotated');
      assert.notEqual(now.RS256, before.RS256, 'RS256 rotated');
    } finally {
      await s.dispose();
    }
  });

  test('switching keys.algorithm retires the old chain but keeps the RS256 one', async () => {
    const d = mkdtempSync(join(tmpdir(), 'tessera-idalg-switch-'));
    try {
      const a = await startEs({}, d);
      const kids = activeKids(a);
      await a.stop();
      const b = await startServer({ keys: { algorithm: 'EdDSA', reloadEvery: 10 }, clients: [serviceClient, webClient], users }, d);
      try {
        const now = activeKids(b);
        assert.deepEqual(Object.keys(now).sort(), ['EdDSA', 'RS256']);
        assert.equal(now.RS256, kids.RS256, 'ID tokens keep their key');
        const es = b.tessera.ctx.keyring.list().filter((k) => k.alg === 'ES256');
        assert.ok(es.length > 0 && es.every((k) => k.state === 'retired'), 'the ES256 keys are retired, still published');
        assert.equal(decodeProtectedHeader(await accessToken(b)).alg, 'EdDSA');
        assert.equal(decodeProtectedHeader(await idToken(b, 'webapp')).alg, 'RS256');
      } finally {
        await b.stop();
      }
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('during a rolling change of keys.algorithm, an instance still on the old one keeps signing verifiable tokens', async () => {
    const d = mkdtempSync(join(tmpdir(), 'tessera-idalg-rolling-'));
    const a = await startEs({}, d);
    try {
      const b = await startServer({ keys: { algorithm: 'EdDSA', reloadEvery: 10 }, clients: [serviceClient, webClient], users }, d);
      try {
        await a.tessera.ctx.keyring.reload(); // a sees its ES256 chain retired by b
        const t = await accessToken(a);
        assert.equal(decodeProtectedHeader(t).alg, 'ES256');
        await jwtVerify(t, createLocalJWKSet(await jwks(b)), { issuer: a.url, typ: 'at+jwt' });
      } finally {
        await b.stop();
      }
    } finally {
      await a.stop();
      rmSync(d, { recursive: true, force: true });
    }
  });
});

test('the config refuses an idTokenSignedResponseAlg the server has no key for', () => {
  assert.throws(
    () => loadConfig({ env: {}, overrides: { clients: [{ ...webClient, idTokenSignedResponseAlg: 'ES256' }] } }),
    /clients\.0 \(webapp\)\.idTokenSignedResponseAlg: ES256 needs keys\.algorithm: ES256 \(ID tokens can be RS256\)/,
  );
  assert.doesNotThrow(() => loadConfig({ env: {}, overrides: { clients: [{ ...webClient, idTokenSignedResponseAlg: 'RS256' }] } }));
  assert.doesNotThrow(() => loadConfig({ env: {}, overrides: { keys: { algorithm: 'EdDSA', reloadEvery: 10 }, clients: [{ ...webClient, idTokenSignedResponseAlg: 'EdDSA' }] } }));
});
