import { InsufficientScope, isScopeToken } from '@tessera/protocol';
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
