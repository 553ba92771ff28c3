import { createHash } from 'node:crypto';
import { InvalidDpopProof, InvalidToken, UseDpopNonce } from '@tessera/protocol';
import type { BearerRequest } from '../bearer.js';
import { verifyDpopProof } from './proof.js';
import { ReplayCache } from './replay.js';
import { NonceSource } from './nonce.js';
import type { DpopConfig } from './options.js';

/** `cnf.jkt` of verified claims (RFC 9449 §6.1), read as own properties only. */
export function boundKey(claims: Readonly<Record<string, unknown>>): string | undefined {
  const cnf = Object.hasOwn(claims, 'cnf') ? claims.cnf : undefined;
  if (typeof cnf !== 'object' || cnf === null || !Object.hasOwn(cnf, 'jkt')) return undefined;
  const jkt = (cnf as Record<string, unknown>).jkt;
  return typeof jkt === 'string' ? jkt : undefined;
}

/**
 * The resource server's half of RFC 9449 (§7): a DPoP-bound token comes with `Authorization: DPoP` and
 * a proof for *this* request (`htm`, `htu` from the request or the configured public origin, `ath` of
 * the token) signed by the key in `cnf.jkt`, seen once (in-memory `jti` cache per resource server);
 * a bound token sent as Bearer is refused, and so is any bearer token when DPoP is required.
 */
export class DpopChecker {
  readonly #replay: ReplayCache;
  readonly #nonces: NonceSource | undefined;
  /** The `algs` of the `DPoP` challenge. */
  readonly algs: string;

  constructor(readonly config: DpopConfig, private readonly clockTolerance: number) {
    this.#replay = new ReplayCache(config.replayCacheSize);
    this.#nonces = config.nonce ? new NonceSource(config.nonce.secret, config.nonce.lifetime) : undefined;
    this.algs = config.algorithms.join(' ');
  }

  /** A token that came as Bearer: refused when it is DPoP-bound, or when DPoP is required. */
  checkBearer(claims: Readonly<Record<string, unknown>>): void {
    if (boundKey(claims) !== undefined) throw new InvalidToken('a DPoP-bound access token must be sent with the DPoP scheme', { debug: 'bound token presented as Bearer' });
    if (this.config.required) throw new InvalidToken('this resource requires a DPoP-bound access token', { debug: 'bearer token where DPoP is required' });
  }

  /** A token that came with the DPoP scheme: its proof must hold for this request and its key. */
  async checkProof(req: BearerRequest, token: string, claims: Readonly<Record<string, unknown>>): Promise<void> {
    const jkt = boundKey(claims);
    if (jkt === undefined) throw new InvalidToken('the access token is not DPoP-bound', { debug: 'bearer token presented with the DPoP scheme' });
    const now = Math.floor(Date.now() / 1000);
    const proof = await verifyDpopProof(
      { header: req.headers.dpop, method: req.method, url: this.requestUri(req), accessToken: token },
      { algorithms: this.config.algorithms, maxAge: this.config.proofMaxAge, clockTolerance: this.clockTolerance, now },
    );
    if (proof.jkt !== jkt) throw new InvalidDpopProof('the DPoP proof key is not the key the access token is bound to', { debug: 'proof jkt != cnf.jkt' });
    if (this.#nonces && !this.#nonces.valid(proof.nonce, now)) {
      throw new UseDpopNonce('the DPoP proof must carry the resource server\'s nonce', { nonce: this.#nonces.current(now), debug: proof.nonce === undefined ? 'nonce missing' : 'nonce stale' });
    }
    // Fixed-size entries (a 256-bit hash), so a long `jti` costs no more memory than a short one.
    const id = createHash('sha256').update(`${jkt} ${proof.jti}`).digest('base64url');
    if (!this.#replay.use(id, proof.expiresAt, now)) throw new InvalidDpopProof('the DPoP proof was already used', { debug: 'jti replayed' });
  }

  /** The nonce for the next proof, when nonces are in use (sent as `DPoP-Nonce`). */
  currentNonce(): string | undefined {
    return this.#nonces?.current(Math.floor(Date.now() / 1000));
  }

  /** `htu` as this request must name it: the public origin (or the request's scheme and Host) and path. */
  requestUri(req: BearerRequest): string {
    const path = req.url.split('?')[0]!.split('#')[0]!;
    if (this.config.origin) return this.config.origin + path;
    const host = req.headers.host;
    return `${req.protocol ?? 'http'}://${typeof host === 'string' ? host : ''}${path}`;
  }
}
