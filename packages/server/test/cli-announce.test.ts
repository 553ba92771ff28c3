import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { basic, freePort, postForm, SERVICE_SECRET, startServer } from './helpers.ts';

const BIN = join(import.meta.dirname, '../bin/tessera.mjs');

test('with Redis, `tessera keys rotate` and `clients create` reach a running server at once', async () => {
  const port = await freePort();
  const redisUrl = `redis://127.0.0.1:6379/${randomInt(1, 16)}`;
  // keys.reloadEvery 60 s and the 5 s client cache: only the Redis announcement can explain a quick change.
  const s = await startServer({ port, redisUrl, keys: { algorithm: 'RS256', reloadEvery: 60 } });
  const cfg = join(s.dataDir, 'cli.json');
  writeFileSync(cfg, JSON.stringify({ issuer: s.url, dataDir: s.dataDir, redisUrl }));
  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, '--config', cfg, ...args], { encoding: 'utf8', timeout: 30_000 });
  const kid = async () => {
    const res = await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', SERVICE_SECRET) });
    return decodeProtectedHeader(((await res.json()) as { access_token: string }).access_token).kid;
  };
  try {
    const before = await kid();
    const rotated = cli('keys', 'rotate');
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.match(rotated.stdout, /told through Redis/);
    let after = await kid();
    for (let i = 0; i < 20 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await kid();
    }
    assert.notEqual(after, before, 'the server signs with the rotated key within 2 s');

    // An unknown id is cached as unknown for 5 s; the announcement clears that at once.
    const unknown = await postForm(`${s.url}/token`, { grant_type: 'client_credentials', client_id: 'late', client_secret: 'x'.repeat(43) });
    assert.equal(unknown.status, 401);
    const created = cli('clients', 'create', '--id', 'late', '--scope', 'a');
    assert.equal(created.status, 0, created.stderr);
    const secret = /client_secret: (\S+)/.exec(created.stdout)![1]!;
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('late', secret) })).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200, 'the new client works within 2 s, not after the 5 s cache');
  } finally {
    await s.dispose();
  }
});
