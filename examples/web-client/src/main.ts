import { buildWebClient } from './app.js';

/** Runs the demo web client on its own: ISSUER, CLIENT_ID, CLIENT_SECRET, ORDERS_API, PORT, BASE_URL. */
const port = Number(process.env.PORT ?? 9002);
const secret = process.env.CLIENT_SECRET;
if (!secret) {
  console.error('CLIENT_SECRET is required (the secret of this app\'s client at Tessera)');
  process.exit(1);
}
const app = await buildWebClient({
  issuer: process.env.ISSUER ?? 'http://localhost:9000',
  clientId: process.env.CLIENT_ID ?? 'demo-web',
  clientSecret: secret,
  baseUrl: process.env.BASE_URL ?? `http://localhost:${port}`,
  ordersApi: process.env.ORDERS_API ?? 'http://localhost:9001',
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
});
await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' });
console.log(`open http://localhost:${port}`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void app.close().then(() => process.exit(0)));
