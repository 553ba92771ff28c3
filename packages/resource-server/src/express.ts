import type { Request, RequestHandler, Response } from 'express';
import { createHttpAuth, fail, runGuard, type AuthSource, type HttpAuthOptions } from './http-auth.js';
import { checkAcr, checkAuthTime, checkRoles, checkScopes, type Guard } from './guards.js';
import type { BearerRequest } from './bearer.js';
import type { HttpErrorResponse } from './http-error.js';
import type { AuthResult } from './claims.js';
import type { Verifier } from './verifier.js';
import { metadataResponse } from './resource-metadata.js';

export type { AuthFailure, HttpAuthOptions, AuthSource } from './http-auth.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by {@link requireAuth} once the bearer token is verified. */
      auth?: AuthResult;
    }
  }
}

const view = (req: Request): BearerRequest => ({ method: req.method, url: req.originalUrl, headers: req.headers, body: req.body as unknown, protocol: req.protocol });

function send(res: Response, r: HttpErrorResponse): void {
  res.status(r.status).set(r.headers).send(JSON.stringify(r.body));
}

/**
 * Express middleware: verifies the RFC 6750 bearer token and sets `req.auth`, or answers 400/401/503
 * with `WWW-Authenticate` (RFC 6750 §3). Pass options (a verifier is created; close it on shutdown
 * with `middleware.verifier.close()`) or a shared verifier.
 *
 * With `resourceMetadata` (RFC 9728), mount `middleware.metadata` at the app root: it answers GET on
 * `/.well-known/oauth-protected-resource` (and the path-suffixed form) and passes everything else on.
 *
 * @example app.use('/orders', requireAuth({ issuer, audience: 'orders' }));
 * @example
 * const auth = requireAuth({ issuer, audience: 'https://mcp.example/mcp', resourceMetadata: { resource: 'https://mcp.example/mcp' } });
 * app.use(auth.metadata);
 * app.post('/mcp', auth, handler);
 */
export function requireAuth(source: AuthSource, http?: HttpAuthOptions): RequestHandler & { verifier: Verifier; metadata: RequestHandler } {
  const auth = createHttpAuth(source, http);
  const paths = new Set(auth.metadata?.paths ?? []);
  const metadata: RequestHandler = (req, res, next) => {
    if (!auth.metadata || (req.method !== 'GET' && req.method !== 'HEAD') || !paths.has(req.path)) return next();
    const r = metadataResponse(auth.metadata);
    res.status(r.status).set(r.headers).send(r.body);
  };
  const middleware: RequestHandler = (req, res, next) => {
    auth.authenticate(req, view(req)).then(
      (result) => ((req.auth = result), next()),
      (e: unknown) => send(res, fail(req, view(req), e)),
    );
  };
  return Object.assign(middleware, { verifier: auth.verifier, metadata });
}

function guard(check: Guard): RequestHandler {
  return (req, res, next) => {
    const r = runGuard(req, view(req), req.auth, check);
    if (r) send(res, r);
    else next();
  };
}

/** Route guard: every scope is required, else 403 `insufficient_scope` (RFC 6750 §3.1). */
export const requireScopes = (...scopes: string[]): RequestHandler => guard(checkScopes(...scopes));

/** Route guard: every role is required (RFC 9068 §7.2.1.1), else 403 `insufficient_scope`. */
export const requireRoles = (...roles: string[]): RequestHandler => guard(checkRoles(...roles));

/** Route guard (RFC 9470): the token's `acr` must be one of these, else 401 `insufficient_user_authentication`. */
export const requireAcr = (...acrValues: string[]): RequestHandler => guard(checkAcr(...acrValues));

/** Route guard (RFC 9470): the user signed in at most `maxAgeSeconds` ago, else 401 with `max_age`. */
export const requireAuthTime = (maxAgeSeconds: number): RequestHandler => guard(checkAuthTime(maxAgeSeconds));
