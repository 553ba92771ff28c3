import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { Keyring } from '../engine/keys/keyring.js';
import { SecretBox } from '../engine/keys/secret-box.js';
import { resolveSecret } from '../secret.js';
import { userInfo } from 'node:os';
import { pino } from 'pino';
import { createAuditStores, createStores, migrate, openDatabase, type Db } from '../storage/index.js';
import { AuditRecorder, type AuditFields } from '../engine/audit/recorder.js';
import type { AuditStore, WebhookStore } from '../engine/audit/store.js';
import { loggerOptions } from '../logging.js';
import type { Stores } from '../storage/stores.js';
import { RevocationHub } from '../engine/revocation/hub.js';
import { Revoker } from '../engine/revocation/revoker.js';
import { RedisMessenger, type Channel } from '../storage/redis/messenger.js';

export interface CliContext {
  config: Config;
  db: Db;
  stores: Stores;
  box: SecretBox;
  keyring: Keyring;
  /** Revokes in the database; running instances find the denylist entries within their poll interval. */
  revoker: Revoker;
  auditStore: AuditStore;
  webhooks: WebhookStore;
  /** Records an admin event with the actor `cli:<os user>` (stored, and a JSON line on stderr). */
  audit(type: string, data?: AuditFields): Promise<void>;
  close(): Promise<void>;
}

/**
 * Tells running instances about a change at once through Redis, when configured (they would otherwise
 * see it within keys.reloadEvery or the 5 s client cache). Best effort: waits up to 2 s for Redis.
 */
export async function announce(config: Config, channel: Channel, payload: unknown): Promise<void> {
  if (!config.redisUrl) return;
  const messenger = new RedisMessenger(config.redisUrl, config.issuer, (message) => console.error(`warning: ${message}`));
  try {
    for (let i = 0; i < 20 && !messenger.healthy(); i++) await new Promise((r) => setTimeout(r, 100));
    if (messenger.healthy()) {
      messenger.publish(channel, payload);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await messenger.close();
  }
}

/** Runs `fn` with an open context and always closes it. */
export async function withContext<T>(configFile: string | undefined, fn: (ctx: CliContext) => Promise<T>): Promise<T> {
  const ctx = await openContext(configFile);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** Opens what an admin command needs: config, migrated database, secret, stores, keys. */
export async function openContext(configFile: string | undefined): Promise<CliContext> {
  const config = loadConfig({ file: configFile });
  const db = openDatabase(config.databaseUrl);
  await migrate(db);
  const box = new SecretBox(resolveSecret(config.dataDir, config.production));
  const stores = createStores(db);
  const keyring = new Keyring(stores.keys, box, { algorithm: config.keys.algorithm, maxTokenTtl: config.tokens.maxAccessTokenTtl });
  const now = () => Math.floor(Date.now() / 1000);
  const hub = new RevocationHub(stores.revocations, 1000, now, () => undefined);
  const { audit: auditStore, webhooks } = createAuditStores(db);
  const log = pino(loggerOptions(config.logLevel === 'silent' ? 'silent' : 'info'), pino.destination({ fd: 2, sync: true }));
  const recorder = new AuditRecorder(auditStore, log);
  const actor = `cli:${cliUser()}`;
  const revoker = new Revoker(stores, hub, now, (event, data) => void recorder.record(event, { actor, ...data }));
  const audit = async (type: string, data: AuditFields = {}) => {
    await recorder.record(type, { actor, ...data });
  };
  return {
    config,
    db,
    stores,
    box,
    keyring,
    revoker,
    auditStore,
    webhooks,
    audit,
    close: async () => {
      await recorder.flush();
      await db.close();
    },
  };
}

function cliUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}
