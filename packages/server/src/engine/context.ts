import type { Config } from '../config/schema.js';
import type { Stores } from '../storage/stores.js';
import type { Keyring } from './keys/keyring.js';
import type { SecretBox } from './keys/secret-box.js';
import type { AuditLog, Revoker } from './revocation/revoker.js';
import type { CallerThrottle } from './login/throttle.js';
import type { ClientAuthThrottle } from './client-auth/throttled.js';
import type { ClientAssertionVerifier } from './client-auth/jwt-assertion.js';
import type { DpopProofs } from './dpop/proofs.js';

/** What protocol code may use: wired once in the composition root (server.ts). */
export interface EngineContext {
  config: Config;
  stores: Stores;
  keyring: Keyring;
  box: SecretBox;
  revoker: Revoker;
  /** Failed client authentications per source and per client id + source (C7). */
  clientAuthThrottle: ClientAuthThrottle;
  /** Introspections of unknown tokens per calling client (H7: token scanning). */
  introspectionThrottle: CallerThrottle;
  /** Security events for the operator (J6): reuse detected, families revoked. Never tokens. */
  audit: AuditLog;
  /** JWT client authentication (RFC 7523): client keys, the jti replay store. */
  clientAssertions: ClientAssertionVerifier;
  /** DPoP proofs at /token and /userinfo (RFC 9449), with the shared replay cache. */
  dpop: DpopProofs;
  now(): number;
}
