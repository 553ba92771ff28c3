// Unit tests of internal pieces with injected time: JWKS cooldown/staleness, strict JSON, SSE, LRU, denylist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidToken } from '@tessera/protocol';
import { JwksCache, keyFits } from '../src/jwks.ts';
import { parseJsonNoDuplicates } from '../src/strict-json.ts';
import { SseParser } from '../src/revocation/sse.ts';
import { ResultCache } from '../src/result-cache.ts';
import { Denylist } from '../src/revocation/denylist.ts';
import type { AuthResult } from '../src/index.ts';
import { makeKey } from './helpers/issuer.ts';

test('JwksCache: one fetch per cooldown for unknown kids, shared in-flight, stale keys refreshed, failures keep keys', async () => {
  const k1 = await makeKey('RS256', 'k1');
  const k2 = await makeKey('RS256', 'k2');
  let served = [k1.jwk];
  let fetches = 0;
  let down = false;
  const fetchImpl = (async () => {
    fetches++;
    return down ? new Response('{}', { status: 503 }) : Response.json({ keys: served });
  }) as typeof fetch;
  let now = 1_000_000;
  const errors: unknown[] = [];
  const cache = new JwksCache({ issuer: 'https://as.test', jwksUri: 'https://as.test/jwks', fetch: fetchImpl, cooldownMs: 30_000, maxAgeMs: 600_000, onError: (e) => errors.push(e), now: () => now });
  await Promise.all([cache.getKey('k1', 'RS256'), cache.getKey('k1', 'RS256')]);
  assert.equal(fetches, 1, 'concurrent first use shares one fetch');
  served = [k1.jwk, k2.jwk];
  await assert.rejects(cache.getKey('k2', 'RS256'), InvalidToken);
  now += 29_999;
  await assert.rejects(cache.getKey('k2', 'RS256'), InvalidToken);
  assert.equal(fetches, 1);
  now += 1;
  await cache.getKey('k2', 'RS256');
  assert.equal(fetches, 2);
  down = true;
  now += 600_001; // stale: refresh attempted, fails, keys kept
  await cache.getKey('k1', 'RS256');
  assert.equal(fetches, 3);
  assert.equal(errors.length, 1);
  down = false;
  served = [k2.jwk]; // k1 retired
  now += 30_000;
  await cache.getKey('k2', 'RS256');
  now += 600_001;
  await assert.rejects(cache.getKey('k1', 'RS256'), InvalidToken, 'a removed key stops verifying after the max age');
});

test('keyFits ties alg to kty/crv and the JWK alg', () => {
  assert.ok(keyFits({ kty: 'RSA', alg: 'RS256' }, 'RS256'));
  assert.ok(!keyFits({ kty: 'RSA', alg: 'RS256' }, 'PS256'));
  assert.ok(keyFits({ kty: 'RSA' }, 'PS256'));
  assert.ok(!keyFits({ kty: 'RSA' }, 'ES256'));
  assert.ok(!keyFits({ kty: 'EC', crv: 'P-384' }, 'ES256'));
  assert.ok(keyFits({ kty: 'OKP', crv: 'Ed25519' }, 'EdDSA'));
  assert.ok(!keyFits({ kty: 'OKP', crv: 'X25519' }, 'EdDSA'));
  assert.ok(!keyFits({ kty: 'oct', alg: 'HS256' }, 'HS256'));
});

test('parseJsonNoDuplicates rejects duplicates at any depth, after unescaping, and accepts the rest', () => {
  assert.deepEqual(parseJsonNoDuplicates('{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}'), { a: 1, b: { a: 2 }, c: [{ a: 1 }, { a: 2 }] });
  assert.deepEqual(parseJsonNoDuplicates('{"a":"\\"a\\":1,","b":"}{"}'), { a: '"a":1,', b: '}{' });
  assert.deepEqual(parseJsonNoDuplicates('[1,{"x":["a","a"]}]'), [1, { x: ['a', 'a'] }]);
  for (const bad of ['{"a":1,"a":2}', '{"a":1,"\\u0061":2}', '{"x":{"y":[{"k":1,"k":1}]}}', '{"a":{},"b":1,"a":{}}', '{"a":1', '']) {
    assert.equal(parseJsonNoDuplicates(bad), undefined, bad);
  }
});

test('SseParser handles split chunks, CRLF/CR/LF, comments, multi-line data and ids', () => {
  const p = new SseParser();
  assert.deepEqual(p.push(': heartbeat\n\nid: 1\nevent: revok'), []);
  assert.deepEqual(p.push('ed\ndata: {"jti":"a"}\r'), []);
  assert.deepEqual(p.push('\n\r\n'), [{ type: 'revoked', data: '{"jti":"a"}', id: '1' }]);
  assert.deepEqual(p.push('data:x\rdata: y\r\r'), [], 'a trailing CR might be half of CRLF');
  // eventsource-parser reports ids with events only: an id-only block (which Tessera never sends) does
  // not move the last event ID; an event without an id of its own carries the last one.
  assert.deepEqual(p.push(':keepalive\n\ndata: z\n\nid: 2\ndata: w\n\nid: bad\0\ndata: v\n\n'), [
    { type: 'message', data: 'x\ny', id: '1' },
    { type: 'message', data: 'z', id: '1' },
    { type: 'message', data: 'w', id: '2' },
    { type: 'message', data: 'v', id: '2' },
  ]);
});

test('SseParser throws on an event that never ends (bounded buffer), so the feed reconnects', () => {
  const p = new SseParser();
  assert.throws(() => {
    for (let i = 0; i < 20; i++) p.push(`data: ${'x'.repeat(100_000)}\n`);
  }, /max buffer size/);
});

test('ResultCache is bounded, LRU, keyed by the whole token and never serves past expiresAt', () => {
  const r = {} as AuthResult;
  const c = new ResultCache(2);
  c.set('a', { result: r, jti: 'ja', expiresAt: 1000 });
  c.set('b', { result: r, jti: 'jb', expiresAt: 1000 });
  assert.ok(c.get('a', 0));
  c.set('c', { result: r, jti: 'jc', expiresAt: 1000 });
  assert.equal(c.size, 2);
  assert.equal(c.get('b', 0), undefined, 'least recently used evicted');
  assert.equal(c.get('a', 1000), undefined, 'not served at expiresAt');
  c.dropJti('jc');
  assert.equal(c.get('c', 0), undefined);
  const off = new ResultCache(0);
  off.set('a', { result: r, jti: 'ja', expiresAt: 1000 });
  assert.equal(off.size, 0);
});

test('Denylist keeps a jti until exp + grace, then purges it', () => {
  const d = new Denylist(30);
  d.add('j', 100);
  d.add('j', 50); // an older exp never shortens the entry
  assert.ok(d.has('j', 130));
  assert.ok(!d.has('j', 131));
  assert.equal(d.size, 0);
  d.add('k', 100);
  d.purge(200);
  assert.equal(d.size, 0);
});
