import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, postForm, startServer } from './helpers.ts';

const BIN = join(import.meta.dirname, '../bin/tessera.mjs');

/**
 * The operator's side of dynamic registration (issue 14 item 4): `tessera registration token create`
 * gates POST /register, registered clients show in `tessera clients list` with source `registration`,
 * and `tessera clients disable` stops them getting tokens.
 */
test('tessera registration token create; clients list / disable / enable / update for registered clients', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-reg-cli-'));
  const cfg = join(dir, 'tessera.json');
  const registration = { enabled: true, grantTypes: ['authorization_code', 'client_credentials'] as ('authorization_code' | 'client_credentials')[], scopes: ['mcp:tools'] };
  writeFileSync(cfg, JSON.stringify({ dataDir: dir, registration }));
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, '--config', cfg, ...args], { encoding: 'utf8', timeout: 30_000 });
  const s = await startServer({ registration }, dir);
  try {
    assert.equal(run('registration', 'token', 'create', '--uses', '0').status, 2);
    assert.match(run('registration', 'token', 'create', '--ttl', 'soon').stderr, /--ttl must be a duration/);
    const created = run('registration', 'token', 'create', '--uses', '1', '--ttl', '1h', '--label', 'cli test');
    assert.equal(created.status, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, 'only the token on stdout');
    assert.match(created.stderr, /valid until/);

    const body = JSON.stringify({ client_name: 'CLI-made', redirect_uris: ['https://tool.example/cb'], grant_types: ['authorization_code', 'client_credentials'], scope: 'mcp:tools' });
    const reg = await fetch(`${s.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
    assert.equal(reg.status, 201, await reg.clone().text());
    const info = (await reg.json()) as { client_id: string; client_secret: string };
    const again = await fetch(`${s.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
    assert.equal(again.status, 401, 'a one-use token is spent');

    const listed = run('clients', 'list');
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${info.client_id}\\s.*registration$`, 'm'));

    const upd = run('clients', 'update', info.client_id, '--name', 'renamed');
    assert.equal(upd.status, 2);
    assert.match(upd.stderr, /registered itself/);

    const dis = run('clients', 'disable', info.client_id);
    assert.equal(dis.status, 0, dis.stderr);
    assert.match(run('clients', 'list').stdout, new RegExp(`^${info.client_id}\\s.*registration \\(disabled\\)$`, 'm'));
    const refused = await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic(info.client_id, info.client_secret) });
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_client');

    assert.equal(run('clients', 'enable', info.client_id).status, 0);
    assert.doesNotMatch(run('clients', 'list').stdout, /disabled/);
    assert.equal(run('clients', 'disable', 'no-such-client').status, 2);
  } finally {
    await s.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
