import { buildOrdersApi } from './app.js';

/**
 * Runs the orders API on its own: ISSUER, AUDIENCE, PORT, HOST, ORDERS_DB, LOG_LEVEL, PUBLIC_ORIGIN (DPoP `htu` behind a proxy), and the API's own
 * client at Tessera (permission `introspect`): CLIENT_ID (default orders-api) and CLIENT_SECRET. It reads
 * Tessera's revocation feed, as in the demo, so a revoked token is refused within a second rather than
 * accepted until it expires; without the client secret it does not start.
 */
const port = Number(process.env.PORT ?? 9001);
const clientSecret = process.env.CLIENT_SECRET;
if (!clientSecret) {
  console.error(
    'CLIENT_SECRET is required: the orders API reads Tessera\'s revocation feed as its own client\n' +
      '(CLIENT_ID, default orders-api), a confidential client with permissions: [introspect].',
  );
  process.exit(2);
}
const app = await buildOrdersApi({
  issuer: process.env.ISSUER ?? 'http://localhost:9000',
  audience: process.env.AUDIENCE ?? `http://localhost:${port}`,
  dbFile: process.env.ORDERS_DB ?? './data/orders.db',
  revocation: { feed: { clientId: process.env.CLIENT_ID ?? 'orders-api', clientSecret } },
  ...(process.env.PUBLIC_ORIGIN ? { dpop: { origin: process.env.PUBLIC_ORIGIN } } : {}),
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
});
await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void app.close().then(() => process.exit(0)));
