/**
 * `npm start`: Tessera on SQLite with a demo client, ready in one command. Credentials are generated on
 * first start into ./data/demo-credentials.json (mode 0600) and printed, with a curl to try.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createTessera, loadConfig, ConfigError } from '@tessera/server';
import { buildOrdersApi } from '../examples/orders-api/src/app.ts';
import { buildWebClient } from '../examples/web-client/src/app.ts';
import { startMcpServer } from '../examples/mcp-server/src/app.ts';

const dataDir = resolve(process.env.TESSERA_DATA_DIR ?? 'data');
const AUTH_PORT = Number(process.env.PORT ?? 9000);
const ORDERS_PORT = Number(process.env.ORDERS_PORT ?? 9001);
const ORDERS_API = `http://localhost:${ORDERS_PORT}`;
const WEB_PORT = Number(process.env.WEB_CLIENT_PORT ?? 9002);
const WEB_CLIENT = `http://localhost:${WEB_PORT}`;
const MCP_PORT = Number(process.env.MCP_PORT ?? 9003);
const MCP_SERVER = `http://localhost:${MCP_PORT}`;

interface DemoCredentials {
  serviceSecret: string;
  alicePassword: string;
  adminPassword: string;
  /** The demo web client's secret (added later: generated when an older file lacks it). */
  webClientSecret: string;
  /** The orders API's own client, for Tessera's revocation feed (added later, likewise). */
  ordersApiSecret: string;
}

const secret = () => randomBytes(24).toString('base64url');

function demoCredentials(): DemoCredentials {
  const file = resolve(dataDir, 'demo-credentials.json');
  const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoCredentials>) : {};
  const creds: DemoCredentials = {
    serviceSecret: stored.serviceSecret ?? secret(),
    alicePassword: stored.alicePassword ?? `alice-${randomBytes(6).toString('base64url')}`,
    adminPassword: stored.adminPassword ?? `admin-${randomBytes(6).toString('base64url')}`,
    webClientSecret: stored.webClientSecret ?? secret(),
    ordersApiSecret: stored.ordersApiSecret ?? secret(),
  };
  if (Object.keys(creds).some((k) => !(k in stored))) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify({ ...stored, ...creds }, null, 2), { mode: 0o600 });
    chmodSync(file, 0o600); // `mode` applies only when the file is created
  }
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
        {
          id: 'demo-web',
          name: 'Tessera demo web client',
          type: 'confidential',
          secret: creds.webClientSecret,
          grants: ['authorization_code', 'refresh_token'],
          scopes: ['openid', 'profile', 'email', 'orders:read', 'orders:write', 'offline_access'],
          redirectUris: [`${WEB_CLIENT}/callback`],
          postLogoutRedirectUris: [`${WEB_CLIENT}/`],
          audience: ORDERS_API,
        },
        {
          // The orders API's own client: it reads the revocation feed (permission `introspect`).
          id: 'orders-api',
          name: 'Orders API (resource server)',
          type: 'confidential',
          secret: creds.ordersApiSecret,
          grants: ['client_credentials'],
          scopes: [],
          audience: ORDERS_API,
          permissions: ['introspect'],
        },
      ],
      users: [
        { username: 'alice', password: creds.alicePassword, name: 'Alice', email: 'alice@example.com', emailVerified: true, roles: ['user'] },
        { username: 'admin', password: creds.adminPassword, name: 'Ada Admin', email: 'admin@example.com', emailVerified: true, roles: ['user', 'admin'] },
      ],
      // Strict rotation: the web client's "Reuse old refresh token" replays a spent token at once, which
      // the default retry window (10 s, for racing tabs) would answer. See README "Refresh-token retry window".
      refreshTokens: { graceSeconds: 0 },
      // MCP clients register themselves (RFC 7591) and may ask for the example MCP server (README "Protect an MCP server").
      registration: { enabled: true, open: true, scopes: ['openid', 'profile', 'offline_access', 'mcp:tools'], resources: [`${MCP_SERVER}/mcp`] },
    },
  });
  const tessera = await createTessera(config);
  await tessera.listen();
  const iss = config.issuer;
  const orders = await buildOrdersApi({
    issuer: iss,
    audience: ORDERS_API,
    dbFile: resolve(dataDir, 'orders.db'),
    revocation: { feed: { clientId: 'orders-api', clientSecret: creds.ordersApiSecret } },
  });
  await orders.listen({ port: ORDERS_PORT, host: config.host });
  const web = await buildWebClient({ issuer: iss, clientId: 'demo-web', clientSecret: creds.webClientSecret, baseUrl: WEB_CLIENT, ordersApi: ORDERS_API });
  await web.listen({ port: WEB_PORT, host: config.host });
  const mcp = await startMcpServer({ issuer: iss, baseUrl: MCP_SERVER, port: MCP_PORT, host: config.host });
  console.log(`
open ${WEB_CLIENT}    (the demo web client: sign in as alice or admin and watch the protocol)

Tessera is running.
  authorization server  ${iss}
  discovery             ${iss}/.well-known/openid-configuration
  keys (JWKS)           ${iss}/jwks.json
  orders API            ${ORDERS_API}/orders (orders:read lists, orders:write creates, role admin deletes)
  demo web client       ${WEB_CLIENT} (client_id demo-web)
  MCP server            ${mcp.url} (MCP clients register themselves at ${iss}/register)
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
  const stop = () => void Promise.all([web.close(), orders.close(), mcp.close(), tessera.close()]).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof ConfigError ? e.message : e);
  process.exit(1);
});
