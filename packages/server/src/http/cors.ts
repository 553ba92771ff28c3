import type { FastifyInstance, FastifyRequest } from 'fastify';
import fastifyCors, { type FastifyCorsOptions } from '@fastify/cors';
import type { Client, ClientStore } from '../storage/stores.js';
import { CachedClientStore } from '../storage/cached-clients.js';

/**
 * CORS for browser-based apps (OAuth 2.0 for Browser-Based Apps §6.3.2; Fetch standard CORS protocol),
 * through @fastify/cors with a per-request options delegator:
 * - public documents (both discovery documents and the JWKS, any alias of it) answer
 *   `Access-Control-Allow-Origin: *`, never with credentials: they hold nothing a page may not read;
 * - /token, /revoke and /userinfo reflect an origin only when a client allows it: the origins of a
 *   *public* client's redirect URIs (a confidential client's secret never belongs in a browser) and the
 *   origins listed in any client's `allowedOrigins`. Never credentials mode: these endpoints use no cookies;
 * - nothing else: never the authorization endpoint or the pages (A11), nor /introspect.
 * A preflight from an origin that is not allowed gets no CORS headers (404, as without CORS).
 */
const PUBLIC_PATHS = new Set(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/jwks.json', '/.well-known/jwks.json']);
const CLIENT_PATHS = new Map([
  ['/token', ['POST']],
  ['/revoke', ['POST']],
  ['/userinfo', ['GET', 'POST']],
]);
/** RFC 6750 §2.1 bearer tokens and RFC 9449 §4 DPoP proofs on the request; their challenges on the answer. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'DPoP'];
const EXPOSED_HEADERS = ['WWW-Authenticate', 'DPoP-Nonce', 'Retry-After'];
const REFRESH_EVERY_MS = 30_000;
const RETRY_AFTER_FAILURE_MS = 2_000;
const OFF: FastifyCorsOptions = { origin: false };

export function corsSupport(app: FastifyInstance, clients: ClientStore): void {
  const origins = new ClientOrigins(clients, (err) => app.log.warn({ err }, 'reading client origins for CORS failed'));
  if (clients instanceof CachedClientStore) clients.onChange(() => origins.invalidate());
  void app.register(fastifyCors, {
    hook: 'onRequest',
    strictPreflight: true,
    delegator: async (request: FastifyRequest): Promise<FastifyCorsOptions> => {
      const path = request.url.split('?')[0]!;
      if (PUBLIC_PATHS.has(path)) {
        return { origin: '*', credentials: false, methods: ['GET', 'HEAD'], allowedHeaders: ALLOWED_HEADERS, maxAge: 600 };
      }
      // RFC 7591/7592: browser-based clients register themselves; bearer tokens only, never cookies.
      if (path === '/register' || path.startsWith('/register/')) {
        return { origin: '*', credentials: false, methods: ['GET', 'POST', 'PUT', 'DELETE'], allowedHeaders: ALLOWED_HEADERS, exposedHeaders: EXPOSED_HEADERS, maxAge: 600 };
      }
      const methods = CLIENT_PATHS.get(path);
      const origin = request.headers.origin;
      if (!methods || origin === undefined || !(await origins.allows(origin))) return OFF;
      return { origin, credentials: false, methods, allowedHeaders: ALLOWED_HEADERS, exposedHeaders: EXPOSED_HEADERS, maxAge: 600 };
    },
  });
}

/**
 * The set of allowed client origins, read from the client store at most every 30 s and at once after a
 * client change announced through the store (CLI changes without Redis arrive within 30 s). A failed
 * read keeps the last good set.
 */
class ClientOrigins {
  #origins = new Set<string>();
  #loadedAt = 0;
  #loading: Promise<void> | undefined;

  constructor(
    private readonly clients: ClientStore,
    private readonly warn: (err: unknown) => void,
  ) {}

  async allows(origin: string): Promise<boolean> {
    if (Date.now() - this.#loadedAt > REFRESH_EVERY_MS) await (this.#loading ??= this.#load());
    return this.#origins.has(origin);
  }

  invalidate(): void {
    this.#loadedAt = 0;
  }

  async #load(): Promise<void> {
    try {
      this.#origins = new Set((await this.clients.list()).flatMap(clientOrigins));
      this.#loadedAt = Date.now();
    } catch (e) {
      this.warn(e);
      this.#loadedAt = Date.now() - REFRESH_EVERY_MS + RETRY_AFTER_FAILURE_MS;
    } finally {
      this.#loading = undefined;
    }
  }
}

export function clientOrigins(c: Pick<Client, 'type' | 'redirectUris' | 'allowedOrigins'>): string[] {
  const fromRedirects = c.type === 'public' ? c.redirectUris.map(originOf).filter((o): o is string => o !== undefined) : [];
  return [...fromRedirects, ...(c.allowedOrigins ?? [])];
}

function originOf(uri: string): string | undefined {
  try {
    const u = new URL(uri);
    // Private-use schemes (RFC 8252 §7.1) have an opaque origin ("null"): never an allowed origin.
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}
