// RFC 6750 §2 extraction and the one error → HTTP mapping (§3), framework-free.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InsufficientScope, InvalidRequest, InvalidToken, TemporarilyUnavailable } from '@tessera/protocol';
import { extractBearer, MissingToken, toHttpResponse, type BearerRequest } from '../src/index.ts';

const req = (r: Partial<BearerRequest>): BearerRequest => ({ method: 'GET', url: '/r', headers: {}, ...r });
const FORM = { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' };

test('Authorization: Bearer with any scheme casing', () => {
  for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
    assert.equal(extractBearer(req({ headers: { authorization: `${scheme} abc.DEF-_~+/=` } })), 'abc.DEF-_~+/=');
  }
  assert.equal(extractBearer(req({ headers: { authorization: 'Bearer   abc  ' } })), 'abc');
});

test('no credentials, or another scheme, is MissingToken', () => {
  assert.throws(() => extractBearer(req({})), MissingToken);
  assert.throws(() => extractBearer(req({ headers: { authorization: 'Basic dTpw' } })), MissingToken);
  assert.throws(() => extractBearer(req({ headers: { authorization: 'Bearerabc' } })), MissingToken);
});

test('malformed Bearer values and repeated headers are invalid_request', () => {
  for (const h of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer a,b', 'Bearer "a"', 'Bearer a=b']) {
    assert.throws(() => extractBearer(req({ headers: { authorization: h } })), InvalidRequest, h);
  }
  assert.throws(() => extractBearer(req({ headers: { authorization: ['Bearer a', 'Bearer b'] } })), InvalidRequest);
});

test('a query access_token is refused, alone or with another method', () => {
  assert.throws(() => extractBearer(req({ url: '/r?access_token=abc' })), /query string/);
  assert.throws(() => extractBearer(req({ url: '/r?a=1&access_token=' })), /query string/);
  assert.throws(() => extractBearer(req({ url: '/r?access_token=abc', headers: { authorization: 'Bearer abc' } })), /more than one/);
  assert.equal(extractBearer(req({ url: '/r?token=abc', headers: { authorization: 'Bearer abc' } })), 'abc');
});

test('form body only when enabled, on POST, form-encoded; two methods refused', () => {
  const post = (o: Partial<BearerRequest>) => req({ method: 'POST', headers: FORM, body: { access_token: 'abc' }, ...o });
  assert.equal(extractBearer(post({}), { allowFormBody: true }), 'abc');
  assert.throws(() => extractBearer(post({})), MissingToken, 'disabled by default');
  assert.throws(() => extractBearer(post({ method: 'PUT' }), { allowFormBody: true }), MissingToken);
  assert.throws(() => extractBearer(post({ headers: { 'content-type': 'application/json' } }), { allowFormBody: true }), MissingToken);
  assert.throws(() => extractBearer(post({ headers: { ...FORM, authorization: 'Bearer abc' } }), { allowFormBody: true }), /more than one/);
  assert.throws(() => extractBearer(post({ body: { access_token: ['a', 'b'] } }), { allowFormBody: true }), InvalidRequest);
  assert.throws(() => extractBearer(post({ body: JSON.parse('{"__proto__":{"access_token":"abc"}}') }), { allowFormBody: true }), MissingToken);
});

test('toHttpResponse: one mapping for every outcome', () => {
  assert.deepEqual(toHttpResponse(new MissingToken(), 'api'), {
    status: 401,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'www-authenticate': 'Bearer realm="api"' },
    body: { error: 'invalid_token', error_description: 'an access token is required' },
  });
  const bad = toHttpResponse(new InvalidToken('the access token is invalid', { debug: 'secret reason' }), 'api');
  assert.equal(bad.status, 401);
  assert.equal(bad.headers['www-authenticate'], 'Bearer realm="api", error="invalid_token", error_description="the access token is invalid"');
  assert.ok(!JSON.stringify(bad).includes('secret reason'), 'debug never reaches the client');
  const scope = toHttpResponse(new InsufficientScope('needs more', { scope: 'a b' }), 'api');
  assert.equal(scope.status, 403);
  assert.equal(scope.headers['www-authenticate'], 'Bearer realm="api", error="insufficient_scope", error_description="needs more", scope="a b"');
  assert.equal(toHttpResponse(new InvalidRequest('x'), 'api').status, 400);
  const down = toHttpResponse(new TemporarilyUnavailable('later', { retryAfter: 5 }), 'api');
  assert.equal(down.status, 503);
  assert.equal(down.headers['retry-after'], '5');
  assert.equal(down.headers['www-authenticate'], undefined);
  const boom = toHttpResponse(new Error('db password is hunter2'), 'api');
  assert.deepEqual([boom.status, boom.body], [500, { error: 'server_error', error_description: 'internal error' }]);
});
