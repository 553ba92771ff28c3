import type { FastifyInstance } from 'fastify';
import type { EngineContext } from '../../engine/context.js';
import { DEVICE_GRANT } from '../../engine/device/index.js';
import { ACR_VALUES_SUPPORTED } from '../../engine/mfa/policy.js';

export interface MetadataOptions {
  grantTypes: string[];
  authMethods: string[];
  scopes: string[];
}

/** OIDC Core §5.1 claims this server can return (ID token, /userinfo). */
const CLAIMS = ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'sid', 'amr', 'acr', 'name', 'preferred_username', 'updated_at', 'email', 'email_verified'];

/**
 * RFC 8414 authorization server metadata, served at both well-known paths (OIDC Discovery §4 uses the
 * second). It lists only what this server really supports; `issuer` is byte-identical to `iss` in tokens.
 */
export function buildMetadata(ctx: EngineContext, opts: MetadataOptions): Record<string, unknown> {
  const iss = ctx.config.issuer;
  const code = opts.grantTypes.includes('authorization_code');
  return {
    issuer: iss,
    token_endpoint: `${iss}/token`,
    jwks_uri: `${iss}/jwks.json`,
    grant_types_supported: opts.grantTypes,
    response_types_supported: code ? ['code'] : [],
    token_endpoint_auth_methods_supported: opts.authMethods,
    scopes_supported: opts.scopes,
    // RFC 7009, RFC 7662 (RFC 8414 §2): both take client authentication like /token.
    revocation_endpoint: `${iss}/revoke`,
    revocation_endpoint_auth_methods_supported: opts.authMethods,
    introspection_endpoint: `${iss}/introspect`,
    introspection_endpoint_auth_methods_supported: opts.authMethods.filter((m) => m !== 'none'),
    // RFC 9449 §5.1: DPoP proofs are accepted at /token (and /userinfo) with these algorithms.
    dpop_signing_alg_values_supported: ctx.dpop.settings.algorithms,
    // RFC 8628 §4.
    ...(opts.grantTypes.includes(DEVICE_GRANT) ? { device_authorization_endpoint: `${iss}/device_authorization` } : {}),
    ...(code
      ? {
        // RFC 6749 §3.1, OAuth 2.1: code flow only, PKCE S256 only (B1), RFC 9207 `iss` (A9).
        authorization_endpoint: `${iss}/authorize`,
        response_modes_supported: ['query'],
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
        // OpenID Connect Discovery 1.0 §3.
        userinfo_endpoint: `${iss}/userinfo`,
        end_session_endpoint: `${iss}/logout`,
        subject_types_supported: ['public'],
        // OIDC Discovery §3: RS256 is required; the access-token algorithm is offered as well.
        id_token_signing_alg_values_supported: ['RS256', ...ctx.keyring.algorithms.filter((a) => a !== 'RS256')],
        claims_supported: CLAIMS,
        claims_parameter_supported: false,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
        // OIDC Discovery §3 (issue 15): urn:tessera:acr:pwd and urn:tessera:acr:mfa (README "Second factor").
        acr_values_supported: [...ACR_VALUES_SUPPORTED],
      }
      : {}),
  };
}

export function metadataRoutes(app: FastifyInstance, ctx: EngineContext, getMetadata: () => Record<string, unknown>): void {
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(path, async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(getMetadata()));
  }
  // `/.well-known/jwks.json` too: several resource-server libraries look there by default.
  for (const path of ['/jwks.json', '/.well-known/jwks.json']) {
    app.get(path, async (_req, reply) =>
      reply.header('cache-control', 'public, max-age=60').type('application/jwk-set+json').send(ctx.keyring.jwks()),
    );
  }
}
