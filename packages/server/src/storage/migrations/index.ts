import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001_clients_keys.js';

/**
 * Numbered migrations, applied in order at start and by `tessera migrate`.
 * Add a new file `NNN_name.ts` and list it here; never edit one that has shipped.
 */
export const migrations: Record<string, Migration> = {
  '001_clients_keys': m001,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
