import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001_clients_keys.js';
import * as m002 from './002_users_sessions_codes.js';
import * as m003 from './003_refresh_revocation.js';
import * as m004 from './004_code_challenge_index.js';
import * as m006 from './006_client_allowed_origins.js';
import * as m007 from './007_client_assertions_par.js';
import * as m008 from './008_dpop_replay.js';
import * as m009 from './009_device_codes.js';
import * as m010 from './010_client_registration.js';
import * as m013 from './013_audit_webhooks.js';
import * as m012 from './012_mfa_totp.js';

/**
 * Numbered migrations, applied in order at start and by `tessera migrate`.
 * Add a new file `NNN_name.ts` and list it here; never edit one that has shipped.
 */
export const migrations: Record<string, Migration> = {
  '001_clients_keys': m001,
  '002_users_sessions_codes': m002,
  '003_refresh_revocation': m003,
  '004_code_challenge_index': m004,
  '006_client_allowed_origins': m006,
  '007_client_assertions_par': m007,
  '008_dpop_replay': m008,
  '009_device_codes': m009,
  '010_client_registration': m010,
  '013_audit_webhooks': m013,
  '012_mfa_totp': m012,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
