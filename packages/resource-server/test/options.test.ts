// Misconfiguration is a TypeError at construction (STYLE 4, 6; SECURITY-CHECKLIST G4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVerifier, checkScopes, checkRoles, type VerifierOptions } from '../src/index.ts';

const ok: VerifierOptions = { issuer: 'https://as.example', audience: 'https://api.example' };

test('bad options throw one TypeError naming every problem', () => {
  const bad: [Partial<VerifierOptions>, RegExp][] = [
    [{ algorithms: [] }, /non-empty/],
    [{ algorithms: ['none'] }, /none is never allowed/],
    [{ algorithms: ['RS256', 'NONE'] }, /NONE is never allowed/],
    [{ algorithms: ['HS256'] }, /HS256 is never allowed/],
    [{ algorithms: ['RS256', 'hs512'] }, /never allowed/],
    [{ algorithms: ['RSA-OAEP'] }, /not supported/],
    [{ clockTolerance: 301 }, /clockTolerance/],
    [{ clockTolerance: -1 }, /clockTolerance/],
    [{ issuer: 'http://as.example' }, /issuer/],
    [{ issuer: 'not a url' }, /issuer/],
    [{ audience: [] }, /audience/],
    [{ audience: '' }, /audience/],
    [{ jwksUri: 'http://evil.example/jwks' }, /jwksUri/],
    [{ jwksCooldown: 0 }, /jwksCooldown/],
    [{ cacheSize: -1 }, /cacheSize/],
    [{ revocation: {} as never }, /exactly one/],
    [{ revocation: { feed: { clientId: 'a', clientSecret: 'b' }, introspection: { clientId: 'a', clientSecret: 'b' } } as never }, /exactly one/],
    [{ revocation: { feed: { clientId: '', clientSecret: 'b' } } }, /clientId/],
    [{ revocation: { introspection: { clientId: 'a', clientSecret: 'b', cacheSeconds: 3600 } } }, /cacheSeconds/],
  ];
  for (const [o, re] of bad) assert.throws(() => createVerifier({ ...ok, ...o }), (e: unknown) => e instanceof TypeError && re.test(e.message), JSON.stringify(o));
  assert.throws(() => createVerifier({ ...ok, algorithms: ['none'], clockTolerance: 999 }), /none.*; clockTolerance/);
});

test('good options construct; http is allowed only on loopback', async () => {
  for (const o of [ok, { ...ok, issuer: 'http://127.0.0.1:8080', algorithms: ['ES256'], clockTolerance: 0 }, { ...ok, issuer: 'http://localhost:3000', audience: ['a', 'b'] }]) {
    await createVerifier(o).close();
  }
});

test('guards validate their arguments at creation', () => {
  assert.throws(() => checkScopes(), TypeError);
  assert.throws(() => checkScopes('a b'), TypeError);
  assert.throws(() => checkRoles('"admin"'), TypeError);
  checkScopes('orders:read', 'orders:write');
  checkRoles('admin');
});
