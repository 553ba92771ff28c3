import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { maskAuthorization, maskBody, maskParams, maskToken, maskUrl } from '../src/mask.ts';

/** What the pages and the timeline show of credentials: a short prefix and a fingerprint, never the value. */
describe('web client masking', () => {
  const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c3JfMSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

  test('a token keeps an 8-character prefix, its length and a fingerprint that tells tokens apart', () => {
    const masked = maskToken(token);
    assert.match(masked, /^eyJhbGci… \(\d+ chars, #[0-9a-f]{6}\)$/);
    assert.ok(!masked.includes('eyJzdWIi'));
    assert.notEqual(maskToken(`${token}x`), masked);
    assert.equal(maskToken('short'), '…');
  });

  test('codes, verifiers, hints and secrets are masked in URLs and form bodies; other parameters stay', () => {
    const url = maskUrl('http://127.0.0.1:9002/callback?code=abcdefghijklmnopqrstuvwxyz&state=s1&iss=http%3A%2F%2Fa');
    assert.match(url, /code=abcdefgh… \(26 chars/);
    assert.match(url, /state=s1&iss=http:\/\/a$/);
    const form = maskParams(new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r'.repeat(43), client_secret: 's'.repeat(30), code_verifier: 'v'.repeat(43) }));
    assert.ok(form.startsWith('grant_type=refresh_token&'));
    assert.doesNotMatch(form, /r{9}|s{9}|v{9}/);
  });

  test('Authorization: Basic credentials are hidden entirely, Bearer tokens masked', () => {
    assert.equal(maskAuthorization('Basic ZGVtby13ZWI6c2VjcmV0'), 'Basic …(client id and secret)');
    assert.match(maskAuthorization(`Bearer ${token}`), /^Bearer eyJhbGci… /);
  });

  test('token responses are pretty-printed with every token member masked', () => {
    const body = maskBody(JSON.stringify({ access_token: token, id_token: token, refresh_token: 'r'.repeat(43), token_type: 'Bearer', expires_in: 900 }));
    assert.doesNotMatch(body, /eyJzdWIi|r{9}/);
    assert.match(body, /"token_type": "Bearer"/);
    assert.equal(maskBody('not json'), 'not json');
  });
});
