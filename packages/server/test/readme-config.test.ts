import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../src/engine/users/password.ts';
import { freePort } from './helpers.ts';

const BIN = join(import.meta.dirname, '../bin/tessera.mjs');
const README = join(import.meta.dirname, '../../../README.md');

/** The first ```yaml block of the README's "## Configuration" section. */
function readmeConfig(): string {
  const section = readFileSync(README, 'utf8').split('\n## Configuration\n')[1]?.split('\n## ')[0] ?? '';
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(yaml, 'README has a yaml block under ## Configuration');
  return yaml;
}

function get(url: string, ca: Buffer, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, method: init.method ?? 'GET', headers: init.headers }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d.toString()));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

test('the README configuration example starts as written, given the variables and files it names', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-readme-'));
  // The files and variables the README says the example needs, and nothing else.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  writeFileSync(join(dir, 'tessera.yaml'), readmeConfig());
  const ordersSecret = 'readme-orders-secret-0123456789';
  const port = await freePort();
  const env = {
    ...process.env,
    NODE_ENV: 'development',
    TESSERA_CONFIG: '',
    TESSERA_SECRET: '',
    DATABASE_URL: '',
    REDIS_URL: '',
    TESSERA_DATA_DIR: '',
    ORDERS_SECRET: ordersSecret,
    WEB_SECRET: 'readme-web-secret-0123456789ab',
    ORDERS_API_SECRET: 'readme-orders-api-secret-012345',
    ALICE_PASSWORD_HASH: await hashPassword('alice-readme-password'),
    // The documented overrides, so the test does not take the example's port 9000 or listen on 0.0.0.0.
    PORT: String(port),
    HOST: '127.0.0.1',
    MANAGEMENT_PORT: '0',
  };
  const child = spawn(process.execPath, [BIN, '--config', 'tessera.yaml', 'serve'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const started = await new Promise<boolean>((resolve) => {
      const onData = () => out.includes('tessera listening') && resolve(true);
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', () => resolve(false));
    });
    assert.ok(started, `the server did not start:\n${out.slice(-4000)}`);
    const ca = readFileSync(join(dir, 'cert.pem'));
    const base = `https://127.0.0.1:${port}`;
    const meta = await get(`${base}/.well-known/openid-configuration`, ca);
    assert.equal(meta.status, 200);
    assert.equal((JSON.parse(meta.body) as { issuer: string }).issuer, 'https://auth.example.com');
    const token = await get(`${base}/token`, ca, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`orders-service:${ordersSecret}`).toString('base64')}` },
      body: 'grant_type=client_credentials&scope=orders:read',
    });
    assert.equal(token.status, 200, token.body);
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
