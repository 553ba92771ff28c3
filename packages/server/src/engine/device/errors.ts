import { OAuthError } from '@tessera/protocol';

/** RFC 8628 §3.5 token-endpoint errors while a device authorization is polled (all 400, RFC 6749 §5.2). */
export class AuthorizationPending extends OAuthError {
  readonly error = 'authorization_pending';
  readonly status = 400;
}
export class SlowDown extends OAuthError {
  readonly error = 'slow_down';
  readonly status = 400;
}
export class ExpiredToken extends OAuthError {
  readonly error = 'expired_token';
  readonly status = 400;
}
/** `access_denied` at the token endpoint is a §5.2 error response (400), unlike the 403 of the page errors. */
export class DeviceAccessDenied extends OAuthError {
  readonly error = 'access_denied';
  readonly status = 400;
}
