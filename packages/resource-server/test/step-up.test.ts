// RFC 9470 guards in the framework-free core: construction-time misuse, and the exact errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InsufficientUserAuthentication } from '@tessera/protocol';
import { checkAcr, checkAuthTime, toHttpResponse, type AuthResult } from '../src/index.ts';

const result = (claims: Record<string, unknown>): AuthResult => ({ sub: 'u', clientId: 'c', scopes: new Set(), roles: new Set(), claims });

test('misuse is a TypeError at construction', () => {
  assert.throws(() => checkAcr(), TypeError);
  assert.throws(() => checkAcr('has space'), TypeError);
  assert.throws(() => checkAcr('quote"d'), TypeError);
  assert.throws(() => checkAuthTime(-1), TypeError);
  assert.throws(() => checkAuthTime(1.5), TypeError);
});

test('requireAcr: one of the values passes; another, a non-string or none is insufficient_user_authentication', () => {
  const guard = checkAcr('urn:a', 'urn:b');
  guard(result({ acr: 'urn:b' }));
  for (const claims of [{ acr: 'urn:c' }, { acr: ['urn:a'] }, {}]) {
    assert.throws(() => guard(result(claims)), (e: unknown) => e instanceof InsufficientUserAuthentication && e.acrValues === 'urn:a urn:b');
  }
  const r = toHttpResponse(new InsufficientUserAuthentication('a stronger authentication is required', { acrValues: 'urn:a urn:b' }), 'api');
  assert.equal(r.status, 401);
  assert.equal(r.headers['www-authenticate'], 'Bearer realm="api", error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="urn:a urn:b"');
});

test('requireAuthTime: within max age passes; older, missing or non-numeric auth_time fails with max_age', () => {
  const now = 10_000;
  const guard = checkAuthTime(60, () => now);
  guard(result({ auth_time: now - 60 }));
  for (const claims of [{ auth_time: now - 61 }, {}, { auth_time: '9990' }]) {
    assert.throws(() => guard(result(claims)), (e: unknown) => e instanceof InsufficientUserAuthentication && e.maxAge === 60);
  }
});
