// Happy paths, normalisation, key rotation, JWKS outage, discovery and the verified-result cache.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidToken } from '@tessera/protocol';
import { createVerifier, type Verifier } from '../src/index.ts';
import { AUDIENCE, json, listen, makeKey, startIssuer, type TestIssuer } from './helpers/issuer.ts';

let issuer: TestIssuer;
const open: Verifier[] = [];
const make = (o: Partial<Parameters<typeof createVerifier>[0]> = {}) => {
  const v = createVerifier({ issuer: issuer.url, audience: AUDIENCE, ...o });
  open.push(v);
  return v;
};
before(async () => (issuer = await startIssuer()));
after(async () => {
  await Promise.all(open.map((v) => v.close()));
  await issuer.close();
});

test('RS256, ES256 and EdDSA tokens verify and come out normalised', async () => {
  const v = make();
  for (const key of [issuer.keys.rs, issuer.keys.es, issuer.keys.ed]) {
    const token = await issuer.sign({ scope: 'openid orders:read  orders:read', roles: ['admin', 'user'] }, { key });
    const r = await v.verify(token);
    assert.equal(r.sub, 'user-1');
    assert.equal(r.clientId, 'web-app');
    assert.deepEqual([...r.scopes], ['openid', 'orders:read']);
    assert.deepEqual([...r.roles], ['admin', 'user']);
    assert.equal(r.claims.iss, issuer.url);
    assert.equal(r.token, token);
    assert.ok(Object.isFrozen(r.claims));
    assert.ok(!JSON.stringify(r).includes(token), 'the raw token is not enumerable');
  }
});

test('a client-credentials token has sub === client_id and no roles', async () => {
  const r = await make().verify(await issuer.sign({ sub: 'svc', client_id: 'svc', roles: undefined, scope: 'orders:read' }));
  assert.equal(r.sub, r.clientId);
  assert.equal(r.roles.size, 0);
});

test('an algorithm outside the configured allowlist is refused even with a valid key', async () => {
  const v = make({ algorithms: ['RS256'] });
  await v.verify(await issuer.sign());
  await assert.rejects(v.verify(await issuer.sign({}, { key: issuer.keys.es })), InvalidToken);
});

test('clock tolerance: exp slightly past is accepted within tolerance, refused with tolerance 0', async () => {
  const t = Math.floor(Date.now() / 1000);
  const token = await issuer.sign({ exp: t - 5, iat: t - 60, nbf: t - 60 });
  await make({ clockTolerance: 30 }).verify(token);
  await assert.rejects(make({ clockTolerance: 0 }).verify(token), InvalidToken);
});

test('key rotation: a new kid is picked up after one refetch; refetches are rate-limited', async () => {
  // Keys are made up front: an RSA key generation on a loaded machine can outlast the cooldown window.
  const next = await makeKey('ES256');
  const unknown = await makeKey('RS256', 'never-published');
  const v = make({ jwksCooldown: 2 });
  await v.verify(await issuer.sign());
  const before = issuer.jwksFetches();
  issuer.jwks = { keys: [...issuer.jwks.keys, next.jwk] };
  const fresh = await issuer.sign({}, { key: next });
  await assert.rejects(v.verify(fresh), InvalidToken, 'within the cooldown the new kid is not fetched');
  await Promise.all(Array.from({ length: 5 }, async () => assert.rejects(v.verify(await issuer.sign({}, { key: next })))));
  assert.equal(issuer.jwksFetches(), before, 'no refetch inside the cooldown window');
  await sleep(2050);
  assert.equal((await v.verify(fresh)).sub, 'user-1');
  assert.equal(issuer.jwksFetches(), before + 1, 'exactly one refetch');
  for (let i = 0; i < 5; i++) await assert.rejects(v.verify(await issuer.sign({}, { key: unknown })), InvalidToken);
  assert.equal(issuer.jwksFetches(), before + 1, 'unknown kids do not cause refetches inside the window');
});

test('a JWKS outage keeps the cached keys; a refetch failure does not drop them', async () => {
  const v = make({ jwksCooldown: 1 });
  await v.verify(await issuer.sign());
  issuer.jwksDown = true;
  try {
    await sleep(2050);
    const fetches = issuer.jwksFetches();
    const stranger = await makeKey('RS256', 'stranger');
    await assert.rejects(v.verify(await issuer.sign({}, { key: stranger })), InvalidToken);
    assert.equal(issuer.jwksFetches(), fetches + 1, 'the refetch happened and failed');
    assert.equal((await v.verify(await issuer.sign())).sub, 'user-1', 'old keys still verify');
  } finally {
    issuer.jwksDown = false;
  }
});

