import type { OAuthError } from '@tessera/protocol';

/**
 * An authorization-endpoint error. With `redirect` it goes back to the client's *registered*
 * redirect URI (RFC 6749 §4.1.2.1, with `state` and `iss`); without, the user sees an error page and
 * nothing is redirected (unknown client or unverified redirect URI — SECURITY-CHECKLIST A3).
 */
export class AuthorizationError extends Error {
  constructor(
    readonly oauth: OAuthError,
    readonly redirect?: { uri: string; state: string | undefined },
  ) {
    super(oauth.description);
    this.name = 'AuthorizationError';
  }
}
