/** Quotes an auth-param value (RFC 9110 §11.2 quoted-string). */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7E]/g, '?')}"`;
}

export interface ChallengeParams {
  realm?: string;
  error?: string;
  error_description?: string;
  scope?: string;
  /** RFC 9449 §7.1: space-separated JWS algorithms accepted for DPoP proofs (DPoP scheme only). */
  algs?: string;
  /** RFC 9728 §5.1: URL of the protected resource's metadata. */
  resource_metadata?: string;
  /** RFC 9470 §3: the authentication context classes the resource needs. */
  acr_values?: string;
  /** RFC 9470 §3: the most seconds since the user's authentication the resource accepts. */
  max_age?: string;
}

/**
 * Builds a `WWW-Authenticate` challenge (RFC 6750 §3 for Bearer, RFC 7617 for Basic, RFC 9449 §7.1 for DPoP).
 *
 * @example challenge('Bearer', { realm: 'orders', error: 'invalid_token' })
 * // 'Bearer realm="orders", error="invalid_token"'
 */
export function challenge(scheme: 'Bearer' | 'Basic' | 'DPoP', params: ChallengeParams = {}): string {
  const parts: string[] = [];
  for (const key of ['realm', 'error', 'error_description', 'scope', 'resource_metadata', 'algs'] as const) {
    const v = params[key];
    if (v !== undefined && v !== '') parts.push(`${key}=${quote(v)}`);
  }
  // RFC 9470 §3 step-up parameters.
  for (const key of ['acr_values', 'max_age'] as const) {
    const v = params[key];
    if (v !== undefined && v !== '') parts.push(`${key}=${quote(v)}`);
  }
  return parts.length ? `${scheme} ${parts.join(', ')}` : scheme;
}
