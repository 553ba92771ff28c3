import { OAuthError } from '@tessera/protocol';

/** RFC 9101 §7 / RFC 9126 §4: the `request_uri` is unknown, expired, used, or not this client's. */
export class InvalidRequestUri extends OAuthError {
  readonly error = 'invalid_request_uri';
  readonly status = 400;
}
