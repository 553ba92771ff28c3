import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientStore } from '../storage/stores.js';

/** Endpoints a browser-based public client calls directly (OAuth 2.0 for Browser-Based Apps §6.3.2). */
const PATHS = new Set(['/token', '/userinfo']);
const REFRESH_EVERY_MS = 30_000;

/**
 * CORS for SPAs: only the origins of *public* clients' redirect URIs are allowed (a confidential
 * client's secret never belongs in a browser), no credentials mode (these endpoints use no cookies),
 * and never on the authorization endpoint or the pages (A11). The origin list is re-read from the
 * client store every 30 s so clients added by the CLI are picked up.
 */
export function corsSupport(app: FastifyInstance, clients: ClientStore): void {
  let origins = new Set<string>();
  let loadedAt = 0;
  const allowed = async (origin: string): Promise<boolean> => {
    if (Date.now() - loadedAt > REFRESH_EVERY_MS) {
      const list = await clients.list();
      origins = new Set(list.filter((c) => c.type === 'public').flatMap((c) => c.redirectUris.map(originOf)).filter((o): o is string => o !== undefined));
      loadedAt = Date.now();
    }
    return origins.has(origin);
  };

  const apply = async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    const origin = request.headers.origin;
    reply.header('vary', 'Origin');
    if (origin === undefined || !(await allowed(origin))) return false;
    reply.header('access-control-allow-origin', origin).header('access-control-expose-headers', 'WWW-Authenticate, DPoP-Nonce');
    return true;
  };

  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'OPTIONS' && PATHS.has(request.url.split('?')[0]!)) await apply(request, reply);
  });
  for (const path of PATHS) {
    app.options(path, async (request, reply) => {
      if (await apply(request, reply)) {
        reply
          .header('access-control-allow-methods', path === '/token' ? 'POST' : 'GET, POST')
          .header('access-control-allow-headers', 'Authorization, Content-Type, DPoP')
          .header('access-control-max-age', '600');
      }
      return reply.code(204).header('cache-control', 'no-store').send();
    });
  }
}

function originOf(uri: string): string | undefined {
  try {
    const u = new URL(uri);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}
