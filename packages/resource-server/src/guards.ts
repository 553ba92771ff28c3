import { InsufficientScope, InsufficientUserAuthentication, isScopeToken } from '@tessera/protocol';
import { MissingToken } from './bearer.js';
import type { AuthResult } from './claims.js';

/** A per-route check on a verified result; throws the protocol error to send. */
export type Guard = (auth: AuthResult | null | undefined) => void;

function validate(kind: string, values: string[]): void {
  if (values.length === 0 || !values.every((v) => typeof v === 'string' && isScopeToken(v))) {
    throw new TypeError(`${kind} must be one or more RFC 6749 §3.3 scope tokens`);
  }
}

/**
 * Requires every listed scope (RFC 6750 §3.1): otherwise 403 `insufficient_scope` with `scope="…"`
 * naming what the resource needs. Reads only the verified result's own scope set (RFC 9700 §2.3).
 */
export function checkScopes(...scopes: string[]): Guard {
  validate('scopes', scopes);
  const scope = scopes.join(' ');
  return (auth) => {
    if (!auth) throw new MissingToken();
    const missing = scopes.filter((s) => !auth.scopes.has(s));
    if (missing.length) throw new InsufficientScope('the access token lacks a required scope', { scope, debug: `missing scope ${missing.join(' ')}` });
  };
}

/**
 * Requires every listed role (RFC 9068 §7.2.1.1 `roles`): otherwise 403 `insufficient_scope`. The
 * challenge names no `scope`, because a role cannot be obtained by asking for a scope.
 */
export function checkRoles(...roles: string[]): Guard {
  validate('roles', roles);
  return (auth) => {
    if (!auth) throw new MissingToken();
    const missing = roles.filter((r) => !auth.roles.has(r));
    if (missing.length) throw new InsufficientScope('the access token lacks a required role', { debug: `missing role ${missing.join(' ')}` });
  };
}

/**
 * RFC 9470 step-up: requires the token's `acr` to be one of `acrValues` (in the server's order of
 * preference), else 401 `insufficient_user_authentication` with `acr_values="…"` in the challenge, so
 * the client re-authorizes with those values. A client-credentials token (no user) fails the same way.
 *
 * @example requireAcr('urn:tessera:acr:mfa')
 */
export function checkAcr(...acrValues: string[]): Guard {
  if (acrValues.length === 0 || !acrValues.every((v) => typeof v === 'string' && /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(v))) {
    throw new TypeError('acr values must be one or more non-empty strings without spaces, quotes or backslashes');
  }
  const wanted = acrValues.join(' ');
  return (auth) => {
    if (!auth) throw new MissingToken();
    const acr = Object.hasOwn(auth.claims, 'acr') ? auth.claims.acr : undefined;
    if (typeof acr !== 'string' || !acrValues.includes(acr)) {
      throw new InsufficientUserAuthentication('a stronger authentication is required', { acrValues: wanted, debug: `acr ${typeof acr === 'string' ? acr : 'absent'}` });
    }
  };
}

/**
 * RFC 9470 step-up: requires the user to have authenticated at most `maxAgeSeconds` ago (`auth_time`),
 * else 401 `insufficient_user_authentication` with `max_age="…"`. A token without `auth_time` fails.
 *
 * @example requireAuthTime(300) // signed in within the last five minutes
 */
export function checkAuthTime(maxAgeSeconds: number, now: () => number = () => Math.floor(Date.now() / 1000)): Guard {
  if (!Number.isSafeInteger(maxAgeSeconds) || maxAgeSeconds < 0) throw new TypeError('maxAgeSeconds must be a non-negative integer');
  return (auth) => {
    if (!auth) throw new MissingToken();
    const at = Object.hasOwn(auth.claims, 'auth_time') ? auth.claims.auth_time : undefined;
    if (typeof at !== 'number' || !Number.isFinite(at) || now() - at > maxAgeSeconds) {
      throw new InsufficientUserAuthentication('a more recent authentication is required', { maxAge: maxAgeSeconds, debug: typeof at === 'number' ? `auth_time ${now() - at}s ago` : 'no auth_time' });
    }
  };
}
