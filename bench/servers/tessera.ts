import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTessera, loadConfig } from '../../packages/server/src/index.ts';
import { ALICE, AUDIENCE, RS, SVC, WEB, freePort, type Alg } from '../lib/fixtures.ts';
import type { Started } from './child.ts';
import { applyLevers } from './levers.ts';

/**
 * Tessera's authorization server as a deployment would run it: a real SQLite file in `dataDir`,
 * request logging at `warn` (like every peer here, no per-request log lines).
 */
export async function start(args: { alg?: Alg; dataDir?: string; refresh?: boolean; redisUrl?: string; issuer?: string; levers?: string[] }): Promise<Started> {
  applyLevers(args.levers ?? []);
  const port = await freePort();
  const dataDir = args.dataDir ?? mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  // A second instance of one deployment shares the first one's issuer (and data directory).
  const issuer = args.issuer ?? `http://127.0.0.1:${port}`;
  const config = loadConfig({
    env: {},
    overrides: {
      issuer,
      host: '127.0.0.1',
      port,
      dataDir,
      logLevel: 'warn',
      ...(args.redisUrl ? { redisUrl: args.redisUrl } : {}),
      keys: { algorithm: args.alg ?? 'RS256', reloadEvery: 10 },
      tokens: { accessTokenTtl: 900, maxAccessTokenTtl: 3600, codeTtl: 600 },
      clients: [
        { id: SVC.id, secret: SVC.secret, grants: ['client_credentials'], scopes: ['orders:read', 'orders:write'], audience: AUDIENCE, accessTokenTtl: 3600 },
        // A resource server: may introspect and read the revocation feed.
        { id: RS.id, secret: RS.secret, grants: ['client_credentials'], scopes: [], audience: AUDIENCE, permissions: ['introspect'] },
        {
          id: WEB.id,
          secret: WEB.secret,
          grants: ['authorization_code', ...(args.refresh ? ['refresh_token'] : [])],
          scopes: ['openid', 'profile', 'orders:read', ...(args.refresh ? ['offline_access'] : [])],
          redirectUris: [WEB.redirect],
          audience: AUDIENCE,
        },
      ],
      users: [{ username: ALICE.username, password: ALICE.password, roles: ['user'] }],
    },
  });
  const tessera = await createTessera(config, { env: {} });
  await tessera.listen();
  return { url: `http://127.0.0.1:${port}`, info: { dataDir, issuer }, close: () => tessera.close() };
}
