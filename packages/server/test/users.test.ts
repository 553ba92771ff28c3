import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash } from '@node-rs/argon2';
import { loadConfig, ConfigError } from '../src/index.ts';
import { UserService } from '../src/engine/users/service.ts';
import { verifyPassword } from '../src/engine/users/password.ts';
import { createStores, migrate, openDatabase } from '../src/storage/index.ts';
import { Agent, alice, authParams, authorize, pkce, startOidcServer, users } from './oidc-helpers.ts';

/** Issue 3 §1: users with argon2id hashes, stable `usr_` subjects, config and service administration. */
function configProblems(overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = { NODE_ENV: 'test' }): string[] {
  try {
    loadConfig({ env, overrides: overrides as never });
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe('users in the config file', () => {
  test('plain passwords are refused in production; hashes, duplicates and e-mail are checked', () => {
    const prod = configProblems({ issuer: 'https://id.example', users: [{ username: 'a', password: 'long-enough-1' }] }, { NODE_ENV: 'production', TESSERA_SECRET: 'x'.repeat(40) });
    assert.ok(prod.some((p) => /plain passwords are not allowed in production/.test(p)), prod.join('\n'));
    const problems = configProblems({
      users: [
        { username: 'bob', password: 'long-enough-1' },
        { username: 'BOB', password: 'long-enough-2' },
        { username: 'carol' },
        { username: 'dave', passwordHash: '$2b$10$notargon' },
        { username: 'eve', password: 'short' },
        { username: 'has space', password: 'long-enough-3' },
        { username: 'frank', password: 'long-enough-4', roles: ['ad min'] },
      ],
    });
    for (const re of [/duplicate username/, /carol.*needs password or passwordHash/, /passwordHash/, /password/, /username: letters/, /roles/]) {
      assert.ok(problems.some((p) => re.test(p)), `${re} in\n${problems.join('\n')}`);
    }
  });
  test('subjects are usr_ + random, stable across restarts; passwords are argon2id', async () => {
    const first = await startOidcServer();
    const before = await first.tessera.ctx.stores.users.list();
    assert.equal(before.length, 2);
    for (const u of before) {
      assert.match(u.sub, /^usr_[A-Za-z0-9_-]{22}$/);
      assert.match(u.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    }
    await first.stop();
    const second = await startOidcServer({}, first.dataDir);
    try {
      const afterRestart = await second.tessera.ctx.stores.users.list();
      assert.deepEqual(afterRestart.map((u) => [u.username, u.sub, u.passwordHash]), before.map((u) => [u.username, u.sub, u.passwordHash]));
    } finally {
      await second.stop();
    }
    // A user removed from the file is deleted; a given passwordHash is used as is.
    const hashed = await hash('from-a-hash-1');
    const third = await startOidcServer({ users: [{ username: 'alice', passwordHash: hashed }] }, first.dataDir);
    try {
      const list = await third.tessera.ctx.stores.users.list();
      assert.deepEqual(list.map((u) => u.username), ['alice']);
      assert.equal(list[0]!.sub, before.find((u) => u.username === 'alice')!.sub);
      assert.ok(await verifyPassword('from-a-hash-1', list[0]!.passwordHash));
    } finally {
      await third.dispose();
    }
  });
});

describe('UserService (used by the CLI)', () => {
  async function withStores(fn: (svc: UserService, stores: ReturnType<typeof createStores>) => Promise<void>) {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-users-'));
    const db = openDatabase(`sqlite:${join(dir, 'db.sqlite')}`);
    try {
      await migrate(db);
      const stores = createStores(db);
      await fn(new UserService(stores), stores);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  test('create, find by username/e-mail/sub, set roles, delete', () => withStores(async (svc) => {
    const u = await svc.create({ username: 'Zoe', password: 'zoe-password-1', email: 'Zoe@Example.com', roles: ['user', 'admin'] });
    assert.match(u.sub, /^usr_/);
    assert.equal(u.username, 'zoe');
    assert.equal(u.email, 'zoe@example.com');
    for (const login of ['zoe', 'ZOE', 'zoe@example.com', u.sub]) assert.equal((await svc.find(login))?.sub, u.sub, login);
    await assert.rejects(svc.create({ username: 'zoe', password: 'another-pass-1' }), /already exists/);
    await assert.rejects(svc.create({ username: 'yan', password: 'short' }), /at least 8/);
    await assert.rejects(svc.setRoles('zoe', ['bad role']), /invalid role/);
    assert.deepEqual((await svc.setRoles('zoe', ['user'])).roles, ['user']);
    await svc.delete('zoe');
    assert.equal(await svc.find('zoe'), undefined);
    await assert.rejects(svc.delete('zoe'), /no such user/);
  }));
  test('set-password changes the hash and ends the sessions', async () => {
    const s = await startOidcServer();
    try {
      const agent = new Agent(s.url);
      const { challenge } = pkce();
      await authorize(agent, authParams(challenge, { client_id: 'spa', redirect_uri: 'https://spa.example/callback', scope: 'openid' }), alice);
      const svc = new UserService(s.tessera.ctx.stores);
      await svc.setPassword('alice', 'a-new-password-2');
      const res = await agent.get(`/authorize?${authParams(challenge, { client_id: 'spa', redirect_uri: 'https://spa.example/callback', scope: 'openid', prompt: 'none' })}`);
      assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'login_required');
      await assert.rejects(authorize(new Agent(s.url), authParams(challenge), alice), /unexpected 401/);
      assert.ok(await authorize(new Agent(s.url), authParams(challenge, { client_id: 'spa', redirect_uri: 'https://spa.example/callback', scope: 'openid' }), { username: 'alice', password: 'a-new-password-2' }));
    } finally {
      await s.dispose();
    }
  });
  test('a deleted user cannot redeem a code issued before deletion', async () => {
    const s = await startOidcServer({ users: [...users, { username: 'temp', password: 'temp-password-1' }] });
    try {
      const { verifier, challenge } = pkce();
      const cb = await authorize(new Agent(s.url), authParams(challenge, { client_id: 'spa', redirect_uri: 'https://spa.example/callback', scope: 'openid' }), { username: 'temp', password: 'temp-password-1' });
      await new UserService(s.tessera.ctx.stores).delete('temp');
      const res = await fetch(`${s.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'spa', code: cb.searchParams.get('code')!, code_verifier: verifier, redirect_uri: 'https://spa.example/callback' }) });
      assert.equal(res.status, 400);
      assert.equal((await res.json() as { error: string }).error, 'invalid_grant');
    } finally {
      await s.dispose();
    }
  });
});
