export { DpopProofs, type DpopSettings, type ProofRequest } from './proofs.js';
export { DpopNonces } from './nonce.js';
export type { DpopReplayStore } from './store.js';
export { dpopSettings } from './settings.js';
export { boundKey, checkSenderConstraint, type PresentedToken } from './binding.js';
export { parDpopJkt } from './par.js';
