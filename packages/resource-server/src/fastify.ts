import fp from 'fastify-plugin';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler, preHandlerHookHandler } from 'fastify';
import { createHttpAuth, fail, runGuard, type AuthSource, type HttpAuthOptions } from './http-auth.js';
import { checkAcr, checkAuthTime, checkRoles, checkScopes, type Guard } from './guards.js';
import type { BearerRequest } from './bearer.js';
import type { HttpErrorResponse } from './http-error.js';
import type { AuthResult } from './claims.js';
import type { Verifier } from './verifier.js';
import type { VerifierOptions } from './options.js';
import { metadataResponse } from './resource-metadata.js';

export type { AuthFailure, HttpAuthOptions } from './http-auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate` once the bearer token is verified; null otherwise. */
    auth: AuthResult | null;
  }
  interface FastifyInstance {
    /** The bearer-token hook; add it where auth applies: `scope.addHook('preHandler', scope.authenticate)`. */
    authenticate: preHandlerAsyncHookHandler;
  }
}

/** Plugin options: verifier options, or `{ verifier }` to share one; plus the HTTP options. */
export type TesseraAuthOptions = ((VerifierOptions & HttpAuthOptions) | ({ verifier: Verifier } & HttpAuthOptions));

const view = (r: FastifyRequest): BearerRequest => ({ method: r.method, url: r.url, headers: r.headers, body: r.body, protocol: r.protocol });

function send(reply: FastifyReply, r: HttpErrorResponse): FastifyReply {
  return reply.code(r.status).headers(r.headers).send(JSON.stringify(r.body));
}

const plugin: FastifyPluginAsync<TesseraAuthOptions> = async (fastify, options) => {
  const { verifier, ...rest } = options as { verifier?: Verifier } & HttpAuthOptions;
  const auth = createHttpAuth((verifier ?? options) as AuthSource, verifier ? rest : {});
  if (auth.owned) fastify.addHook('onClose', () => auth.verifier.close());
  const metadata = auth.metadata;
  if (metadata) {
    const r = metadataResponse(metadata);
    for (const url of metadata.paths) fastify.get(url, async (_req, reply) => reply.code(r.status).headers(r.headers).send(r.body));
  }
  fastify.decorateRequest('auth', null);
  fastify.decorate('authenticate', async function authenticate(request: FastifyRequest, reply: FastifyReply) {
    try {
      request.auth = await auth.authenticate(request, view(request));
    } catch (e) {
      const r = fail(request, view(request), e);
      request.log.info({ status: r.status, error: r.body.error, reason: (e as { debug?: string }).debug }, 'bearer authentication failed');
      return send(reply, r);
    }
  });
};

/**
 * Fastify plugin (RFC 6750): decorates `request.auth` and `fastify.authenticate`. Authentication is
 * scoped by encapsulation: add the hook inside the plugin context whose routes it protects. With
 * `resourceMetadata` (RFC 9728) it also serves `GET /.well-known/oauth-protected-resource[/<path>]`.
 *
 * @example
 * await app.register(tesseraAuth, { issuer, audience: 'orders' });
 * app.register(async (api) => {
 *   api.addHook('preHandler', api.authenticate);
 *   api.get('/orders', { preHandler: requireScopes('orders:read') }, list);
 * });
 */
export const tesseraAuth = fp(plugin, { fastify: '5.x', name: '@tessera/resource-server' });
export default tesseraAuth;

/** Synchronous (callback-style) hook: one promise hop fewer per guarded request. */
function guard(check: Guard): preHandlerHookHandler {
  return (request, reply, done) => {
    const r = runGuard(request, view(request), request.auth, check);
    if (r) send(reply, r);
    else done();
  };
}

/** Route guard (`preHandler`): every scope is required, else 403 `insufficient_scope` (RFC 6750 §3.1). */
export const requireScopes = (...scopes: string[]): preHandlerHookHandler => guard(checkScopes(...scopes));

/** Route guard (`preHandler`): every role is required (RFC 9068 §7.2.1.1), else 403 `insufficient_scope`. */
export const requireRoles = (...roles: string[]): preHandlerHookHandler => guard(checkRoles(...roles));

/** Route guard (`preHandler`, RFC 9470): the token's `acr` must be one of these, else 401 `insufficient_user_authentication`. */
export const requireAcr = (...acrValues: string[]): preHandlerHookHandler => guard(checkAcr(...acrValues));

/** Route guard (`preHandler`, RFC 9470): the user signed in at most `maxAgeSeconds` ago, else 401 with `max_age`. */
export const requireAuthTime = (maxAgeSeconds: number): preHandlerHookHandler => guard(checkAuthTime(maxAgeSeconds));
