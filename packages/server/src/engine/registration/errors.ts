import { OAuthError } from '@tessera/protocol';

/** RFC 7591 §3.2.2: a metadata field is invalid or not allowed by this server's registration policy. */
export class InvalidClientMetadata extends OAuthError {
  readonly error = 'invalid_client_metadata';
  readonly status = 400;
}

/** RFC 7591 §3.2.2: a redirect URI is invalid (RFC 8252 rules for native apps, https for the web). */
export class InvalidRedirectUri extends OAuthError {
  readonly error = 'invalid_redirect_uri';
  readonly status = 400;
}
