import { buildOrdersApi } from './app.js';

/** Runs the orders API on its own: ISSUER, AUDIENCE, PORT, ORDERS_DB, PUBLIC_ORIGIN (DPoP `htu` behind a proxy). */
const port = Number(process.env.PORT ?? 9001);
const app = await buildOrdersApi({
  issuer: process.env.ISSUER ?? 'http://localhost:9000',
  audience: process.env.AUDIENCE ?? `http://localhost:${port}`,
  dbFile: process.env.ORDERS_DB ?? './data/orders.db',
  ...(process.env.PUBLIC_ORIGIN ? { dpop: { origin: process.env.PUBLIC_ORIGIN } } : {}),
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
});
await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void app.close().then(() => process.exit(0)));
