import type { Config } from '../../config/schema.js';
import { FAPI2_ALGS } from '../../config/client-auth-settings.js';
import { CLIENT_SECRET_JWT_ALGS, PRIVATE_KEY_JWT_ALGS } from '../../engine/client-auth/index.js';
import type { Client } from '../../storage/stores.js';

/**
 * The client-authentication methods this deployment accepts (RFC 8414 §2): `client_secret_jwt` only
 * while some client is configured for it; under `profile: fapi2`, `private_key_jwt` alone.
 */
export function supportedAuthMethods(config: Config, clients: Client[]): string[] {
  if (config.profile === 'fapi2') return ['private_key_jwt'];
  const secretJwt = clients.some((c) => c.tokenEndpointAuthMethod === 'client_secret_jwt');
  return ['client_secret_basic', 'client_secret_post', 'private_key_jwt', ...(secretJwt ? ['client_secret_jwt'] : []), 'none'];
}

/** The JWS algorithms accepted for client assertions with these methods. */
export function assertionAlgorithms(config: Config, methods: string[]): string[] {
  const asymmetric: readonly string[] = config.profile === 'fapi2' ? FAPI2_ALGS : PRIVATE_KEY_JWT_ALGS;
  return [...(methods.includes('private_key_jwt') ? asymmetric : []), ...(methods.includes('client_secret_jwt') ? CLIENT_SECRET_JWT_ALGS : [])];
}

/**
 * RFC 8414 §2 signing-algorithm members for the three client-authenticated endpoints, and RFC 9126 §5
 * PAR metadata. Merged into the discovery document next to the auth-method lists.
 */
export function clientAuthMetadata(config: Config, methods: string[]): Record<string, unknown> {
  const algs = assertionAlgorithms(config, methods);
  return {
    token_endpoint_auth_signing_alg_values_supported: algs,
    revocation_endpoint_auth_signing_alg_values_supported: algs,
    introspection_endpoint_auth_signing_alg_values_supported: algs,
    pushed_authorization_request_endpoint: `${config.issuer}/par`,
    require_pushed_authorization_requests: config.requirePushedAuthorizationRequests === true,
  };
}
