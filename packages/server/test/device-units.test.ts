import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { DEVICE_GRANT, formatUserCode, newUserCode, normalizeUserCode, USER_CODE_ALPHABET } from '../src/engine/device/index.ts';

const BIN = join(import.meta.dirname, '../bin/tessera.mjs');

describe('user codes (RFC 8628 §6.1)', () => {
  test('alphabet: 20 consonants, no vowels, no digits, no look-alikes', () => {
    assert.equal(USER_CODE_ALPHABET.length, 20);
    assert.equal(new Set(USER_CODE_ALPHABET).size, 20);
    for (const ch of 'AEIOUY0123456789') assert.ok(!USER_CODE_ALPHABET.includes(ch), ch);
  });

  test('8 characters of the alphabet, shown as XXXX-XXXX, every character used', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const code = newUserCode();
      assert.match(code, /^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
      for (const ch of code) seen.add(ch);
      assert.match(formatUserCode(code), /^[A-Z]{4}-[A-Z]{4}$/);
    }
    assert.equal(seen.size, 20);
  });

  test('entry ignores case, dashes and spaces; anything else is not a code', () => {
    assert.equal(normalizeUserCode('bcdf-ghjk'), 'BCDFGHJK');
    assert.equal(normalizeUserCode(' BCDF GHJK '), 'BCDFGHJK');
    assert.equal(normalizeUserCode('bcdfghjk'), 'BCDFGHJK');
    for (const bad of [undefined, '', 'BCDF-GHJ', 'BCDF-GHJKL', 'ABCD-EFGH', 'BCDF-GHJ1', `${'B'.repeat(8)}${' '.repeat(40)}`, 'BCDF_GHJK']) {
      assert.equal(normalizeUserCode(bad), undefined, String(bad));
    }
  });
});

describe('device settings in the config', () => {
  const base = { env: { NODE_ENV: 'test' } };

  test('defaults: 10 minutes, 5 s interval; a client may have the device grant', () => {
    const c = loadConfig({ ...base, overrides: { clients: [{ id: 'tv', type: 'public', grants: [DEVICE_GRANT] }] } });
    assert.equal(c.device, undefined);
    assert.deepEqual(c.clients[0]!.grants, [DEVICE_GRANT]);
  });

  test('codeTtl bounded to 1..30 minutes, interval to 1..60 s, unknown keys refused', () => {
    const problems = (device: Record<string, unknown>) => {
      try {
        loadConfig({ ...base, overrides: { device } as never });
        return [];
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.problems;
      }
    };
    assert.deepEqual(problems({ codeTtl: '15m', interval: 2 }), []);
    assert.ok(problems({ codeTtl: '1h' }).some((p) => p.startsWith('device.codeTtl')));
    assert.ok(problems({ codeTtl: 10 }).some((p) => p.startsWith('device.codeTtl')));
    assert.ok(problems({ interval: 0 }).some((p) => p.includes('device.interval')));
    assert.ok(problems({ polling: 5 }).length > 0);
  });
});

describe('tessera clients create/update with the device grant', () => {
  test('--grant accepts urn:ietf:params:oauth:grant-type:device_code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-device-'));
    try {
      const cfg = join(dir, 'tessera.json');
      writeFileSync(cfg, JSON.stringify({ issuer: 'http://127.0.0.1:9', dataDir: dir }));
      const cli = (args: string[]) => spawnSync(process.execPath, [BIN, '--config', cfg, ...args], { encoding: 'utf8', timeout: 60_000 });
      const created = cli(['clients', 'create', '--id', 'tv', '--public', '--name', 'TV', '--grant', DEVICE_GRANT, 'refresh_token', '--scope', 'openid']);
      assert.equal(created.status, 0, created.stderr);
      const shown = JSON.parse(cli(['clients', 'show', 'tv']).stdout) as { grantTypes: string[] };
      assert.deepEqual(shown.grantTypes, [DEVICE_GRANT, 'refresh_token']);
      const updated = cli(['clients', 'update', 'tv', '--grant', DEVICE_GRANT]);
      assert.equal(updated.status, 0, updated.stderr);
      assert.deepEqual((JSON.parse(cli(['clients', 'show', 'tv']).stdout) as { grantTypes: string[] }).grantTypes, [DEVICE_GRANT]);
      const bad = cli(['clients', 'update', 'tv', '--grant', 'device_code']);
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /unknown grant device_code/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
