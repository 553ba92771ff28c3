import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveResourceMetadata } from '../src/index.ts';

const verifier = (audience: string[]) => ({ issuer: 'https://as.example', audience });

test('RFC 9728 §3.1: where the document lives for resources with and without a path', () => {
  const root = resolveResourceMetadata({ resource: 'https://api.example' }, verifier(['https://api.example']));
  assert.deepEqual(root.paths, ['/.well-known/oauth-protected-resource']);
  assert.equal(root.url, 'https://api.example/.well-known/oauth-protected-resource');
  assert.deepEqual(root.document, { resource: 'https://api.example', authorization_servers: ['https://as.example'], bearer_methods_supported: ['header'] });

  const nested = resolveResourceMetadata({ resource: 'https://api.example/tenant/mcp/' }, verifier(['https://api.example/tenant/mcp/']), ['header', 'body']);
  assert.deepEqual(nested.paths, ['/.well-known/oauth-protected-resource/tenant/mcp', '/.well-known/oauth-protected-resource']);
  assert.equal(nested.url, 'https://api.example/.well-known/oauth-protected-resource/tenant/mcp');
  assert.equal(nested.document.resource, 'https://api.example/tenant/mcp/', 'the resource id is kept byte for byte');
  assert.deepEqual(nested.document.bearer_methods_supported, ['header', 'body']);

  const local = resolveResourceMetadata({ resource: 'http://127.0.0.1:8080/mcp', authorizationServers: ['http://localhost:9000'] }, verifier(['http://127.0.0.1:8080/mcp']));
  assert.equal(local.url, 'http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp');
});

test('bad resource metadata options are one TypeError listing each problem', () => {
  assert.throws(
    () => resolveResourceMetadata({ resource: 'http://api.example/x#f', scopesSupported: [''] as string[], resourceTosUri: 'ftp://x' }, verifier(['x'])),
    (e: unknown) => e instanceof TypeError && /resource must be an https URL/.test(e.message) && /scopesSupported/.test(e.message) && /resourceTosUri/.test(e.message),
  );
});
