export { verifyDpopProof, accessTokenHash, DPOP_ALGORITHMS, DEFAULT_DPOP_ALGORITHMS, type DpopProofInput, type DpopProofOptions, type VerifiedProof } from './proof.js';
export { normaliseHtu } from './htu.js';
export { boundKey } from './checker.js';
export type { DpopOptions } from './options.js';
