import { importJWK, type CryptoKey, type JWK } from 'jose';
import { InvalidToken } from '@tessera/protocol';
import { fetchJson, isObject } from './http-client.js';
import { isSafeUrl } from './options.js';

export interface JwksCacheOptions {
  issuer: string;
  jwksUri: string | undefined;
  fetch: typeof fetch;
  /** Minimum ms between fetches (an unknown kid never causes more than one per window). */
  cooldownMs: number;
  /** Keys older than this are refreshed on next use so removed keys stop verifying. */
  maxAgeMs?: number;
  onError: (error: unknown, context: string) => void;
  now?: () => number;
}

/** RFC 7518 §3.1 / RFC 8037: the key type (and curve) each allowed alg needs. */
const KEY_SHAPE: Record<string, (k: JWK) => boolean> = {
  RS: (k) => k.kty === 'RSA',
  PS: (k) => k.kty === 'RSA',
  ES256: (k) => k.kty === 'EC' && k.crv === 'P-256',
  ES384: (k) => k.kty === 'EC' && k.crv === 'P-384',
  ES512: (k) => k.kty === 'EC' && k.crv === 'P-521',
  EdDSA: (k) => k.kty === 'OKP' && (k.crv === 'Ed25519' || k.crv === 'Ed448'),
  Ed25519: (k) => k.kty === 'OKP' && k.crv === 'Ed25519',
};

/** Header `alg` must match the selected key's `alg` (if any) and `kty`/`crv` (RFC 8725 §3.1). */
export function keyFits(jwk: JWK, alg: string): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  const shape = KEY_SHAPE[alg] ?? KEY_SHAPE[alg.slice(0, 2)];
  return shape !== undefined && shape(jwk);
}

/** Public signing keys only: no symmetric (`oct`) or private material, `use`/`key_ops` permitting verify. */
function usable(k: unknown): k is JWK & { kid: string } {
  if (!isObject(k) || typeof k.kid !== 'string' || Object.hasOwn(k, 'd')) return false;
  if (!['RSA', 'EC', 'OKP'].includes(k.kty as string)) return false;
  if (k.use !== undefined && k.use !== 'sig') return false;
  return k.key_ops === undefined || (Array.isArray(k.key_ops) && k.key_ops.includes('verify'));
}

/**
 * The issuer's JWKS in memory, as a `kid` → keys map (RFC 8725 §3.10: `kid` is only a map key).
 * An unknown kid triggers at most one refetch per cooldown; a failed refetch keeps the last good set.
 */
export class JwksCache {
  private keys = new Map<string, JWK[]>();
  private imported = new WeakMap<JWK, Map<string, Promise<CryptoKey>>>();
  private loadedAt = -Infinity;
  private lastAttempt = -Infinity;
  private inflight: Promise<void> | undefined;
  private jwksUri: string | undefined;
  private readonly now: () => number;

  constructor(private readonly o: JwksCacheOptions) {
    this.jwksUri = o.jwksUri;
    this.now = o.now ?? Date.now;
  }

  /** Whether the cooldown since the last fetch attempt has passed. */
  private canRefetch(): boolean {
    return this.now() - this.lastAttempt >= this.o.cooldownMs;
  }

  /** Resolves the verification key for a header's `kid` and `alg`; fails closed with InvalidToken. */
  async getKey(kid: string, alg: string): Promise<CryptoKey> {
    const stale = this.now() - this.loadedAt > (this.o.maxAgeMs ?? 600_000);
    if ((stale || !this.keys.has(kid)) && (this.inflight || this.canRefetch())) await this.refresh();
    const jwk = this.keys.get(kid)?.find((k) => keyFits(k, alg));
    if (!jwk) throw new InvalidToken('the access token is invalid', { debug: `no usable key for kid ${JSON.stringify(kid).slice(0, 80)} alg ${alg}` });
    let byAlg = this.imported.get(jwk);
    if (!byAlg) this.imported.set(jwk, (byAlg = new Map()));
    let key = byAlg.get(alg);
    if (!key) byAlg.set(alg, (key = importJWK({ ...jwk, ext: false }, alg) as Promise<CryptoKey>));
    return key;
  }

  /** Fetches once, sharing an in-flight fetch; errors go to onError and keep the previous keys. */
  refresh(): Promise<void> {
    if (this.inflight) return this.inflight;
    this.lastAttempt = this.now();
    this.inflight = this.load()
      .then((keys) => {
        this.keys = keys;
        this.loadedAt = this.now();
      })
      .catch((e: unknown) => this.o.onError(e, 'jwks refresh'))
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async load(): Promise<Map<string, JWK[]>> {
    const uri = this.jwksUri ?? (this.jwksUri = await this.discover());
    const body = await fetchJson(this.o.fetch, uri);
    if (!isObject(body) || !Array.isArray(body.keys)) throw new Error('JWKS has no keys array');
    const keys = new Map<string, JWK[]>();
    for (const k of body.keys.filter(usable)) keys.set(k.kid, [...(keys.get(k.kid) ?? []), k]);
    return keys;
  }

  /** RFC 8414 §3 (and OIDC Discovery §4): metadata `issuer` must equal ours exactly (§3.3). */
  private async discover(): Promise<string> {
    const base = this.o.issuer.replace(/\/$/, '');
    let lastError: unknown;
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      try {
        const meta = await fetchJson(this.o.fetch, base + path);
        if (!isObject(meta) || meta.issuer !== this.o.issuer) throw new Error('metadata issuer mismatch');
        if (!isSafeUrl(meta.jwks_uri)) throw new Error('metadata jwks_uri missing or not https');
        return meta.jwks_uri;
      } catch (e) {
        lastError = e;
      }
    }
    throw lastError;
  }
}
