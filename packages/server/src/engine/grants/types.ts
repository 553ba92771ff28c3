import type { Client } from '../../storage/stores.js';
import type { AuthenticatedClient } from '../client-auth/index.js';
import type { EngineContext } from '../context.js';

/** RFC 6749 §5.1 successful response. */
export interface TokenResponse {
  access_token: string;
  /** RFC 9449 §5.1: `DPoP` when the access token is bound to a proof key. */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
}

export interface GrantRequest {
  client: Client;
  authMethod: AuthenticatedClient['method'];
  /** Only the parameters the grant declared. */
  params: Record<string, string>;
  /** RFC 8707 `resource` values. */
  resources: string[];
  ip: string;
  /** RFC 9449: thumbprint of the verified DPoP proof key; what is issued is bound to it. */
  dpopJkt?: string | undefined;
}

/**
 * A grant type is data plus a handler (STYLE.md 2). Built-in and custom grants register the same way;
 * parameters not listed in `parameters` are dropped before `handle` runs.
 */
export interface GrantHandler {
  readonly grantType: string;
  readonly parameters: readonly string[];
  /** True when public clients (auth method `none`) may use this grant. */
  readonly publicClients: boolean;
  /** Legacy grant: responses carry a `Deprecation` header (RFC 9745). */
  readonly deprecated?: boolean;
  handle(request: GrantRequest, ctx: EngineContext): Promise<TokenResponse>;
}
