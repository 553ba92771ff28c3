// RFC 9068 §4 / RFC 8725 attack matrix (SECURITY-CHECKLIST G1–G9, G12): every token here must be refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHmac, KeyObject, sign, type webcrypto } from 'node:crypto';
import { base64url, exportJWK, exportSPKI, SignJWT } from 'jose';
import { InsufficientScope, InvalidToken } from '@tessera/protocol';
import { createVerifier, checkRoles, checkScopes, type Verifier } from '../src/index.ts';
import { AUDIENCE, listen, makeKey, rawToken, signRawRs256, json, startIssuer, type TestIssuer } from './helpers/issuer.ts';

let issuer: TestIssuer;
let verifier: Verifier;
before(async () => {
  issuer = await startIssuer();
  verifier = createVerifier({ issuer: issuer.url, audience: AUDIENCE, cacheSize: 0 });
  await verifier.verify(await issuer.sign()); // warm the JWKS so unknown-kid cases do not refetch
});
after(async () => {
  await verifier.close();
  await issuer.close();
});

async function refused(token: string, reason?: RegExp): Promise<void> {
  await assert.rejects(verifier.verify(token), (e: unknown) => {
    assert.ok(e instanceof InvalidToken, `expected InvalidToken, got ${String(e)}`);
    if (reason) assert.match(e.debug ?? '', reason);
    return true;
  });
}

const parts = (t: string) => t.split('.') as [string, string, string];
const hs256 = (header: object, payload: object, secret: Uint8Array | string) => {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
  return `${input}.${base64url.encode(createHmac('sha256', secret).update(input).digest())}`;
};

test('baseline: a well-formed token is accepted (so every refusal below is meaningful)', async () => {
  const r = await verifier.verify(await issuer.sign());
  assert.equal(r.sub, 'user-1');
});

test('alg none in any casing, with and without a signature part, is refused', async () => {
  const payload = issuer.claims();
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    const header = { alg, kid: issuer.keys.rs.kid, typ: 'at+jwt' };
    await refused(rawToken(header, payload, ''));
    await refused(rawToken(header, payload, '').slice(0, -1)); // two segments, no trailing dot
    await refused(rawToken(header, payload, 'c2ln'));
  }
});

test('HS256 signed with the RSA public key (PEM, JWK JSON, modulus bytes) is refused', async () => {
  const { rs } = issuer.keys;
  const header = { alg: 'HS256', kid: rs.kid, typ: 'at+jwt' };
  const pem = await exportSPKI(rs.publicKey);
  const jwk = await exportJWK(rs.publicKey);
  for (const secret of [pem, Buffer.from(pem), JSON.stringify(jwk), JSON.stringify(rs.jwk), base64url.decode(jwk.n!)]) {
    await refused(hs256(header, issuer.claims(), secret), /alg/);
  }
  // And via jose, with the PEM bytes as the HMAC key.
  await refused(await new SignJWT(issuer.claims()).setProtectedHeader(header).sign(new TextEncoder().encode(pem)));
});

test('ES256 with r = s = 0 ("psychic signature", CVE-2022-21449) is refused', async () => {
  const header = { alg: 'ES256', kid: issuer.keys.es.kid, typ: 'at+jwt' };
  await refused(rawToken(header, issuer.claims(), base64url.encode(new Uint8Array(64))));
});

test('unknown kid, and an attacker key using a known kid, are refused', async () => {
  const attacker = await makeKey('RS256', 'attacker');
  await refused(await issuer.sign({}, { key: attacker }), /no usable key/);
  const impostor = { ...attacker, kid: issuer.keys.rs.kid };
  await refused(await issuer.sign({}, { key: impostor }), /signature/);
});

