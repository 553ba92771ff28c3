import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config/load.ts';
import { basic, postForm } from './helpers.ts';

const BIN = join(import.meta.dirname, '../bin/tessera.mjs');
const VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '../package.json'), 'utf8')) as { version: string }).version;
/** Variables that would override the config file: the child must see only what init wrote. */
const OVERRIDES = ['PORT', 'HOST', 'TESSERA_ISSUER', 'DATABASE_URL', 'REDIS_URL', 'LOG_LEVEL', 'TESSERA_CONFIG', 'TESSERA_SECRET'];

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of OVERRIDES) delete env[k];
  return env;
}
const init = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [BIN, 'init', ...args], { cwd, encoding: 'utf8', env: cleanEnv(), timeout: 30_000 });
const secretOf = (yaml: string, id: string) => (parseYaml(yaml) as { clients: { id: string; secret?: string }[] }).clients.find((c) => c.id === id)?.secret;

describe('tessera init', () => {
  test('writes a valid commented tessera.yaml (confidential, public and resource-server client) and .env.example', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-init-'));
    try {
      const r = init(dir, 'auth');
      assert.equal(r.status, 0, r.stderr);
      const cfgFile = join(dir, 'auth', 'tessera.yaml');
      const yaml = readFileSync(cfgFile, 'utf8');
      assert.ok(yaml.split('\n').filter((l) => l.trim().startsWith('#')).length > 10, 'commented');
      // Valid as written, outside and (apart from plain dev secrets) inside production.
      const config = loadConfig({ file: cfgFile, env: {} });
      assert.equal(config.issuer, 'http://localhost:9000');
      const byId = new Map(config.clients.map((c) => [c.id, c]));
      assert.equal(byId.get('service')?.type, 'confidential');
      assert.deepEqual(byId.get('service')?.grants, ['client_credentials']);
      assert.equal(byId.get('web-app')?.type, 'public');
      assert.ok(byId.get('web-app')?.grants.includes('authorization_code'));
      assert.deepEqual(byId.get('api')?.permissions, ['introspect']);
      assert.throws(() => loadConfig({ file: cfgFile, env: { NODE_ENV: 'production' } }), /plain secrets are not allowed in production/);

      const env = readFileSync(join(dir, 'auth', '.env.example'), 'utf8');
      const secret = /^TESSERA_SECRET=([A-Za-z0-9_-]+)$/m.exec(env)?.[1];
      assert.ok(secret && secret.length >= 43, 'a generated 32-byte TESSERA_SECRET');
      assert.equal(statSync(cfgFile).mode & 0o077, 0, 'the files hold secrets: owner only');
      // Fresh secrets on every run.
      assert.equal(init(dir, 'other').status, 0);
      const other = readFileSync(join(dir, 'other', 'tessera.yaml'), 'utf8');
      assert.notEqual(secretOf(other, 'service'), secretOf(yaml, 'service'));
      assert.notEqual(/^TESSERA_SECRET=(.+)$/m.exec(readFileSync(join(dir, 'other', '.env.example'), 'utf8'))?.[1], secret);
      // It says what to do next, without printing a secret.
      assert.match(r.stdout, /npx tessera serve/);
      assert.ok(!r.stdout.includes(secret) && !r.stdout.includes(secretOf(yaml, 'service')!));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses to overwrite an existing tessera.yaml or .env.example, and writes nothing then', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-init-'));
    try {
      writeFileSync(join(dir, 'tessera.yaml'), 'issuer: http://localhost:1234\n');
      const r = init(dir);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /tessera\.yaml already exists/);
      assert.equal(readFileSync(join(dir, 'tessera.yaml'), 'utf8'), 'issuer: http://localhost:1234\n');
      assert.ok(!existsSync(join(dir, '.env.example')), 'nothing half-written');

      const second = join(dir, 'second');
      mkdirSync(second);
      writeFileSync(join(second, '.env.example'), 'TESSERA_SECRET=mine\n');
      const r2 = init(dir, 'second');
      assert.equal(r2.status, 2);
      assert.match(r2.stderr, /\.env\.example already exists/);
      assert.equal(readFileSync(join(second, '.env.example'), 'utf8'), 'TESSERA_SECRET=mine\n');
      assert.ok(!existsSync(join(second, 'tessera.yaml')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('`tessera serve` in the directory starts on the written config unchanged, logs its start-up line and issues a token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-init-'));
    let child: ReturnType<typeof spawn> | undefined;
    try {
      assert.equal(init(dir).status, 0);
      const yaml = readFileSync(join(dir, 'tessera.yaml'), 'utf8');
      // Only the listening port moves (tests never bind 9000); the file stays as init wrote it.
      const env = { ...cleanEnv(), PORT: '0' };
      child = spawn(process.execPath, [BIN, 'serve'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 30_000;
      while (!out.includes('tessera listening') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const line = out.split('\n').find((l) => l.includes('tessera listening'));
      assert.ok(line, out);
      const started = JSON.parse(line) as Record<string, unknown>;
      assert.equal(started.version, VERSION);
      assert.equal(started.issuer, 'http://localhost:9000');
      assert.equal(started.storage, 'sqlite');
      assert.equal(started.keyAlgorithm, 'ES256');
      const url = String(started.address);

      assert.equal((await fetch(`${url}/readyz`)).status, 200);
      const secret = secretOf(yaml, 'service')!;
      const res = await postForm(`${url}/token`, { grant_type: 'client_credentials', scope: 'api:read' }, { authorization: basic('service', secret) });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { access_token: string; token_type: string };
      assert.equal(body.token_type, 'Bearer');
      const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString()) as { aud: string; iss: string };
      assert.equal(claims.aud, 'http://localhost:3000');
      assert.equal(claims.iss, 'http://localhost:9000');
      assert.ok(existsSync(join(dir, 'data', 'tessera.db')), 'SQLite in ./data as the comments say');

      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.ok(!out.includes(secret), 'no client secret in the log');
      assert.ok(!out.includes(readFileSync(join(dir, 'data', 'secret'), 'utf8').trim()), 'no deployment secret in the log');
      assert.equal(readFileSync(join(dir, 'tessera.yaml'), 'utf8'), yaml, 'unchanged');
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
