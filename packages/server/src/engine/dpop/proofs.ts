import { createHash } from 'node:crypto';
import { InvalidDpopProof, UseDpopNonce } from '@tessera/protocol';
import { verifyDpopProof, type VerifiedProof } from '@tessera/resource-server/dpop';
import type { DpopReplayStore } from './store.js';
import type { DpopNonces } from './nonce.js';

export interface DpopSettings {
  /** Proof `alg` allowlist, advertised as `dpop_signing_alg_values_supported`. */
  algorithms: string[];
  /** Seconds a proof's `iat` may lie in the past (its replay window). */
  proofMaxAge: number;
  /** When true every proof must carry a current server nonce (RFC 9449 §8). */
  requireNonce: boolean;
}

export interface ProofRequest {
  header: string | string[] | undefined;
  method: string;
  /** The endpoint's URL under the issuer (what `htu` must name). */
  url: string;
  accessToken?: string | undefined;
}

const CLOCK_TOLERANCE = 5;

/**
 * DPoP proofs at this server's own endpoints (/token, /userinfo), as RFC 9449 §4.3 orders the checks:
 * the proof itself ({@link verifyDpopProof}, shared with the resource-server toolkit), then the
 * server nonce when required, then single use of its `jti` in the shared replay cache.
 */
export class DpopProofs {
  constructor(
    readonly settings: DpopSettings,
    private readonly replay: DpopReplayStore,
    readonly nonces: DpopNonces,
    private readonly now: () => number,
  ) {}

  /** The proof of this request, checked; undefined when the request carries no `DPoP` header. */
  async check(req: ProofRequest): Promise<VerifiedProof | undefined> {
    if (req.header === undefined) return undefined;
    const now = this.now();
    const proof = await verifyDpopProof(
      { header: req.header, method: req.method, url: req.url, accessToken: req.accessToken },
      { algorithms: this.settings.algorithms, maxAge: this.settings.proofMaxAge, clockTolerance: CLOCK_TOLERANCE, now },
    );
    if (this.settings.requireNonce && !this.nonces.valid(proof.nonce, now)) {
      throw new UseDpopNonce('the DPoP proof must carry the server-provided nonce', {
        nonce: this.nonces.current(now),
        debug: proof.nonce === undefined ? 'nonce missing' : 'nonce stale or unknown',
      });
    }
    const id = createHash('sha256').update(`${proof.jkt} ${proof.jti}`).digest('base64url');
    if (!(await this.replay.use(id, proof.expiresAt, now))) {
      throw new InvalidDpopProof('the DPoP proof was already used', { debug: 'jti replayed' });
    }
    return proof;
  }

  /** The nonce to send along with a response, when nonces are in use. */
  nonceHeader(): string | undefined {
    return this.settings.requireNonce ? this.nonces.current(this.now()) : undefined;
  }
}
