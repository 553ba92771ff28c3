import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { basic, freePort, postForm, SERVICE_SECRET, serviceClient, startServer } from '../../../packages/server/test/helpers.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
const AUDIENCE = 'https://orders.example';
const RS_SECRET = 'orders-main-rs-secret-0123456789';

test('the orders API started on its own (main.ts) refuses a revoked token through the revocation feed', async () => {
  const tessera = await startServer({
    clients: [serviceClient, { id: 'orders-api', secret: RS_SECRET, grants: ['client_credentials'], scopes: [], audience: AUDIENCE, permissions: ['introspect'] }],
  });
  const port = await freePort();
  const env = { ...process.env, ISSUER: tessera.url, AUDIENCE, PORT: String(port), HOST: '127.0.0.1', ORDERS_DB: join(tessera.dataDir, 'orders.db'), LOG_LEVEL: 'warn' };
  let api: ChildProcess | undefined;
  try {
    // Without the API's client secret it does not start (it would accept revoked tokens until exp).
    const refused = spawnSync(process.execPath, ['--import', 'tsx', MAIN], { env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /CLIENT_SECRET is required/);

    api = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: { ...env, CLIENT_SECRET: RS_SECRET }, stdio: ['ignore', 'ignore', 'inherit'] });
    const url = `http://127.0.0.1:${port}`;
    let up = false;
    for (let i = 0; i < 200 && !up; i++) {
      up = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(up, 'the orders API answers /healthz');

    const res = await postForm(`${tessera.url}/token`, { grant_type: 'client_credentials', scope: 'orders:read' }, { authorization: basic('svc', SERVICE_SECRET) });
    const token = ((await res.json()) as { access_token: string }).access_token;
    const orders = () => fetch(`${url}/orders`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    assert.equal(await orders(), 200, 'accepted (and cached) before the revocation');

    assert.equal((await postForm(`${tessera.url}/revoke`, { token }, { authorization: basic('svc', SERVICE_SECRET) })).status, 200);
    let status = 200;
    for (let i = 0; i < 100 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await orders();
    }
    assert.equal(status, 401, 'the revoked token is refused (it is valid for another 15 minutes otherwise)');
  } finally {
    if (api && api.exitCode === null) {
      api.kill('SIGTERM');
      await once(api, 'exit');
    }
    await tessera.dispose();
  }
});
