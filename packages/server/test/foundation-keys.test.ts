import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { basic, postForm, SERVICE_SECRET, startServer, type Running } from './helpers.ts';

async function token(s: Running): Promise<string> {
  const res = await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', SERVICE_SECRET) });
  assert.equal(res.status, 200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function jwks(s: Running): Promise<JSONWebKeySet> {
  const res = await fetch(`${s.url}/jwks.json`);
  assert.equal(res.status, 200);
  return (await res.json()) as JSONWebKeySet;
}

async function verify(s: Running, t: string, set?: JSONWebKeySet) {
  return jwtVerify(t, createLocalJWKSet(set ?? (await jwks(s))), { issuer: s.url, typ: 'at+jwt' });
}

describe('discovery and JWKS', () => {
  let s: Running;
  after(() => s?.dispose());

  test('both well-known documents list what is supported; issuer equals iss', async () => {
    s = await startServer();
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const res = await fetch(`${s.url}${path}`);
      assert.equal(res.status, 200);
      const md = (await res.json()) as Record<string, unknown>;
      assert.equal(md.issuer, s.url);
      assert.equal(md.token_endpoint, `${s.url}/token`);
      assert.equal(md.jwks_uri, `${s.url}/jwks.json`);
      assert.ok((md.grant_types_supported as string[]).includes('client_credentials'));
      const methods = md.token_endpoint_auth_methods_supported as string[];
      assert.ok(methods.includes('client_secret_basic') && methods.includes('client_secret_post'));
      // Issue 13: private_key_jwt is implemented; client_secret_jwt is listed only while a client is configured for it.
      assert.ok(methods.includes('private_key_jwt') && !methods.includes('client_secret_jwt'), 'only what is usable');
      assert.ok(!(md.grant_types_supported as string[]).includes('password'), 'no client has the password grant');
    }
    const { payload } = await verify(s, await token(s));
    assert.equal(payload.iss, s.url);
  });

  test('JWKS has public members only, unique kids, alg and use on every key, RSA ≥ 2048 bits', async () => {
    const set = await jwks(s);
    assert.ok(set.keys.length >= 2, 'active and next are published');
    const kids = set.keys.map((k) => k.kid);
    assert.equal(new Set(kids).size, kids.length);
    for (const k of set.keys) {
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.ok(!(priv in k), `private member ${priv}`);
      assert.equal(k.use, 'sig');
      assert.equal(k.alg, 'RS256');
      assert.equal(k.kty, 'RSA');
      assert.ok(Buffer.from(String(k.n), 'base64url').length * 8 >= 2048);
    }
  });
});

describe('keys persist, are encrypted at rest, and rotate', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-keys-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('a restart keeps the keys: a token issued before it still verifies after it', async () => {
    const first = await startServer({}, dataDir);
    const before = await token(first);
    const kidsBefore = (await jwks(first)).keys.map((k) => k.kid).sort();
    await first.stop();

    const second = await startServer({ port: undefined }, dataDir);
    try {
      const set = await jwks(second);
      assert.deepEqual(set.keys.map((k) => k.kid).sort(), kidsBefore);
      // The issuer differs per port, so check the signature and claims against the old issuer.
      const { payload } = await jwtVerify(before, createLocalJWKSet(set), { issuer: first.url, typ: 'at+jwt' });
      assert.equal(payload.client_id, 'svc');
      assert.equal(decodeProtectedHeader(await token(second)).kid, decodeProtectedHeader(before).kid);
    } finally {
      await second.stop();
    }
  });

  test('private keys are stored encrypted', () => {
    const db = new Database(join(dataDir, 'tessera.db'), { readonly: true });
    const rows = db.prepare('select kid, public_jwk, private_jwk_enc from signing_keys').all() as { kid: string; public_jwk: string; private_jwk_enc: string }[];
    db.close();
    assert.ok(rows.length >= 2);
    for (const r of rows) {
      assert.match(r.private_jwk_enc, /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      assert.ok(!r.private_jwk_enc.includes('"d"'));
      assert.ok(!('d' in JSON.parse(r.public_jwk)));
    }
  });

  test('a different secret cannot decrypt the keys: start fails instead of silently making new keys', async () => {
    const { createTessera, loadConfig } = await import('../src/index.ts');
    const config = loadConfig({ env: {}, overrides: { dataDir, logLevel: 'silent', port: 0 } });
    await assert.rejects(createTessera(config, { logger: false, env: { TESSERA_SECRET: 'another-secret-that-is-long-enough-000' } }), /Unsupported state or unable to authenticate data/);
  });

  test('rotation: next key published before it signs; the retired key stays published', async () => {
    const s = await startServer({}, dataDir);
    try {
      const oldToken = await token(s);
      const oldKid = decodeProtectedHeader(oldToken).kid;
      const before = await jwks(s);
      const nextKid = s.tessera.ctx.keyring.list().find((k) => k.state === 'next')!.kid;
      assert.ok(before.keys.some((k) => k.kid === nextKid), 'next key already in the JWKS');

      await s.tessera.ctx.keyring.rotate();
      const newToken = await token(s);
      assert.equal(decodeProtectedHeader(newToken).kid, nextKid, 'the published next key became active');
      const after = await jwks(s);
      assert.ok(after.keys.some((k) => k.kid === oldKid), 'retired key still published');
      await verify(s, oldToken, after);
      await verify(s, newToken, after);
      // A resource server that cached the JWKS before the rotation can verify the new token too.
      await verify(s, newToken, before);
      assert.equal(after.keys.filter((k) => s.tessera.ctx.keyring.list().find((x) => x.kid === k.kid)?.state === 'next').length, 1);
    } finally {
      await s.stop();
    }
  });
});

describe('signing algorithms and scheduled rotation', () => {
  for (const alg of ['ES256', 'EdDSA'] as const) {
    test(`${alg} keys sign verifiable tokens`, async () => {
      const s = await startServer({ keys: { algorithm: alg, reloadEvery: 10 } });
      try {
        const t = await token(s);
        assert.equal(decodeProtectedHeader(t).alg, alg);
        const set = await jwks(s);
        // Each key serves one algorithm (F6): the access-token one, and RS256 for ID tokens (issue 12).
        assert.ok(set.keys.every((k) => (k.alg === alg || k.alg === 'RS256') && k.use === 'sig'));
        assert.ok(set.keys.some((k) => k.alg === alg));
        await verify(s, t, set);
      } finally {
        await s.dispose();
      }
    });
  }

  test('changing the configured algorithm rotates to a key of the new algorithm at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-alg-'));
    const a = await startServer({}, dir);
    await a.stop();
    const b = await startServer({ keys: { algorithm: 'ES256', reloadEvery: 10 } }, dir);
    try {
      assert.equal(decodeProtectedHeader(await token(b)).alg, 'ES256');
      assert.ok((await jwks(b)).keys.some((k) => k.alg === 'RS256'), 'old RSA key still published until its tokens expire');
    } finally {
      await b.dispose();
    }
  });

  test('keys.rotateEvery rotates without a restart', async () => {
    const s = await startServer({ keys: { algorithm: 'ES256', rotateEvery: 2, reloadEvery: 10 } });
    try {
      const kid = decodeProtectedHeader(await token(s)).kid;
      const deadline = Date.now() + 10_000;
      let rotated = false;
      while (!rotated && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 300));
        rotated = decodeProtectedHeader(await token(s)).kid !== kid;
      }
      assert.ok(rotated, 'the active key changed on schedule');
      assert.ok((await jwks(s)).keys.some((k) => k.kid === kid), 'the retired key is still published');
    } finally {
      await s.dispose();
    }
  });
});
