/** Algorithms a Tessera access token may carry (RFC 7518 §3.1, RFC 8037 §3.1); all asymmetric. */
export const SUPPORTED_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
] as const;
export type Algorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** Credentials a resource server uses to call the authorization server (RFC 6749 §2.3.1). */
export interface ClientCredentials {
  /** Endpoint URL; defaults to the issuer's `/revocations` (feed) or `/introspect` (introspection). */
  url?: string;
  clientId: string;
  clientSecret: string;
}

/** How revocations reach the verifier (DESIGN §3): a pushed denylist feed, or online introspection. */
export type RevocationOptions =
  | { feed: ClientCredentials }
  | { introspection: ClientCredentials & { /** Seconds an `active:true` answer is reused (default 10, never past `exp`). */ cacheSeconds?: number } };

/**
 * Options of {@link createVerifier}. Invalid options throw one `TypeError` listing every problem.
 */
export interface VerifierOptions {
  /** The authorization server's issuer identifier; `iss` must equal it exactly (RFC 9068 §4 step 3). */
  issuer: string;
  /** This resource server's identifier(s); `aud` must contain one (RFC 9068 §4 step 4). */
  audience: string | string[];
  /** Allowed JWS `alg` values (RFC 8725 §3.1). Default `['RS256', 'ES256', 'EdDSA']`; never `none` or HS*. */
  algorithms?: string[];
  /** Leeway in seconds for `exp`/`nbf`/`iat` (default 30, at most 300). */
  clockTolerance?: number;
  /** JWKS URL; discovered from the issuer's RFC 8414 metadata when omitted. */
  jwksUri?: string;
  /** Minimum seconds between JWKS refetches caused by an unknown `kid` (default 30, at least 1). */
  jwksCooldown?: number;
  /** Verified tokens kept in memory to skip repeat signature checks (default 10 000; 0 disables). */
  cacheSize?: number;
  /** Revocation source; without it a token is valid until `exp`. */
  revocation?: RevocationOptions;
  /** `fetch` used for every outbound call (discovery, JWKS, revocation). */
  fetch?: typeof fetch;
  /** Called with background failures (JWKS refresh, revocation feed). Never receives a token. */
  onError?: (error: unknown, context: string) => void;
}

export interface Config {
  issuer: string;
  audience: string[];
  algorithms: Algorithm[];
  clockTolerance: number;
  jwksUri: string | undefined;
  jwksCooldownMs: number;
  cacheSize: number;
  revocation: RevocationOptions | undefined;
  fetch: typeof fetch;
  onError: (error: unknown, context: string) => void;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for an https URL, or http on a loopback host (development and tests). */
export function isSafeUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const u = new URL(value);
  return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname));
}

function checkCredentials(c: ClientCredentials | undefined, problems: string[], name: string): void {
  if (typeof c !== 'object' || c === null) return void problems.push(`revocation.${name} must be an object`);
  if (typeof c.clientId !== 'string' || c.clientId === '') problems.push(`revocation.${name}.clientId is required`);
  if (typeof c.clientSecret !== 'string' || c.clientSecret === '') problems.push(`revocation.${name}.clientSecret is required`);
  if (c.url !== undefined && !isSafeUrl(c.url)) problems.push(`revocation.${name}.url must be an https URL`);
}

/** Validates options at construction (STYLE 4, 6): developer mistakes are a TypeError, never an OAuth error. */
export function resolveOptions(o: VerifierOptions): Config {
  const problems: string[] = [];
  if (!isSafeUrl(o.issuer)) problems.push('issuer must be an https URL (http only on localhost)');
  const audience = typeof o.audience === 'string' ? [o.audience] : o.audience;
  if (!Array.isArray(audience) || audience.length === 0 || !audience.every((a) => typeof a === 'string' && a !== '')) {
    problems.push('audience must be a non-empty string or array of strings');
  }
  const algorithms = o.algorithms ?? ['RS256', 'ES256', 'EdDSA'];
  if (!Array.isArray(algorithms) || algorithms.length === 0) problems.push('algorithms must be a non-empty array');
  else {
    for (const a of algorithms) {
      if (typeof a === 'string' && /^(none|HS\d+)$/i.test(a)) problems.push(`algorithm ${a} is never allowed (RFC 8725 §3.1)`);
      else if (!(SUPPORTED_ALGORITHMS as readonly unknown[]).includes(a)) problems.push(`algorithm ${String(a)} is not supported`);
    }
  }
  const clockTolerance = o.clockTolerance ?? 30;
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0 || clockTolerance > 300) problems.push('clockTolerance must be 0..300 seconds');
  if (o.jwksUri !== undefined && !isSafeUrl(o.jwksUri)) problems.push('jwksUri must be an https URL');
  const cooldown = o.jwksCooldown ?? 30;
  if (!Number.isFinite(cooldown) || cooldown < 1) problems.push('jwksCooldown must be at least 1 second');
  const cacheSize = o.cacheSize ?? 10_000;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) problems.push('cacheSize must be a non-negative integer');
  const r = o.revocation;
  if (r !== undefined) {
    const kinds = typeof r === 'object' && r !== null ? ['feed', 'introspection'].filter((k) => k in r) : [];
    if (kinds.length !== 1) problems.push('revocation must have exactly one of feed or introspection');
    else if ('feed' in r) checkCredentials(r.feed, problems, 'feed');
    else {
      checkCredentials(r.introspection, problems, 'introspection');
      const s = r.introspection?.cacheSeconds ?? 10;
      if (!Number.isFinite(s) || s < 0 || s > 300) problems.push('revocation.introspection.cacheSeconds must be 0..300');
    }
  }
  if (problems.length) throw new TypeError(`invalid resource-server options: ${problems.join('; ')}`);
  return {
    issuer: o.issuer,
    audience: audience as string[],
    algorithms: algorithms as Algorithm[],
    clockTolerance,
    jwksUri: o.jwksUri,
    jwksCooldownMs: cooldown * 1000,
    cacheSize,
    revocation: r,
    fetch: o.fetch ?? globalThis.fetch,
    onError: o.onError ?? (() => {}),
  };
}
