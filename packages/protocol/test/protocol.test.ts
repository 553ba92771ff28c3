import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScope, challenge, InvalidGrant, InvalidScope, safeDescription } from '../src/index.ts';

test('parseScope splits, dedupes and validates RFC 6749 §3.3 tokens', () => {
  assert.deepEqual(parseScope('a  b a'), ['a', 'b']);
  assert.deepEqual(parseScope(''), []);
  assert.deepEqual(parseScope(undefined), []);
  assert.throws(() => parseScope('a "b"'), InvalidScope);
  assert.throws(() => parseScope('a\\b'), InvalidScope);
  assert.throws(() => parseScope('é'), InvalidScope);
});

test('error descriptions stay within the RFC 6749 §5.2 character set', () => {
  const e = new InvalidGrant('bad "code"\n\\ é');
  assert.equal(e.description, 'bad ?code??? ?');
  assert.deepEqual(e.toJSON(), { error: 'invalid_grant', error_description: 'bad ?code??? ?' });
  assert.equal(safeDescription('ok'), 'ok');
});

test('challenge quotes and escapes parameters', () => {
  assert.equal(challenge('Bearer', { realm: 'api' }), 'Bearer realm="api"');
  assert.equal(
    challenge('Bearer', { realm: 'a"b', error: 'insufficient_scope', scope: 'x y' }),
    'Bearer realm="a\\"b", error="insufficient_scope", scope="x y"',
  );
  assert.equal(challenge('Basic'), 'Basic');
});
