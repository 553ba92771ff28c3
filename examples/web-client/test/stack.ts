import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { freePort, startServer, type Running } from '../../../packages/server/test/helpers.ts';
import { users } from '../../../packages/server/test/oidc-helpers.ts';
import { buildOrdersApi } from '../../orders-api/src/app.ts';
import { buildWebClient } from '../src/app.ts';

export const WEB_SECRET = 'demo-web-secret-0123456789abcdef';
const RS_SECRET = 'orders-api-rs-secret-0123456789';

export interface Stack {
  tessera: Running;
  ordersApi: string;
  web: string;
  close(): Promise<void>;
}

/**
 * The whole demo on 127.0.0.1 (the host names the browser uses must be the ones configured): a real
 * Tessera with the web client and the orders API registered as clients, the orders API subscribed to
 * the revocation feed, and the web client.
 */
export async function startStack(options: { deleteAcr?: string | false } = {}): Promise<Stack> {
  const [webPort, ordersPort] = [await freePort(), await freePort()];
  const web = `http://127.0.0.1:${webPort}`;
  const ordersApi = `http://127.0.0.1:${ordersPort}`;
  const dir = mkdtempSync(join(tmpdir(), 'web-client-'));
  const tessera = await startServer({
    clients: [
      {
        id: 'demo-web',
        name: 'Tessera demo web client',
        type: 'confidential',
        secret: WEB_SECRET,
        grants: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'profile', 'email', 'orders:read', 'orders:write', 'offline_access'],
        redirectUris: [`${web}/callback`],
        postLogoutRedirectUris: [`${web}/`],
        audience: ordersApi,
      },
      { id: 'orders-api', type: 'confidential', secret: RS_SECRET, grants: ['client_credentials'], scopes: [], audience: ordersApi, permissions: ['introspect'] },
    ],
    users,
    // As in scripts/demo.ts: strict rotation, so replaying a spent token at once shows reuse detection.
    refreshTokens: { graceSeconds: 0 },
  });
  const apps: FastifyInstance[] = [];
  try {
    const orders = await buildOrdersApi({
      issuer: tessera.url,
      audience: ordersApi,
      dbFile: join(dir, 'orders.db'),
      revocation: { feed: { clientId: 'orders-api', clientSecret: RS_SECRET } },
      // The walk-through suite deletes with a password; web-client-step-up.test.ts demands MFA (RFC 9470).
      deleteAcr: options.deleteAcr ?? false,
    });
    apps.push(orders);
    await orders.listen({ port: ordersPort, host: '127.0.0.1' });
    const client = await buildWebClient({ issuer: tessera.url, clientId: 'demo-web', clientSecret: WEB_SECRET, baseUrl: web, ordersApi });
    apps.push(client);
    await client.listen({ port: webPort, host: '127.0.0.1' });
  } catch (e) {
    await Promise.all(apps.map((a) => a.close()));
    await tessera.dispose();
    throw e;
  }
  return {
    tessera,
    ordersApi,
    web,
    close: async () => {
      await Promise.all(apps.map((a) => a.close()));
      await tessera.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
