import type { Config } from '../../config/schema.js';
import type { DpopSettings } from './proofs.js';

/** Defaults of the `dpop` config section: common asymmetric algorithms, a 60 s window, nonces off. */
export function dpopSettings(config: Config): DpopSettings {
  return {
    algorithms: config.dpop?.algorithms ?? ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'],
    proofMaxAge: config.dpop?.proofMaxAge ?? 60,
    requireNonce: config.dpop?.requireNonce ?? false,
  };
}
