import type { FastifyInstance } from 'fastify';
import type { EngineContext } from '../../engine/context.js';

export interface MetadataOptions {
  grantTypes: string[];
  authMethods: string[];
  scopes: string[];
}

/**
 * RFC 8414 authorization server metadata, served at both well-known paths (OIDC Discovery §4 uses the
 * second). It lists only what this server really supports; `issuer` is byte-identical to `iss` in tokens.
 */
export function buildMetadata(ctx: EngineContext, opts: MetadataOptions): Record<string, unknown> {
  const iss = ctx.config.issuer;
  return {
    issuer: iss,
    token_endpoint: `${iss}/token`,
    jwks_uri: `${iss}/jwks.json`,
    grant_types_supported: opts.grantTypes,
    response_types_supported: [],
    token_endpoint_auth_methods_supported: opts.authMethods,
    scopes_supported: opts.scopes,
  };
}

export function metadataRoutes(app: FastifyInstance, ctx: EngineContext, getMetadata: () => Record<string, unknown>): void {
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(path, async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(getMetadata()));
  }
  app.get('/jwks.json', async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=60').type('application/jwk-set+json').send(ctx.keyring.jwks()),
  );
}