test('header alg must match the key type and the JWK alg', async () => {
  const good = parts(await issuer.sign());
  const esHeader = base64url.encode(JSON.stringify({ alg: 'ES256', kid: issuer.keys.rs.kid, typ: 'at+jwt' }));
  await refused(`${esHeader}.${good[1]}.${good[2]}`, /no usable key/);
  // PS256 by the same RSA key is a valid signature, but the JWK says alg RS256 (RFC 8725 §3.1).
  const ps = createVerifier({ issuer: issuer.url, audience: AUDIENCE, algorithms: ['RS256', 'PS256'] });
  try {
    const input = `${base64url.encode(JSON.stringify({ alg: 'PS256', kid: issuer.keys.rs.kid, typ: 'at+jwt' }))}.${base64url.encode(JSON.stringify(issuer.claims()))}`;
    const key = KeyObject.from(issuer.keys.rs.privateKey as unknown as webcrypto.CryptoKey);
    const sig = sign('sha256', Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    await assert.rejects(ps.verify(`${input}.${base64url.encode(sig)}`), (e: InvalidToken) => /no usable key/.test(e.debug ?? ''));
  } finally {
    await ps.close();
  }
});

test('a tampered payload is refused', async () => {
  const [h, p, s] = parts(await issuer.sign());
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p))) as Record<string, unknown>;
  claims.scope = 'openid orders:read orders:write';
  await refused(`${h}.${base64url.encode(JSON.stringify(claims))}.${s}`, /signature/);
});

test('iss must be a string exactly equal to the issuer', async () => {
  await refused(await issuer.sign({ iss: 'https://evil.test' }));
  await refused(await issuer.sign({ iss: `${issuer.url}/` }));
  await refused(await issuer.sign({ iss: [issuer.url] }));
  await refused(await issuer.sign({ iss: undefined }));
});

test('aud must contain the audience; a missing aud is refused', async () => {
  await refused(await issuer.sign({ aud: 'https://other.test' }));
  await refused(await issuer.sign({ aud: ['https://other.test'] }));
  await refused(await issuer.sign({ aud: undefined }));
  await refused(await issuer.sign({ aud: 42 }));
  assert.equal((await verifier.verify(await issuer.sign({ aud: ['x', AUDIENCE] }))).sub, 'user-1');
});

test('exp is required and enforced beyond the clock tolerance; nbf and iat are sane', async () => {
  const t = Math.floor(Date.now() / 1000);
  await refused(await issuer.sign({ exp: undefined }));
  await refused(await issuer.sign({ exp: t - 31 }));
  await refused(await issuer.sign({ exp: String(t + 600) }));
  await refused(await issuer.sign({ nbf: t + 120 }));
  await refused(await issuer.sign({ iat: t + 120 }), /iat/);
  await refused(await issuer.sign({ iat: undefined }));
  await refused(await issuer.sign({ iat: 'yesterday' }));
});

test('typ must be at+jwt: missing, JWT, and an ID token are refused', async () => {
  await refused(await issuer.sign({}, { header: { typ: undefined } }), /typ/);
  await refused(await issuer.sign({}, { header: { typ: 'JWT' } }), /typ/);
  await refused(await issuer.sign({}, { header: { typ: 'at+jwt2' } }), /typ/);
  const idToken = await issuer.sign({ aud: AUDIENCE, nonce: 'n', auth_time: 1, scope: undefined }, { header: { typ: 'JWT' } });
  await refused(idToken, /typ/);
  // RFC 9068 §4 step 1: media type comparison is case-insensitive with the application/ prefix optional.
  for (const typ of ['application/at+jwt', 'AT+JWT', 'Application/At+Jwt']) {
    assert.equal((await verifier.verify(await issuer.sign({}, { header: { typ } }))).sub, 'user-1');
  }
});

test('jku, x5u, jwk and x5c headers are never followed and never trusted', async () => {
  const attacker = await makeKey('RS256', 'attacker-kid');
  const evil = await listen((_req, res) => json(res, 200, { keys: [attacker.jwk] }));
  try {
    const headers = [
      { jku: `${evil.url}/jwks.json` },
      { x5u: `${evil.url}/cert.pem` },
      { jwk: attacker.jwk },
      { x5c: ['MIIBIjANBg=='] },
      { jku: `${evil.url}/jwks.json`, jwk: attacker.jwk, x5u: `${evil.url}/c` },
    ];
    for (const header of headers) {
      await refused(await issuer.sign({}, { key: attacker, header }));
      await refused(await issuer.sign({}, { key: { ...attacker, kid: issuer.keys.rs.kid }, header }));
    }
    assert.deepEqual(evil.requests, [], 'no outbound request to the attacker');
  } finally {
    await evil.close();
  }
});

