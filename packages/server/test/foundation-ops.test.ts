import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, freePort, postForm, SERVICE_SECRET, startServer } from './helpers.ts';

const BIN = join(import.meta.dirname, '../bin/tessera.mjs');

describe('operations', () => {
  test('/healthz answers while the process lives; /readyz only while the database answers', async () => {
    const s = await startServer();
    try {
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
      const ready = await fetch(`${s.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ready' });
      await s.tessera.db.close();
      assert.equal((await fetch(`${s.url}/readyz`)).status, 503);
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
      // Fail closed: no token without the database.
      const t = await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', SERVICE_SECRET) });
      assert.equal(t.status, 503);
      assert.equal(t.headers.get('retry-after'), '5');
      assert.equal(((await t.json()) as { error?: string }).error, 'temporarily_unavailable');
    } finally {
      // The whole server (listeners, workers, timers), not only the main app: the database is already closed.
      await s.dispose();
    }
  });

  test('tessera serve logs JSON without secrets or tokens and stops gracefully on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-serve-'));
    const port = await freePort();
    const secret = 'serve-test-secret-9f8e7d6c5b4a';
    const cfg = join(dir, 'tessera.yaml');
    writeFileSync(cfg, `issuer: http://127.0.0.1:${port}\nport: ${port}\ndataDir: ${dir}\nmanagement:\n  port: 0\nlogLevel: trace\nclients:\n  - id: svc\n    secret: ${secret}\n    grants: [client_credentials]\n    scopes: [a]\n`);
    const child = spawn(process.execPath, [BIN, '--config', cfg, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!out.includes('tessera listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.ok(out.includes('tessera listening'), out);
      const url = `http://127.0.0.1:${port}`;
      const ok = await postForm(`${url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', secret) });
      const token = ((await ok.json()) as { access_token: string }).access_token;
      await postForm(`${url}/token`, { grant_type: 'client_credentials', client_id: 'svc', client_secret: secret });
      await postForm(`${url}/token?client_secret=${secret}&access_token=${token}`, { grant_type: 'client_credentials' });
      await postForm(`${url}/token`, { grant_type: 'client_credentials', client_id: 'svc', client_secret: `${secret}-wrong` });
      await fetch(`${url}/nope?token=${token}`, { headers: { authorization: `Bearer ${token}` } });
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      const lines = out.trim().split('\n');
      assert.ok(lines.every((l) => l.startsWith('{')), 'structured JSON log lines');
      assert.ok(out.includes('"request rejected"'), 'rejections are logged with their reason');
      assert.ok(!out.includes(secret), 'client secret never logged');
      assert.ok(!out.includes(token) && !out.includes(token.split('.')[2]!), 'token never logged');
      assert.ok(out.includes('shutting down'));
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('tessera clients create prints a secret once that works at /token; list, show, delete', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    const cfg = join(dir, 'tessera.json');
    writeFileSync(cfg, JSON.stringify({ dataDir: dir }));
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, '--config', cfg, ...args], { encoding: 'utf8', timeout: 30_000 });
    try {
      const created = run('clients', 'create', '--id', 'reports', '--name', 'Reports job', '--scope', 'reports:read', '--audience', 'https://reports.example');
      assert.equal(created.status, 0, created.stderr);
      const secret = /client_secret: (\S+)/.exec(created.stdout)?.[1];
      assert.ok(secret && secret.length >= 43);
      assert.equal(run('clients', 'create', '--id', 'reports').status, 2, 'duplicate id refused');
      assert.equal(run('clients', 'create', '--id', 'x', '--redirect-uri', 'http://evil.example/cb').status, 2);
      assert.match(run('clients', 'list').stdout, /reports\s+confidential\s+client_credentials\s+reports:read\s+cli/);
      const shown = run('clients', 'show', 'reports').stdout;
      assert.ok(!shown.includes(secret) && !shown.includes('hmac'), 'show never prints the secret or its hash');

      const s = await startServer({ dataDir: dir, clients: [] }, dir);
      try {
        const res = await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('reports', secret) });
        assert.equal(res.status, 200);
        assert.equal(((await res.json()) as { scope: string }).scope, 'reports:read');
      } finally {
        await s.stop();
      }
      assert.equal(run('clients', 'delete', 'reports').status, 0);
      assert.equal(run('clients', 'show', 'reports').status, 2);
      const hashed = spawnSync(process.execPath, [BIN, '--config', cfg, 'clients', 'hash-secret'], { input: 'a-secret-for-the-config-file\n', encoding: 'utf8' });
      assert.match(hashed.stdout.trim(), /^hmac-sha256\$[\w-]{43}$/);
      assert.equal(run('migrate').status, 0);
      const keys = run('keys', 'list').stdout;
      assert.match(keys, /active/);
      assert.match(keys, /next/);
      const rotated = run('keys', 'rotate');
      assert.equal(rotated.status, 0, rotated.stderr);
      assert.match(run('keys', 'list').stdout, /retired/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('config clients are applied idempotently; a client removed from the file is removed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-idem-'));
    const a = await startServer({}, dir);
    await a.stop();
    const b = await startServer({ clients: [] }, dir);
    try {
      const res = await postForm(`${b.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', SERVICE_SECRET) });
      assert.equal(res.status, 401);
    } finally {
      await b.dispose();
    }
  });
});
