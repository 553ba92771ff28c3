import { startMcpServer } from './app.js';

/**
 * Runs the example MCP server on its own: ISSUER (Tessera, default http://localhost:9000), PORT (9003),
 * HOST, and BASE_URL (how clients reach it; default http://localhost:PORT). The MCP endpoint is
 * BASE_URL/mcp; Tessera needs it among `registration.resources` so registered MCP clients may ask for it.
 */
const port = Number(process.env.PORT ?? 9003);
const server = await startMcpServer({
  issuer: process.env.ISSUER ?? 'http://localhost:9000',
  baseUrl: process.env.BASE_URL ?? `http://localhost:${port}`,
  port,
  host: process.env.HOST ?? '127.0.0.1',
});
console.log(`MCP server at ${server.url}`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void server.close().then(() => process.exit(0)));
