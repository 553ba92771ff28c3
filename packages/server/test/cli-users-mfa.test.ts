import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './helpers.ts';

const BIN = join(import.meta.dirname, '../bin/tessera.mjs');

test('tessera users mfa: require / optional set the policy; reset removes the factor and signs the user out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-mfa-cli-'));
  const cfg = join(dir, 'tessera.json');
  writeFileSync(cfg, JSON.stringify({ dataDir: dir }));
  const run = (input: string | undefined, ...args: string[]) =>
    spawnSync(process.execPath, [BIN, '--config', cfg, 'users', ...args], { encoding: 'utf8', input: input ?? '', timeout: 30_000 });
  const s = await startServer({ users: [{ username: 'fixed', password: 'fixed-password-1' }] }, dir);
  const { stores } = s.tessera.ctx;
  try {
    assert.equal(run('hana-password-1\n', 'create', 'hana').status, 0);
    const sub = (await stores.users.findByLogin('hana'))!.sub;
    assert.equal(run(undefined, 'mfa', 'require', 'hana').status, 0);
    assert.equal((await stores.users.get(sub))!.mfaRequired, true);
    assert.match(run(undefined, 'mfa', 'status', 'hana').stdout, /totp off, recovery codes left 0, policy required/);
    assert.equal(run(undefined, 'mfa', 'optional', 'hana').status, 0);
    assert.equal((await stores.users.get(sub))!.mfaRequired ?? false, false);
    const fromConfig = run(undefined, 'mfa', 'require', 'fixed');
    assert.equal(fromConfig.status, 2);
    assert.match(fromConfig.stderr, /config file/);

    // A confirmed factor with recovery codes and a live session, then the reset.
    assert.equal(await stores.mfa.beginTotp(sub, 'v1.x.y.z', 1), true);
    assert.equal(await stores.mfa.confirmTotp(sub, 5, 2, ['h1', 'h2']), true);
    await stores.sessions.insert({ idHash: 'sess-hash-hana', sid: 'sid-hana', sub, authTime: 1, amr: ['pwd', 'otp', 'mfa'], createdAt: 1, lastSeenAt: 1, expiresAt: 9_999_999_999 });
    assert.match(run(undefined, 'mfa', 'status', 'hana').stdout, /totp on, recovery codes left 2/);
    const reset = run(undefined, 'mfa', 'reset', 'hana');
    assert.equal(reset.status, 0, reset.stderr);
    assert.match(reset.stdout, /second factor of hana removed/);
    assert.equal(await stores.mfa.getTotp(sub), undefined);
    assert.equal(await stores.mfa.unusedRecoveryCodes(sub), 0);
    assert.equal(await stores.sessions.get('sess-hash-hana'), undefined, 'signed out everywhere');
    assert.equal(run(undefined, 'mfa', 'reset', 'nobody').status, 2);
  } finally {
    await s.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
