import type { OAuthError } from '@tessera/protocol';

/**
 * Builds an authorization response URI (RFC 6749 §4.1.2, §4.1.2.1) on the registered redirect URI,
 * keeping its own query: parameters are appended, never replaced. Every response carries `iss`
 * (RFC 9207 §2; SECURITY-CHECKLIST A9); `state` is echoed exactly as received (A10).
 */
export function responseUri(redirectUri: string, issuer: string, params: Record<string, string | undefined>): string {
  const pairs = Object.entries({ ...params, iss: issuer })
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  const sep = redirectUri.includes('?') ? '&' : '?';
  return `${redirectUri}${sep}${pairs.join('&')}`;
}

export function errorResponseUri(redirectUri: string, issuer: string, error: OAuthError, state: string | undefined): string {
  return responseUri(redirectUri, issuer, { error: error.error, error_description: error.description, state });
}
