import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../src/index.ts';
import { postForm, startServer } from './helpers.ts';
import { assertionClaims, assertionForm, clientKey, signAssertion } from './support/assertions.ts';

const BIN = join(import.meta.dirname, '../bin/tessera.mjs');

/** `tessera clients` for JWT client authentication: create with keys or an encrypted secret, encrypt-secret for the config file. */
test('tessera clients: private_key_jwt and client_secret_jwt clients, encrypt-secret', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-clients-cli-'));
  const cfg = join(dir, 'tessera.json');
  writeFileSync(cfg, JSON.stringify({ dataDir: dir }));
  const run = (input: string, ...args: string[]) => spawnSync(process.execPath, [BIN, '--config', cfg, 'clients', ...args], { encoding: 'utf8', input, timeout: 30_000 });
  const key = await clientKey('ES256');
  const jwksFile = join(dir, 'keys.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [key.publicJwk] }));
  let s = await startServer({}, dir);
  try {
    const cc = async (_id: string, assertion: string) =>
      postForm(`${s.url}/token`, { grant_type: 'client_credentials', ...assertionForm(assertion) });

    const bad = run('', 'create', '--id', 'nokeys', '--auth-method', 'private_key_jwt');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /private_key_jwt needs exactly one of jwks or jwksUri/);
    assert.equal(run('', 'create', '--id', 'x', '--auth-method', 'magic').status, 2);

    const pk = run('', 'create', '--id', 'pkcli', '--auth-method', 'private_key_jwt', '--jwks-file', jwksFile, '--audience', 'https://orders.example');
    assert.equal(pk.status, 0, pk.stderr);
    assert.ok(!/client_secret/.test(pk.stdout), 'no secret for a private_key_jwt client');
    assert.equal((await cc('pkcli', await signAssertion(key, assertionClaims('pkcli', s.url)))).status, 200);

    const csj = run('', 'create', '--id', 'csjcli', '--auth-method', 'client_secret_jwt', '--audience', 'https://orders.example');
    assert.equal(csj.status, 0, csj.stderr);
    const secret = /client_secret: (\S+)/.exec(csj.stdout)![1]!;
    const hs = await signAssertion({ alg: 'HS256', secret: new TextEncoder().encode(secret) }, assertionClaims('csjcli', s.url));
    assert.equal((await cc('csjcli', hs)).status, 200);
    const shown = run('', 'show', 'csjcli');
    assert.ok(!shown.stdout.includes('secretEnc') && !shown.stdout.includes(secret));
    assert.match(shown.stdout, /"tokenEndpointAuthMethod": "client_secret_jwt"/);

    // encrypt-secret → secretEncrypted in the config file, bound to the client id and the deployment secret.
    assert.equal(run('too-short\n', 'encrypt-secret', '--id', 'enc').status, 2);
    const jwtSecret = 'a-client-secret-jwt-secret-0123456789abcdef';
    const enc = run(`${jwtSecret}\n`, 'encrypt-secret', '--id', 'enc');
    assert.equal(enc.status, 0, enc.stderr);
    const secretEncrypted = enc.stdout.trim();
    assert.match(secretEncrypted, /^v1\./);
    assert.ok(!secretEncrypted.includes(jwtSecret));
    await s.stop();
    const encClient = { id: 'enc', tokenEndpointAuthMethod: 'client_secret_jwt' as const, secretEncrypted, grants: ['client_credentials'], audience: 'https://orders.example' };
    s = await startServer({ clients: [encClient] }, dir);
    const a = await signAssertion({ alg: 'HS256', secret: new TextEncoder().encode(jwtSecret) }, assertionClaims('enc', s.url));
    assert.equal((await cc('enc', a)).status, 200);
    await s.stop();
    await assert.rejects(startServer({ clients: [{ ...encClient, id: 'other' }] }, dir), (e: unknown) =>
      e instanceof ConfigError && e.problems[0] === 'clients.0 (other).secretEncrypted: does not decrypt with this TESSERA_SECRET, or was made for another client id');
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
