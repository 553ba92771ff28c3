import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const css = readFileSync(new URL('../pages/tessera.css', import.meta.url));

/** The pages' one stylesheet, served from our origin (CSP `style-src 'self'`; no third-party loads, A14). */
export function assetRoutes(app: FastifyInstance): void {
  app.get('/assets/tessera.css', async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(css),
  );
}
