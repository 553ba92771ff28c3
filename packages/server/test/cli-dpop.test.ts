// `tessera clients create --dpop-bound`: the client gets no bearer tokens (RFC 9449 §5.2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, postForm, startServer } from './helpers.ts';
import { dpopKey, proof } from './support/dpop.ts';

const BIN = join(import.meta.dirname, '../bin/tessera.mjs');

test('clients create --dpop-bound: shown by clients show, enforced at /token', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-dpop-'));
  const cfg = join(dir, 'tessera.json');
  writeFileSync(cfg, JSON.stringify({ dataDir: dir }));
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, '--config', cfg, ...args], { encoding: 'utf8', timeout: 30_000 });
  try {
    const created = run('clients', 'create', '--id', 'bound-job', '--scope', 'reports:read', '--dpop-bound');
    assert.equal(created.status, 0, created.stderr);
    const secret = /client_secret: (\S+)/.exec(created.stdout)![1]!;
    assert.equal((JSON.parse(run('clients', 'show', 'bound-job').stdout) as { dpopBoundAccessTokens: boolean }).dpopBoundAccessTokens, true);
    const s = await startServer({ dataDir: dir, clients: [] }, dir);
    try {
      const url = `${s.url}/token`;
      const bearer = await postForm(url, { grant_type: 'client_credentials' }, { authorization: basic('bound-job', secret) });
      assert.equal(bearer.status, 400);
      assert.equal((await bearer.json() as { error: string }).error, 'invalid_dpop_proof');
      const dpop = await postForm(url, { grant_type: 'client_credentials' }, { authorization: basic('bound-job', secret), dpop: await proof(await dpopKey(), { htu: url }) });
      assert.equal(dpop.status, 200);
      assert.equal((await dpop.json() as { token_type: string }).token_type, 'DPoP');
    } finally {
      await s.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
