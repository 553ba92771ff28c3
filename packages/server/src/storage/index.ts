import { openDatabase, migrate, isReady, type Db } from './connect.js';
import { KyselyClientStore } from './kysely/clients.js';
import { KyselyKeyStore } from './kysely/keys.js';
import type { Stores } from './stores.js';

export type * from './stores.js';
export { openDatabase, migrate, isReady, type Db };

/** Builds every store over one database handle. */
export function createStores(db: Db): Stores {
  return {
    clients: new KyselyClientStore(db.kysely),
    keys: new KyselyKeyStore(db.kysely),
  };
}