test('no usable key fails closed, and background errors reach onError without the token', async () => {
  const down = await listen((_req, res) => json(res, 500, {}));
  const errors: string[] = [];
  const v = createVerifier({ issuer: down.url, audience: AUDIENCE, onError: (e, ctx) => errors.push(`${ctx}: ${String(e)}`) });
  try {
    const token = await issuer.sign({ iss: down.url });
    await assert.rejects(v.verify(token), (e: InvalidToken) => e instanceof InvalidToken && /no usable key/.test(e.debug ?? ''));
    assert.equal(errors.length, 1);
    assert.ok(!errors[0]!.includes(token));
  } finally {
    await v.close();
    await down.close();
  }
});

test('discovery: metadata whose issuer differs from ours is not trusted (RFC 8414 §3.3)', async () => {
  const liar = await listen((req, res) => json(res, 200, req.url === '/jwks.json' ? issuer.jwks : { issuer: issuer.url, jwks_uri: `http://127.0.0.1:1/jwks.json` }));
  const v = createVerifier({ issuer: liar.url, audience: AUDIENCE });
  try {
    await assert.rejects(v.verify(await issuer.sign({ iss: liar.url })), InvalidToken);
    assert.ok(!liar.requests.includes('/jwks.json'));
  } finally {
    await v.close();
    await liar.close();
  }
});

test('an explicit jwksUri skips discovery; metadata falls back to openid-configuration', async () => {
  const requestsBefore = issuer.requests.length;
  await make({ jwksUri: `${issuer.url}/jwks.json` }).verify(await issuer.sign());
  assert.deepEqual(issuer.requests.slice(requestsBefore), ['/jwks.json']);
  const oidcOnly = await listen((req, res) =>
    req.url === '/.well-known/openid-configuration' ? json(res, 200, { issuer: oidcOnly.url, jwks_uri: `${oidcOnly.url}/jwks.json` })
      : req.url === '/jwks.json' ? json(res, 200, issuer.jwks) : json(res, 404, {}));
  const v = createVerifier({ issuer: oidcOnly.url, audience: AUDIENCE });
  try {
    assert.equal((await v.verify(await issuer.sign({ iss: oidcOnly.url }))).sub, 'user-1');
  } finally {
    await v.close();
    await oidcOnly.close();
  }
});

test('the JWKS ignores symmetric, private and encryption keys', async () => {
  const rs = await makeKey('RS256');
  const pub = rs.jwk;
  const keys = [
    { ...pub, kid: 'pub' },
    { kty: 'oct', kid: 'oct', k: 'c2VjcmV0', alg: 'HS256' },
    { ...pub, kid: 'enc', use: 'enc' },
    { ...pub, kid: 'ops', key_ops: ['encrypt'] },
  ];
  const srv = await listen((_req, res) => json(res, 200, { keys }));
  const v = make({ jwksUri: `${srv.url}/jwks.json` });
  try {
    assert.equal((await v.verify(await issuer.sign({}, { key: { ...rs, kid: 'pub' } }))).sub, 'user-1', 'control');
    for (const kid of ['enc', 'ops']) await assert.rejects(v.verify(await issuer.sign({}, { key: { ...rs, kid } })), InvalidToken);
  } finally {
    await srv.close();
  }
});

test('result cache: same payload with another signature is never served from the cache', async () => {
  const v = make();
  const token = await issuer.sign();
  await v.verify(token);
  await v.verify(token);
  const [h, p, s] = token.split('.') as [string, string, string];
  const flipped = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
  await assert.rejects(v.verify(flipped), InvalidToken);
  const other = await issuer.sign({}, { key: issuer.keys.es });
  await assert.rejects(v.verify(`${h}.${p}.${other.split('.')[2]}`), InvalidToken);
});

test('result cache: a cached token is refused once exp passes; mutating a result does not leak', async () => {
  const v = make({ clockTolerance: 0 });
  const exp = Math.floor(Date.now() / 1000) + 1;
  const token = await issuer.sign({ exp, iat: exp - 60, nbf: exp - 60 });
  const first = await v.verify(token);
  // Results are shared through the cache, so their sets are read-only (types and runtime alike).
  assert.throws(() => (first.scopes as Set<string>).add('admin'), TypeError);
  assert.throws(() => (first.roles as Set<string>).add('admin'), TypeError);
  assert.throws(() => (first.scopes as Set<string>).delete([...first.scopes][0]!), TypeError);
  assert.throws(() => (first.roles as Set<string>).clear(), TypeError);
  assert.equal(JSON.stringify(first).includes(token), false, 'the raw token is not enumerable');
  assert.equal(first.token, token);
  const second = await v.verify(token);
  assert.ok(!second.scopes.has('admin') && !second.roles.has('admin'));
  await sleep(exp * 1000 - Date.now() + 20);
  await assert.rejects(v.verify(token), InvalidToken);
});
