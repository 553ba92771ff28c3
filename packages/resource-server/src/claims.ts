import { InvalidToken, parseScope } from '@tessera/protocol';
import { ownString } from './token-format.js';

/**
 * A verified access token, normalised (RFC 9068 §2.2). Claims are read as own properties only.
 * `token` (the raw string, for token relay) is non-enumerable so logging `req.auth` never prints it.
 */
export interface AuthResult {
  /** `sub`: the user, or the client for client-credentials tokens (then `sub === clientId`). */
  sub: string;
  /** `client_id` (RFC 9068 §2.2, RFC 8693 §4.3). */
  clientId: string;
  /** `scope` split per RFC 6749 §3.3. */
  scopes: Set<string>;
  /** `roles` (RFC 9068 §7.2.1.1 / RFC 7643 §4.1.2); empty for client tokens. */
  roles: Set<string>;
  /** Every claim, frozen. Read with `Object.hasOwn`. */
  claims: Readonly<Record<string, unknown>>;
  /** The raw token (non-enumerable). */
  readonly token?: string;
}

const reject = (debug: string): never => {
  throw new InvalidToken('the access token is invalid', { debug });
};

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}

/**
 * Claim checks jose does not make (RFC 9068 §2.2, §4; RFC 8725 §3.8): string `iss`/`sub`/`client_id`/`jti`,
 * a numeric `iat` not in the future, `scope` a string, `roles` an array of strings.
 */
export function normaliseClaims(payload: Record<string, unknown>, issuer: string, nowSec: number, tolerance: number): AuthResult {
  if (ownString(payload, 'iss') !== issuer) reject('iss is not exactly the issuer');
  const sub = ownString(payload, 'sub') ?? reject('sub missing or not a string');
  const clientId = ownString(payload, 'client_id') ?? reject('client_id missing or not a string');
  if (ownString(payload, 'jti') === undefined) reject('jti missing or not a string');
  const iat = Object.hasOwn(payload, 'iat') ? payload.iat : undefined;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) reject('iat missing or not a number');
  else if (iat > nowSec + tolerance) reject('iat is in the future');
  let scopes: string[] = [];
  if (Object.hasOwn(payload, 'scope')) {
    if (typeof payload.scope !== 'string') reject('scope is not a string');
    try {
      scopes = parseScope(payload.scope as string, 256);
    } catch {
      reject('scope is malformed');
    }
  }
  let roles: unknown[] = [];
  if (Object.hasOwn(payload, 'roles')) {
    roles = Array.isArray(payload.roles) ? payload.roles : reject('roles is not an array');
    if (!roles.every((r) => typeof r === 'string')) reject('roles contains a non-string');
  }
  return { sub, clientId, scopes: new Set(scopes), roles: new Set(roles as string[]), claims: deepFreeze(payload) };
}

/** A fresh copy per request so a handler mutating its sets cannot affect the cached entry. */
export function copyResult(r: AuthResult, token: string): AuthResult {
  const out: AuthResult = { sub: r.sub, clientId: r.clientId, scopes: new Set(r.scopes), roles: new Set(r.roles), claims: r.claims };
  Object.defineProperty(out, 'token', { value: token, enumerable: false });
  return out;
}
