import { InvalidDpopProof } from '@tessera/protocol';
import type { DpopProofs } from './proofs.js';

/**
 * RFC 9449 §10.1, for the pushed authorization request endpoint: a DPoP proof sent to /par binds the
 * code to its key just as `dpop_jkt` does; when both are sent they must name the same key. Returns the
 * thumbprint to keep with the pushed request as its `dpop_jkt` (undefined when neither was sent).
 *
 * @example request.dpopJkt = await parDpopJkt(ctx.dpop, req.headers.dpop, `${issuer}/par`, params.dpop_jkt);
 */
export async function parDpopJkt(dpop: DpopProofs, header: string | string[] | undefined, parUrl: string, dpopJkt: string | undefined): Promise<string | undefined> {
  const proof = await dpop.check({ header, method: 'POST', url: parUrl });
  if (proof && dpopJkt !== undefined && proof.jkt !== dpopJkt) {
    throw new InvalidDpopProof('dpop_jkt does not match the key of the DPoP proof', { debug: 'PAR dpop_jkt != proof jkt' });
  }
  return proof?.jkt ?? dpopJkt;
}
