import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../bin/tessera.mjs');

test('tessera resources list: registered resources, their scopes and clients; unregistered ones a CLI client names', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-resources-'));
  try {
    const cfg = join(dir, 'tessera.json');
    const cli = (args: string[]) => spawnSync(process.execPath, [BIN, '--config', cfg, ...args], { encoding: 'utf8', timeout: 60_000 });
    // Made before any resource was registered; with resourceServers set the CLI refuses it, like the file.
    writeFileSync(cfg, JSON.stringify({ issuer: 'http://127.0.0.1:1', dataDir: dir }));
    const made = cli(['clients', 'create', '--id', 'job', '--resource', 'https://elsewhere.example']);
    assert.equal(made.status, 0, made.stderr);
    writeFileSync(cfg, JSON.stringify({
      issuer: 'http://127.0.0.1:1', dataDir: dir, requireResourceIndicator: true,
      resourceServers: [{ resource: 'https://orders.example', scopes: ['orders:read'] }, { resource: 'https://mcp.example/mcp' }],
      clients: [{ id: 'svc', secret: 'svc-secret-0123456789abcdef', grants: ['client_credentials'], audience: 'https://orders.example' }],
    }));
    const refused = cli(['clients', 'create', '--id', 'job2', '--resource', 'https://elsewhere.example']);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /not registered in resourceServers/);
    const r = cli(['resources', 'list', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { requireResourceIndicator: boolean; resources: { resource: string; scopes?: string[]; clients: string[]; registered: boolean }[] };
    assert.equal(out.requireResourceIndicator, true);
    assert.deepEqual(out.resources.map((x) => [x.resource, x.scopes, x.clients, x.registered]), [
      ['https://orders.example', ['orders:read'], ['svc'], true],
      ['https://mcp.example/mcp', undefined, [], true],
      ['https://elsewhere.example', undefined, ['job'], false],
    ]);
    const text = cli(['resources', 'list']);
    assert.match(text.stdout, /https:\/\/elsewhere\.example\s+NOT REGISTERED\s+job/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
