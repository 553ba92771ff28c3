import { DEFAULT_DPOP_ALGORITHMS, DPOP_ALGORITHMS } from './proof.js';

/** DPoP at a resource server (RFC 9449 §7). Without these options DPoP-bound tokens are still accepted and checked. */
export interface DpopOptions {
  /** Only DPoP-bound tokens are accepted; a bearer token is refused (default false: both). */
  required?: boolean;
  /** Proof `alg` allowlist (default ES256, EdDSA, Ed25519, PS256, RS256); asymmetric only. */
  algorithms?: string[];
  /**
   * The origin clients use to reach this API, e.g. `https://api.example` — needed behind a proxy or a
   * load balancer, where the request's own host and scheme are not what the client signed in `htu`.
   * Default: the request's `Host` and scheme.
   */
  origin?: string;
  /** Seconds a proof's `iat` may lie in the past (default 60, at most 300). */
  proofMaxAge?: number;
  /** Proofs remembered against replay, at most (default 100 000). */
  replayCacheSize?: number;
  /**
   * Require a server nonce in every proof (RFC 9449 §9). `secret` (≥ 32 characters) lets several instances
   * share nonces; otherwise each process has its own. `lifetime` in seconds (default 300).
   */
  nonce?: boolean | { secret?: string; lifetime?: number };
}

export interface DpopConfig {
  required: boolean;
  algorithms: string[];
  origin: string | undefined;
  proofMaxAge: number;
  replayCacheSize: number;
  nonce: { secret: string | undefined; lifetime: number } | undefined;
}

/** Validates {@link DpopOptions}; problems are appended (the caller throws one TypeError). */
export function resolveDpopOptions(o: DpopOptions | undefined, problems: string[]): DpopConfig {
  const algorithms = o?.algorithms ?? DEFAULT_DPOP_ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.length === 0) problems.push('dpop.algorithms must be a non-empty array');
  else for (const a of algorithms) if (!(DPOP_ALGORITHMS as readonly unknown[]).includes(a)) problems.push(`dpop algorithm ${String(a)} is not allowed (asymmetric JWS algorithms only)`);
  let origin = o?.origin;
  if (origin !== undefined) {
    if (typeof origin !== 'string' || !URL.canParse(origin) || !/^https?:$/.test(new URL(origin).protocol) || new URL(origin).pathname !== '/' || /[?#]/.test(origin)) {
      problems.push('dpop.origin must be an http(s) origin such as https://api.example');
    } else origin = new URL(origin).origin;
  }
  const proofMaxAge = o?.proofMaxAge ?? 60;
  if (!Number.isFinite(proofMaxAge) || proofMaxAge < 1 || proofMaxAge > 300) problems.push('dpop.proofMaxAge must be 1..300 seconds');
  const replayCacheSize = o?.replayCacheSize ?? 100_000;
  if (!Number.isInteger(replayCacheSize) || replayCacheSize < 1) problems.push('dpop.replayCacheSize must be a positive integer');
  let nonce: DpopConfig['nonce'];
  if (o?.nonce) {
    const n = o.nonce === true ? {} : o.nonce;
    if (n.secret !== undefined && (typeof n.secret !== 'string' || n.secret.length < 32)) problems.push('dpop.nonce.secret must be at least 32 characters');
    const lifetime = n.lifetime ?? 300;
    if (!Number.isFinite(lifetime) || lifetime < 10 || lifetime > 3600) problems.push('dpop.nonce.lifetime must be 10..3600 seconds');
    nonce = { secret: n.secret, lifetime };
  }
  return { required: o?.required === true, algorithms, origin, proofMaxAge, replayCacheSize, nonce };
}
