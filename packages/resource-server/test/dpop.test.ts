// Unit tests of the DPoP building blocks (RFC 9449): htu normalisation, the bounded replay cache,
// nonces, and the proof checks that need exact control of a proof.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessTokenHash, normaliseHtu, verifyDpopProof } from '../src/dpop/index.ts';
import { ReplayCache } from '../src/dpop/replay.ts';
import { NonceSource } from '../src/dpop/nonce.ts';
import { dpopKey, proof } from './helpers/dpop.ts';

const OPTS = { algorithms: ['ES256', 'EdDSA'], maxAge: 60, clockTolerance: 5 };

test('htu normalisation (RFC 3986 §6.2.2–6.2.3): case, default port, dot segments, escapes; query and fragment dropped', () => {
  assert.equal(normaliseHtu('HTTPS://AS.Example:443/a/../token?x=1#f'), 'https://as.example/token');
  assert.equal(normaliseHtu('http://h:80'), 'http://h/');
  assert.equal(normaliseHtu('http://h:8080/%7euser/%2f'), 'http://h:8080/~user/%2F');
  assert.notEqual(normaliseHtu('https://h/token'), normaliseHtu('https://h/token/'));
  assert.notEqual(normaliseHtu('https://h/token'), normaliseHtu('http://h/token'));
  assert.equal(normaliseHtu('ftp://h/x'), undefined);
  assert.equal(normaliseHtu('https://u:p@h/x'), undefined);
  assert.equal(normaliseHtu('not a url'), undefined);
});

test('ath is the base64url SHA-256 of the token', () => {
  assert.equal(accessTokenHash('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU'), 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
});

test('replay cache: a second use within the window is refused; expired entries go; the size is bounded', () => {
  const c = new ReplayCache(3);
  assert.equal(c.use('a', 100, 50), true);
  assert.equal(c.use('a', 100, 60), false);
  assert.equal(c.use('a', 100, 101), true, 'past its window the entry is gone');
  for (const id of ['b', 'c', 'd', 'e']) c.use(id, 200, 150);
  assert.ok(c.size <= 3);
});

test('nonces: current and previous slot accepted, others and garbage refused; a shared secret shares them', () => {
  const n = new NonceSource('s'.repeat(32), 300);
  const m = new NonceSource('s'.repeat(32), 300);
  const now = 1_000_000;
  assert.equal(m.valid(n.current(now), now + 300), true);
  assert.equal(n.valid(n.current(now), now + 900), false);
  assert.equal(n.valid('x'.repeat(43), now), false);
  assert.equal(n.valid(undefined, now), false);
  assert.equal(new NonceSource(undefined, 300).valid(n.current(now), now), false);
});

test('a proof: the thumbprint of its key; several DPoP headers and an oversized proof are refused', async () => {
  const key = await dpopKey('ES256');
  const p = await proof(key, { htu: 'https://as.example/token' });
  const ok = await verifyDpopProof({ header: p, method: 'POST', url: 'https://as.example/token' }, OPTS);
  assert.equal(ok.jkt, key.jkt);
  await assert.rejects(verifyDpopProof({ header: [p, p], method: 'POST', url: 'https://as.example/token' }, OPTS), { error: 'invalid_dpop_proof', debug: 'more than one DPoP header' });
  await assert.rejects(verifyDpopProof({ header: `${p}${'A'.repeat(5000)}`, method: 'POST', url: 'https://as.example/token' }, OPTS), { error: 'invalid_dpop_proof' });
  await assert.rejects(verifyDpopProof({ header: p, method: 'POST', url: 'https://as.example/token' }, { ...OPTS, algorithms: ['EdDSA'] }), (e: { debug?: string }) => /ALG_NOT_ALLOWED|not allowed/.test(e.debug ?? ''));
});
