/**
 * OAuth 2.0 errors, one class per wire code (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 7009 §2.2.1;
 * RFC 8707 §2; OIDC Core §3.1.2.6). They are thrown by protocol code and turned into HTTP in exactly one
 * place per host (the server's error handler, the resource-server adapters).
 *
 * `description` is what the client sees (kept to the RFC 6749 §5.2 character set); `debug` is for the
 * operator's log only and never leaves the process.
 *
 * @example
 * throw new InvalidGrant('authorization code is invalid or expired', { debug: `code family ${id} replayed` });
 */
export interface OAuthErrorOptions {
  /** Detail for the operator's log; never sent to the client. */
  debug?: string;
  /** Seconds for a `Retry-After` header (429/503). */
  retryAfter?: number;
  cause?: unknown;
}

/** RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. */
export function safeDescription(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?').slice(0, 300);
}

export abstract class OAuthError extends Error {
  /** The wire `error` code. */
  abstract readonly error: string;
  /** HTTP status when this error is the response of a back-channel endpoint. */
  abstract readonly status: number;
  readonly description: string;
  readonly debug: string | undefined;
  readonly retryAfter: number | undefined;

  constructor(description: string, options: OAuthErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.description = safeDescription(description);
    this.debug = options.debug;
    this.retryAfter = options.retryAfter;
  }

  /** The RFC 6749 §5.2 JSON body. */
  toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

export class InvalidRequest extends OAuthError {
  readonly error = 'invalid_request';
  readonly status: number = 400;
}
/** Client authentication failed (RFC 6749 §5.2). The HTTP layer answers 401 when a header was used. */
export class InvalidClient extends OAuthError {
  readonly error = 'invalid_client';
  readonly status = 401;
}
export class InvalidGrant extends OAuthError {
  readonly error = 'invalid_grant';
  readonly status = 400;
}
export class UnauthorizedClient extends OAuthError {
  readonly error = 'unauthorized_client';
  readonly status = 400;
}
export class UnsupportedGrantType extends OAuthError {
  readonly error = 'unsupported_grant_type';
  readonly status = 400;
}
export class UnsupportedResponseType extends OAuthError {
  readonly error = 'unsupported_response_type';
  readonly status = 400;
}
export class InvalidScope extends OAuthError {
  readonly error = 'invalid_scope';
  readonly status = 400;
}
/** RFC 8707 §2: the requested resource is unknown or not allowed. */
export class InvalidTarget extends OAuthError {
  readonly error = 'invalid_target';
  readonly status = 400;
}
export class AccessDenied extends OAuthError {
  readonly error = 'access_denied';
  readonly status = 403;
}
/** RFC 7009 §2.2.1 */
export class UnsupportedTokenType extends OAuthError {
  readonly error = 'unsupported_token_type';
  readonly status = 400;
}
/** OIDC Core §3.1.2.6 */
export class LoginRequired extends OAuthError {
  readonly error = 'login_required';
  readonly status = 400;
}
export class ConsentRequired extends OAuthError {
  readonly error = 'consent_required';
  readonly status = 400;
}
export class InteractionRequired extends OAuthError {
  readonly error = 'interaction_required';
  readonly status = 400;
}
/** OIDC Core §3.1.2.6: the `request` parameter (request objects) is not supported. */
export class RequestNotSupported extends OAuthError {
  readonly error = 'request_not_supported';
  readonly status = 400;
}
/** OIDC Core §3.1.2.6: the `request_uri` parameter is not supported. */
export class RequestUriNotSupported extends OAuthError {
  readonly error = 'request_uri_not_supported';
  readonly status = 400;
}
/** RFC 6750 §3.1 */
export class InvalidToken extends OAuthError {
  readonly error = 'invalid_token';
  readonly status = 401;
}
/** RFC 6750 §3.1; `scope` lists what the resource needs. */
export class InsufficientScope extends OAuthError {
  readonly error = 'insufficient_scope';
  readonly status = 403;
  readonly scope: string | undefined;
  constructor(description: string, options: OAuthErrorOptions & { scope?: string } = {}) {
    super(description, options);
    this.scope = options.scope;
  }
}
/**
 * RFC 9470 §3: the token is valid but the user's authentication is too weak (`acr_values`) or too old
 * (`max_age`); the client should re-authorize with those values. 401 with both in `WWW-Authenticate`.
 */
export class InsufficientUserAuthentication extends OAuthError {
  readonly error = 'insufficient_user_authentication';
  readonly status = 401;
  readonly acrValues: string | undefined;
  readonly maxAge: number | undefined;
  constructor(description: string, options: OAuthErrorOptions & { acrValues?: string; maxAge?: number } = {}) {
    super(description, options);
    this.acrValues = options.acrValues;
    this.maxAge = options.maxAge;
  }
}
/** Throttled (brute-force protection). Answers 429 with Retry-After. */
export class TooManyRequests extends OAuthError {
  readonly error = 'temporarily_unavailable';
  readonly status = 429;
}
/** A dependency (database) is down: fail closed with 503 + Retry-After. */
export class TemporarilyUnavailable extends OAuthError {
  readonly error = 'temporarily_unavailable';
  readonly status = 503;
}
export class ServerError extends OAuthError {
  readonly error = 'server_error';
  readonly status = 500;
}
/**
 * RFC 9449 §5, §7.1: the DPoP proof is missing where required, malformed, or fails a check. 400 at the
 * token endpoint; resource servers answer 401 with a `DPoP` challenge.
 */
export class InvalidDpopProof extends OAuthError {
  readonly error = 'invalid_dpop_proof';
  readonly status: number = 400;
}
/** RFC 9449 §8, §9: the proof must carry the server's nonce; `nonce` goes out in the `DPoP-Nonce` header. */
export class UseDpopNonce extends OAuthError {
  readonly error = 'use_dpop_nonce';
  readonly status: number = 400;
  readonly nonce: string;
  constructor(description: string, options: OAuthErrorOptions & { nonce: string }) {
    super(description, options);
    this.nonce = options.nonce;
  }
}
