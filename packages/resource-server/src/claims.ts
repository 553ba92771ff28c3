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
  /** `scope` split per RFC 6749 §3.3 (read-only: results are shared through the cache). */
  scopes: ReadonlySet<string>;
  /** `roles` (RFC 9068 §7.2.1.1 / RFC 7643 §4.1.2); empty for client tokens. Read-only. */
  roles: ReadonlySet<string>;
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
  return { sub, clientId, scopes: new FrozenSet(scopes), roles: new FrozenSet(roles as string[]), claims: deepFreeze(payload) };
}

/**
 * A Set that refuses changes after construction: one result serves every request that presents the
 * same token (the verified-token cache), so a handler must not be able to alter what the next sees.
 */
class FrozenSet extends Set<string> {
  #open = true;
  constructor(values: Iterable<string>) {
    super();
    for (const v of values) super.add(v);
    this.#open = false;
  }
  override add(value: string): this {
    if (!this.#open) throw new TypeError('auth result sets are read-only');
    return super.add(value);
  }
  override delete(): boolean {
    throw new TypeError('auth result sets are read-only');
  }
  override clear(): void {
    throw new TypeError('auth result sets are read-only');
  }
}

/** Per-request view of a cached result; `token` is a prototype getter, so it is never enumerated or logged. */
class Result implements AuthResult {
  readonly #token: string;
  constructor(
    readonly sub: string,
    readonly clientId: string,
    readonly scopes: ReadonlySet<string>,
    readonly roles: ReadonlySet<string>,
    readonly claims: Readonly<Record<string, unknown>>,
    token: string,
  ) {
    this.#token = token;
  }
  get token(): string {
    return this.#token;
  }
}

/** The result for one request: the cached, immutable parts plus this request's raw token. */
export function copyResult(r: AuthResult, token: string): AuthResult {
  return new Result(r.sub, r.clientId, r.scopes, r.roles, r.claims, token);
}
