/**
 * `npm start`: Tessera on SQLite with a demo client, ready in one command. Credentials are generated on
 * first start into ./data/demo-credentials.json (mode 0600) and printed, with a curl to try.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createTessera, loadConfig, ConfigError } from '@tessera/server';

const dataDir = resolve(process.env.TESSERA_DATA_DIR ?? 'data');
const AUTH_PORT = Number(process.env.PORT ?? 9000);
const ORDERS_API = process.env.ORDERS_API_URL ?? 'http://localhost:9001';

interface DemoCredentials {
  serviceSecret: string;
}

function demoCredentials(): DemoCredentials {
  const file = resolve(dataDir, 'demo-credentials.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const creds: DemoCredentials = { serviceSecret: randomBytes(24).toString('base64url') };
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
    },
  });
  const tessera = await createTessera(config);
  await tessera.listen();
  const iss = config.issuer;
  console.log(`
Tessera is running.
  authorization server  ${iss}
  discovery             ${iss}/.well-known/openid-configuration
  keys (JWKS)           ${iss}/jwks.json
  data                  ${dataDir} (SQLite, keys, demo credentials)

Demo client (machine to machine):
  client_id      demo-service
  client_secret  ${creds.serviceSecret}

Get an access token:
  curl -s -u demo-service:${creds.serviceSecret} -d grant_type=client_credentials -d scope=orders:read ${iss}/token

Decode it (header and claims):
  TOKEN=$(curl -s -u demo-service:${creds.serviceSecret} -d grant_type=client_credentials ${iss}/token | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  echo $TOKEN | cut -d. -f1,2 | tr . '\\n' | node -e 'require("readline").createInterface({input:process.stdin}).on("line",l=>console.log(Buffer.from(l,"base64url").toString()))'

Stop with Ctrl-C.`);
  const stop = () => void tessera.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof ConfigError ? e.message : e);
  process.exit(1);
});
