/**
 * `npm start`: Tessera on SQLite with a demo client, ready in one command. Credentials are generated on
 * first start into ./data/demo-credentials.json (mode 0600) and printed, with a curl to try.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createTessera, loadConfig, ConfigError } from '@tessera/server';
import { buildOrdersApi } from '../examples/orders-api/src/app.ts';

const dataDir = resolve(process.env.TESSERA_DATA_DIR ?? 'data');
const AUTH_PORT = Number(process.env.PORT ?? 9000);
const ORDERS_PORT = Number(process.env.ORDERS_PORT ?? 9001);
const ORDERS_API = `http://localhost:${ORDERS_PORT}`;

interface DemoCredentials {
  serviceSecret: string;
  alicePassword: string;
  adminPassword: string;
}

function demoCredentials(): DemoCredentials {
  const file = resolve(dataDir, 'demo-credentials.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const creds: DemoCredentials = {
    serviceSecret: randomBytes(24).toString('base64url'),
    alicePassword: `alice-${randomBytes(6).toString('base64url')}`,
    adminPassword: `admin-${randomBytes(6).toString('base64url')}`,
  };
  writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  return creds;
}

async function main(): Promise<void> {
  const creds = demoCredentials();
  const config = loadConfig({
    overrides: {
      port: AUTH_PORT,
      dataDir,
      ...(process.env.TESSERA_ISSUER ? {} : { issuer: `http://localhost:${AUTH_PORT}` }),
      logLevel: (process.env.LOG_LEVEL as 'info' | undefined) ?? 'warn',
      clients: [
        {
          id: 'demo-service',
          name: 'Demo service (machine to machine)',
          type: 'confidential',
          secret: creds.serviceSecret,
          grants: ['client_credentials'],
          scopes: ['orders:read', 'orders:write'],
          audience: ORDERS_API,
        },
      ],
      users: [
        { username: 'alice', password: creds.alicePassword, name: 'Alice', email: 'alice@example.com', emailVerified: true, roles: ['user'] },
        { username: 'admin', password: creds.adminPassword, name: 'Ada Admin', email: 'admin@example.com', emailVerified: true, roles: ['user', 'admin'] },
      ],
    },
  });
  const tessera = await createTessera(config);
  await tessera.listen();
  const iss = config.issuer;
  const orders = await buildOrdersApi({ issuer: iss, audience: ORDERS_API, dbFile: resolve(dataDir, 'orders.db') });
  await orders.listen({ port: ORDERS_PORT, host: config.host });
  console.log(`
Tessera is running.
  authorization server  ${iss}
  discovery             ${iss}/.well-known/openid-configuration
  keys (JWKS)           ${iss}/jwks.json
  orders API            ${ORDERS_API}/orders (orders:read lists, orders:write creates, role admin deletes)
  data                  ${dataDir} (SQLite, keys, demo credentials)

Demo users (sign in at ${iss}/login through a client's authorization request):
  alice  ${creds.alicePassword}   (role user)
  admin  ${creds.adminPassword}   (roles user, admin)

Demo client (machine to machine):
  client_id      demo-service
  client_secret  ${creds.serviceSecret}

Get an access token:
  curl -s -u demo-service:${creds.serviceSecret} -d grant_type=client_credentials -d scope=orders:read ${iss}/token

Decode it (header and claims):
  TOKEN=$(curl -s -u demo-service:${creds.serviceSecret} -d grant_type=client_credentials ${iss}/token | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  echo $TOKEN | cut -d. -f1,2 | tr . '\\n' | node -e 'require("readline").createInterface({input:process.stdin}).on("line",l=>console.log(Buffer.from(l,"base64url").toString()))'

Call the orders API with it:
  curl -s -H "Authorization: Bearer $TOKEN" ${ORDERS_API}/orders
  curl -s -i -X DELETE -H "Authorization: Bearer $TOKEN" ${ORDERS_API}/orders/1    # 403: only admins delete

Stop with Ctrl-C.`);
  const stop = () => void Promise.all([orders.close(), tessera.close()]).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof ConfigError ? e.message : e);
  process.exit(1);
});
