import { InvalidDpopProof, InvalidToken } from '@tessera/protocol';
import type { DpopProofs } from './proofs.js';

/** `cnf.jkt` of a verified access token (RFC 9449 §6.1), if it is DPoP-bound. */
export function boundKey(claims: Record<string, unknown>): string | undefined {
  const cnf = Object.hasOwn(claims, 'cnf') ? claims.cnf : undefined;
  if (typeof cnf !== 'object' || cnf === null || !Object.hasOwn(cnf, 'jkt')) return undefined;
  const jkt = (cnf as Record<string, unknown>).jkt;
  return typeof jkt === 'string' ? jkt : undefined;
}

/** How an access token reached one of this server's resources (RFC 6750 §2, RFC 9449 §7.1). */
export interface PresentedToken {
  token: string;
  scheme: 'Bearer' | 'DPoP';
  /** With the DPoP scheme: the `DPoP` header(s), the method and the URL of the resource. */
  proof?: { header: string | string[] | undefined; method: string; url: string };
}

/**
 * RFC 9449 §7: a DPoP-bound token is accepted only with the DPoP scheme and a proof (with `ath`) by the
 * key it is bound to; a bound token sent as Bearer, or a bearer token sent with the DPoP scheme, is refused.
 */
export async function checkSenderConstraint(presented: PresentedToken, claims: Record<string, unknown>, dpop: DpopProofs): Promise<void> {
  const jkt = boundKey(claims);
  if (presented.scheme === 'Bearer') {
    if (jkt) throw new InvalidToken('a DPoP-bound access token must be sent with the DPoP scheme', { debug: 'bound token presented as Bearer' });
    return;
  }
  if (!jkt) throw new InvalidToken('the access token is not DPoP-bound', { debug: 'bearer token presented with the DPoP scheme' });
  const p = presented.proof;
  const proof = await dpop.check({ header: p?.header ?? '', method: p?.method ?? 'GET', url: p?.url ?? '', accessToken: presented.token });
  if (proof?.jkt !== jkt) throw new InvalidDpopProof('the DPoP proof key is not the key the access token is bound to', { debug: 'proof jkt != cnf.jkt' });
}
