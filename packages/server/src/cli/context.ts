import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { Keyring } from '../engine/keys/keyring.js';
import { SecretBox } from '../engine/keys/secret-box.js';
import { resolveSecret } from '../secret.js';
import { createStores, migrate, openDatabase, type Db } from '../storage/index.js';
import type { Stores } from '../storage/stores.js';

export interface CliContext {
  config: Config;
  db: Db;
  stores: Stores;
  box: SecretBox;
  keyring: Keyring;
  close(): Promise<void>;
}

/** Opens what an admin command needs: config, migrated database, secret, stores, keys. */
export async function openContext(configFile: string | undefined): Promise<CliContext> {
  const config = loadConfig({ file: configFile });
  const db = openDatabase(config.databaseUrl);
  await migrate(db);
  const box = new SecretBox(resolveSecret(config.dataDir, config.production));
  const stores = createStores(db);
  const keyring = new Keyring(stores.keys, box, { algorithm: config.keys.algorithm, maxTokenTtl: config.tokens.maxAccessTokenTtl });
  return { config, db, stores, box, keyring, close: () => db.close() };
}
