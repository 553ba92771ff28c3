import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ConfigError, loadConfig } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('configuration', () => {
  test('defaults work for a laptop', () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.issuer, 'http://localhost:9000');
    assert.equal(c.port, 9000);
    assert.match(c.databaseUrl, /^sqlite:.*data\/tessera\.db$/);
    assert.equal(c.keys.algorithm, 'RS256');
    assert.equal(c.tokens.accessTokenTtl, 900);
  });

  test('YAML with ${VAR} interpolation and durations', () => {
    const p = file('ok.yaml', `issuer: https://auth.example.com
tokens:
  accessTokenTtl: 5m
clients:
  - id: orders-service
    type: confidential
    secret: \${ORDERS_SECRET}
    grants: [client_credentials]
    scopes: [orders:read, orders:write]
    audience: https://orders.example
`);
    const c = loadConfig({ file: p, env: { ORDERS_SECRET: 'a-long-enough-secret-value' } });
    assert.equal(c.tokens.accessTokenTtl, 300);
    assert.equal(c.clients[0]!.secret, 'a-long-enough-secret-value');
    assert.equal(c.source, p);
  });

  test('JSON works too, and TESSERA_CONFIG names the file', () => {
    const p = file('ok.json', JSON.stringify({ port: 9100 }));
    assert.equal(loadConfig({ env: { TESSERA_CONFIG: p } }).port, 9100);
  });

  test('env overrides PORT, HOST, TESSERA_ISSUER, DATABASE_URL', () => {
    const c = loadConfig({ env: { PORT: '9200', HOST: '0.0.0.0', TESSERA_ISSUER: 'https://id.example', DATABASE_URL: 'postgres://localhost/x' } });
    assert.equal(c.port, 9200);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.issuer, 'https://id.example');
    assert.equal(c.databaseUrl, 'postgres://localhost/x');
  });

  test('one error lists every problem with its field', () => {
    const p = file('bad.yaml', `issuer: http://evil.example/?x=1
port: 99999
keys:
  algorithm: HS256
unknownOption: true
clients:
  - id: a
    grants: [nope]
    redirectUris: ["http://app.example/cb", "https://app.example/cb#frag", "javascript:alert(1)", "myapp:/cb"]
  - id: a
    type: public
    secret: should-not-be-here-000
    grants: [client_credentials]
  - id: usr_sneaky
    secret: sneaky-secret-000000000
    grants: [client_credentials]
    secret2: x
`);
    const list = problems(() => loadConfig({ file: p, env: {} }));
    const text = list.join('\n');
    for (const expected of [
      /^port: /m,
      /^keys\.algorithm: /m,
      /unknownOption/,
      /clients\.2\.secret2/,
      /issuer: must not contain a query/,
      /issuer: must use https/,
      /clients\.0 \(a\)\.grants: unknown grant nope/,
      /clients\.0 \(a\): a confidential client needs secret or secretHash/,
      /clients\.0 \(a\)\.redirectUris\.0: http is allowed only for loopback/,
      /clients\.0 \(a\)\.redirectUris\.1: must not contain a fragment/,
      /clients\.0 \(a\)\.redirectUris\.2: scheme javascript/,
      /clients\.0 \(a\)\.redirectUris\.3: a private-use scheme/,
      /clients\.1 \(a\)\.id: duplicate client id/,
      /clients\.1 \(a\): a public client has no secret/,
      /clients\.1 \(a\)\.grants: client_credentials needs a confidential client/,
      /clients\.2 \(usr_sneaky\)\.id: the prefix usr_ is reserved/,
    ]) {
      assert.match(text, expected);
    }
    try {
      loadConfig({ file: p, env: {} });
    } catch (e) {
      assert.match((e as Error).message, new RegExp(`^Invalid configuration \\(${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\):`));
    }
  });

  test('a missing environment variable, an unreadable or unparsable file are reported', () => {
    assert.match(problems(() => loadConfig({ file: file('v.yaml', 'issuer: ${NOPE_VAR}\n'), env: {} })).join(), /environment variable NOPE_VAR is not set/);
    assert.match(problems(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} })).join(), /cannot read file: ENOENT/);
    assert.match(problems(() => loadConfig({ file: file('broken.yaml', 'port: [1,\n'), env: {} })).join(), /cannot parse/);
    assert.match(problems(() => loadConfig({ file: file('list.yaml', '- 1\n'), env: {} })).join(), /top level must be a mapping/);
  });

  test('production refuses an http issuer other than localhost and plain client secrets', () => {
    const env = { NODE_ENV: 'production' };
    assert.match(problems(() => loadConfig({ env: { ...env, TESSERA_ISSUER: 'http://auth.example.com' } })).join(), /production requires https/);
    assert.doesNotThrow(() => loadConfig({ env: { ...env, TESSERA_ISSUER: 'http://localhost:9000' } }));
    const p = file('prod.yaml', 'issuer: https://auth.example.com\nclients:\n  - id: s\n    secret: plain-secret-in-file-0\n    grants: [client_credentials]\n');
    assert.match(problems(() => loadConfig({ file: p, env })).join(), /plain secrets are not allowed in production/);
  });

  test('an invalid config stops `tessera serve` with the message and exit code 2', () => {
    const p = file('cli-bad.yaml', 'port: nope\nclients:\n  - id: x\n    grants: [client_credentials]\n');
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '../bin/tessera.mjs'), '--config', p, 'serve'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /Invalid configuration/);
    assert.match(r.stderr, /port: Expected integer/);
    assert.match(r.stderr, /clients\.0 \(x\): a confidential client needs secret or secretHash/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
  });
});
