import type { Config } from '../config/schema.js';
import type { Stores } from '../storage/stores.js';
import type { Keyring } from './keys/keyring.js';
import type { SecretBox } from './keys/secret-box.js';

/** What protocol code may use: wired once in the composition root (server.ts). */
export interface EngineContext {
  config: Config;
  stores: Stores;
  keyring: Keyring;
  box: SecretBox;
  now(): number;
}
