import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, postForm, startServer } from './helpers.ts';

const BIN = join(import.meta.dirname, '../bin/tessera.mjs');
const APP_SECRET = 'cli-legacy-secret-0123456789abc';
const RS_SECRET = 'cli-rs-secret-0123456789abcdefg';

test('tessera users: create, set-roles, logout and set-password revoke what the user holds, delete', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-users-cli-'));
  const cfg = join(dir, 'tessera.json');
  writeFileSync(cfg, JSON.stringify({ dataDir: dir }));
  const run = (input: string | undefined, ...args: string[]) =>
    spawnSync(process.execPath, [BIN, '--config', cfg, 'users', ...args], { encoding: 'utf8', input: input ?? '', timeout: 30_000 });
  const s = await startServer({
    clients: [
      { id: 'app', secret: APP_SECRET, grants: ['password', 'refresh_token'], scopes: ['orders:read'], audience: 'https://orders.example' },
      { id: 'rs', secret: RS_SECRET, grants: ['client_credentials'], audience: 'https://orders.example', permissions: ['introspect'] },
    ],
  }, dir);
  const app = { authorization: basic('app', APP_SECRET) };
  const signIn = async (password: string) => {
    const res = await postForm(`${s.url}/token`, { grant_type: 'password', username: 'carol', password }, app);
    return { status: res.status, body: (await res.json()) as { access_token: string; refresh_token: string } };
  };
  const active = async (token: string) =>
    ((await (await postForm(`${s.url}/introspect`, { token }, { authorization: basic('rs', RS_SECRET) })).json()) as { active: boolean; roles?: string[] });
  try {
    const created = run('carol-password-1\n', 'create', 'carol', '--email', 'carol@example.com', '--role', 'user', 'auditor');
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /user carol created \(sub usr_[\w-]+\)/);
    assert.equal(run('x\n', 'create', 'carol').status, 2, 'duplicate or weak password refused');
    assert.match(run(undefined, 'list').stdout, /carol\s+usr_\S+\s+carol@example\.com\s+user,auditor\s+cli/);
    assert.ok(!run(undefined, 'list').stdout.includes('argon2'), 'hashes never printed');

    const first = await signIn('carol-password-1');
    assert.equal(first.status, 200);
    assert.deepEqual((await active(first.body.access_token)).roles, ['user', 'auditor']);

    assert.equal(run(undefined, 'set-roles', 'carol', 'user').status, 0);
    assert.deepEqual((await active((await signIn('carol-password-1')).body.access_token)).roles, ['user']);

    assert.equal(run(undefined, 'logout', 'carol').status, 0);
    assert.equal((await active(first.body.access_token)).active, false, 'live access tokens denylisted');
    const refreshed = await postForm(`${s.url}/token`, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, app);
    assert.equal(refreshed.status, 400, 'refresh tokens revoked');

    const second = await signIn('carol-password-1');
    const changed = run('carol-password-2\n', 'set-password', 'carol@example.com');
    assert.equal(changed.status, 0, changed.stderr);
    assert.equal((await active(second.body.access_token)).active, false, 'a password change revokes too');
    assert.equal((await signIn('carol-password-1')).status, 400);
    assert.equal((await signIn('carol-password-2')).status, 200);

    assert.equal(run(undefined, 'delete', 'carol').status, 0);
    assert.equal((await signIn('carol-password-2')).status, 400);
    assert.equal(run(undefined, 'delete', 'carol').status, 2);
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
