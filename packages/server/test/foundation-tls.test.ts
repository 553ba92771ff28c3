import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTessera, loadConfig } from '../src/index.ts';
import { freePort } from './helpers.ts';

test('tls: { cert, key } serves HTTPS with HSTS', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const port = await freePort();
  const config = loadConfig({ env: {}, overrides: { issuer: `https://127.0.0.1:${port}`, port, dataDir: dir, logLevel: 'silent', tls: { cert, key }, management: { port: 0 } } });
  const tessera = await createTessera(config, { logger: false, env: {} });
  await tessera.listen();
  try {
    const res = await new Promise<{ status: number; hsts: string | undefined; body: string }>((resolve, reject) => {
      const req = request(`https://127.0.0.1:${port}/.well-known/oauth-authorization-server`, { ca: readFileSync(cert) }, (r) => {
        let body = '';
        r.on('data', (d: Buffer) => (body += d.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, hsts: r.headers['strict-transport-security'], body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 200);
    assert.match(res.hsts ?? '', /max-age=\d+/);
    assert.equal((JSON.parse(res.body) as { issuer: string }).issuer, `https://127.0.0.1:${port}`);
  } finally {
    await tessera.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
