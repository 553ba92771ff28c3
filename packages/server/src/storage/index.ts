import { openDatabase, migrate, isReady, type Db } from './connect.js';
import { KyselyClientStore } from './kysely/clients.js';
import { KyselyKeyStore } from './kysely/keys.js';
import { KyselyUserStore } from './kysely/users.js';
import { KyselySessionStore } from './kysely/sessions.js';
import { KyselyInteractionStore } from './kysely/interactions.js';
import { KyselyConsentStore } from './kysely/consents.js';
import { KyselyLoginAttemptStore } from './kysely/login-attempts.js';
import { KyselyAuthorizationCodeStore } from './kysely/codes.js';
import { KyselyRefreshTokenStore } from './kysely/refresh-tokens.js';
import { KyselyRevocationStore } from './kysely/revocations.js';
import { KyselyAssertionReplayStore } from './kysely/client-assertions.js';
import { KyselyPushedRequestStore } from './kysely/pushed-requests.js';
import { KyselyDeviceCodeStore } from '../engine/device/kysely-store.js';
import { KyselyRegistrationStore } from './kysely/registrations.js';
import { KyselyAuditStore, KyselyWebhookStore } from './kysely/audit.js';
import { KyselyMfaStore } from './kysely/mfa.js';
import type { Stores } from './stores.js';

export type * from './stores.js';
export { openDatabase, migrate, isReady, type Db };

/** Builds every store over one database handle. */
export function createStores(db: Db): Stores {
  return {
    refreshTokens: new KyselyRefreshTokenStore(db.kysely),
    revocations: new KyselyRevocationStore(db.kysely),
    clients: new KyselyClientStore(db.kysely),
    keys: new KyselyKeyStore(db.kysely),
    users: new KyselyUserStore(db.kysely),
    sessions: new KyselySessionStore(db.kysely),
    interactions: new KyselyInteractionStore(db.kysely),
    consents: new KyselyConsentStore(db.kysely),
    loginAttempts: new KyselyLoginAttemptStore(db.kysely),
    codes: new KyselyAuthorizationCodeStore(db.kysely),
    assertionJtis: new KyselyAssertionReplayStore(db.kysely),
    pushedRequests: new KyselyPushedRequestStore(db.kysely),
    deviceCodes: new KyselyDeviceCodeStore(db.kysely),
    registrations: new KyselyRegistrationStore(db.kysely),
    mfa: new KyselyMfaStore(db.kysely),
  };
}

/** The audit log and webhook stores (issue 16), over the same handle. */
export function createAuditStores(db: Db): { audit: KyselyAuditStore; webhooks: KyselyWebhookStore } {
  return { audit: new KyselyAuditStore(db.kysely), webhooks: new KyselyWebhookStore(db.kysely) };
}
