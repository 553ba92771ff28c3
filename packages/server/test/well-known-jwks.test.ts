import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './helpers.ts';

test('/.well-known/jwks.json answers exactly what /jwks.json answers (body and caching headers)', async () => {
  const s = await startServer();
  try {
    const [a, b] = await Promise.all([fetch(`${s.url}/jwks.json`), fetch(`${s.url}/.well-known/jwks.json`)]);
    assert.equal(b.status, 200);
    for (const h of ['content-type', 'cache-control']) assert.equal(b.headers.get(h), a.headers.get(h), h);
    assert.match(b.headers.get('cache-control') ?? '', /public, max-age=\d+/);
    const [ja, jb] = (await Promise.all([a.json(), b.json()])) as { keys: { kid: string; d?: string }[] }[];
    assert.deepEqual(jb, ja);
    assert.ok(jb!.keys.length >= 2 && jb!.keys.every((k) => k.kid && k.d === undefined), 'public keys with kids');
  } finally {
    await s.dispose();
  }
});