test('an unknown crit entry is refused', async () => {
  const { rs } = issuer.keys;
  const claims = JSON.stringify(issuer.claims());
  const header = (extra: string) => `{"alg":"RS256","kid":"${rs.kid}","typ":"at+jwt",${extra}}`;
  await refused(signRawRs256(header('"crit":["urn:example:unknown"],"urn:example:unknown":1'), claims, rs), /crit/);
  await refused(signRawRs256(header('"crit":["b64"],"b64":false'), claims, rs), /crit/);
  await refused(signRawRs256(header('"crit":[]'), claims, rs), /crit/);
});

test('the payload must be a JSON object: arrays, strings and numbers are refused', async () => {
  const header = JSON.stringify({ alg: 'RS256', kid: issuer.keys.rs.kid, typ: 'at+jwt' });
  for (const payload of [JSON.stringify([issuer.claims()]), '"x"', '42', 'null', '{not json']) {
    await refused(signRawRs256(header, payload, issuer.keys.rs), /payload/);
  }
});

test('duplicate member names in header or payload are refused even with a valid signature', async () => {
  const { rs } = issuer.keys;
  const claims = JSON.stringify(issuer.claims());
  const header = `{"alg":"RS256","kid":"${rs.kid}","typ":"at+jwt"}`;
  assert.equal((await verifier.verify(signRawRs256(header, claims, rs))).sub, 'user-1', 'control: raw signing works');
  const dupPayload = `{"aud":"https://other.test",${claims.slice(1)}`;
  await refused(signRawRs256(header, dupPayload, rs), /duplicate/);
  const escapedDup = `{"\\u0061ud":"https://other.test",${claims.slice(1)}`;
  await refused(signRawRs256(header, escapedDup, rs), /duplicate/);
  const nestedDup = `{"cnf":{"a":1,"a":2},${claims.slice(1)}`;
  await refused(signRawRs256(header, nestedDup, rs), /duplicate/);
  await refused(signRawRs256(`{"typ":"JWT",${header.slice(1)}`, claims, rs), /duplicate/);
  await refused(signRawRs256(`{"alg":"none",${header.slice(1)}`, claims, rs), /duplicate/);
});

test('roles must be an array of strings; scope a string; sub and client_id strings', async () => {
  await refused(await issuer.sign({ roles: 'admin' }), /roles/);
  await refused(await issuer.sign({ roles: ['admin', 1] }), /roles/);
  await refused(await issuer.sign({ roles: { 0: 'admin', length: 1 } }), /roles/);
  await refused(await issuer.sign({ scope: ['orders:read'] }), /scope/);
  await refused(await issuer.sign({ sub: 7 }));
  await refused(await issuer.sign({ client_id: undefined }));
  await refused(await issuer.sign({ jti: undefined }));
});

test('__proto__ claims grant nothing', async () => {
  const { rs } = issuer.keys;
  const header = `{"alg":"RS256","kid":"${rs.kid}","typ":"at+jwt"}`;
  const base = issuer.claims({ roles: undefined, scope: 'openid' });
  const payload = `{"__proto__":{"roles":["admin"],"scope":"orders:delete","iss":"x"},${JSON.stringify(base).slice(1)}`;
  const r = await verifier.verify(signRawRs256(header, payload, rs));
  assert.deepEqual([...r.roles], []);
  assert.deepEqual([...r.scopes], ['openid']);
  assert.throws(() => checkRoles('admin')(r), InsufficientScope);
  assert.throws(() => checkScopes('orders:delete')(r), InsufficientScope);
});

test('a polluted Object.prototype does not leak roles or scope into a token that has none', async () => {
  const token = await issuer.sign({ roles: undefined, scope: undefined });
  const proto = Object.prototype as Record<string, unknown>;
  proto.roles = ['admin'];
  proto.scope = 'orders:delete';
  try {
    const r = await verifier.verify(token);
    assert.equal(r.roles.size, 0);
    assert.equal(r.scopes.size, 0);
    assert.throws(() => checkRoles('admin')(r), InsufficientScope);
  } finally {
    delete proto.roles;
    delete proto.scope;
  }
});

test('malformed compact serializations are refused', async () => {
  const t = await issuer.sign();
  for (const bad of ['', 'a.b', `${t}.x.y`, `${t} `, t.replace('.', '..'), `${t}=`, 'x'.repeat(9000)]) await refused(bad);
  await assert.rejects(verifier.verify(42 as unknown as string), InvalidToken);
});
