import type { FastifyInstance } from 'fastify';
import type { Config } from './config/schema.js';
import { buildApp, buildManagementApp } from './http/app.js';
import { buildMetadata } from './http/routes/metadata.js';
import { Keyring } from './engine/keys/keyring.js';
import { SecretBox } from './engine/keys/secret-box.js';
import { GrantRegistry } from './engine/grants/registry.js';
import { clientCredentials } from './engine/grants/client-credentials.js';
import { authorizationCode } from './engine/grants/authorization-code.js';
import { refreshToken } from './engine/grants/refresh-token.js';
import { passwordGrant } from './engine/grants/password.js';
import { DeviceFlow } from './engine/device/index.js';
import { RevocationHub } from './engine/revocation/hub.js';
import { Revoker } from './engine/revocation/revoker.js';
import { AuthorizationFlow } from './engine/authorize/flow.js';
import { SessionManager } from './engine/sessions/session-manager.js';
import { Csrf } from './engine/sessions/csrf.js';
import { CallerThrottle, FailureCounters, LoginThrottle } from './engine/login/throttle.js';
import { SecondFactorThrottle, SecondStepTickets, TotpFactors } from './engine/mfa/index.js';
import { ClientAuthThrottle } from './engine/client-auth/throttled.js';
import { warmPasswordHasher } from './engine/users/password.js';
import { Cookies } from './http/cookies.js';
import { applyConfigUsers } from './users-from-config.js';
import type { EngineContext } from './engine/context.js';
import { createAuditStores, createStores, isReady, migrate, openDatabase, type Db } from './storage/index.js';
import { AuditRecorder } from './engine/audit/recorder.js';
import { WebhookWorker } from './engine/audit/webhooks.js';
import { applyConfigClients } from './clients-from-config.js';
import { resolveSecret } from './secret.js';
import { loggerOptions } from './logging.js';
import { pino, type DestinationStream } from 'pino';
import { LocalMessenger, RedisMessenger, type Messenger } from './storage/redis/messenger.js';
import { CachedClientStore } from './storage/cached-clients.js';
import { MetadataDocumentClients, metadataDocumentSettings } from './engine/cimd/index.js';
import { Metrics } from './http/metrics.js';
import type { DeniedToken } from './storage/stores.js';
import { TemporarilyUnavailable } from '@tessera/protocol';
import { ClientAssertionVerifier, ClientKeys } from './engine/client-auth/index.js';
import { RedisReplayCache } from './storage/redis/replay-cache.js';
import { assertionAlgorithms, clientAuthMetadata, supportedAuthMethods } from './http/routes/metadata-client-auth.js';
import { ConfigError } from './config/load.js';
import { storedClientProfileProblems } from './config/client-auth-settings.js';
import { DpopNonces, DpopProofs, dpopSettings, type DpopReplayStore } from './engine/dpop/index.js';
import { KyselyDpopReplayStore } from './storage/kysely/dpop-replay.js';
import { RedisDpopReplayStore } from './storage/redis/dpop-replay.js';

/** Endpoints that issue, refresh, revoke or report tokens: never answered from caches alone. */
const FAIL_CLOSED_ROUTES = new Set(['/token', '/revoke', '/introspect', '/par', '/device_authorization']);

function isDenied(v: unknown): v is DeniedToken {
  const d = v as DeniedToken;
  return typeof d?.jti === 'string' && typeof d.exp === 'number' && typeof d.revokedAtMs === 'number';
}

export interface Tessera {
  app: FastifyInstance;
  ctx: EngineContext;
  db: Db;
  grants: GrantRegistry;
  /** The management listener (/metrics), absent with `management: false`. */
  management: FastifyInstance | undefined;
  /** The audit log (issue 16 §4); `flush` waits for events still being written. */
  audit: AuditRecorder;
  /** Starts listening (and the management listener); resolves with the main bound address. */
  listen(): Promise<string>;
  /** The management listener's bound address, once listening. */
  managementUrl(): string | undefined;
  close(): Promise<void>;
}

export interface TesseraOptions {
  /** Replaces the pino logger options (tests pass `false`). */
  logger?: unknown;
  env?: NodeJS.ProcessEnv;
  /** Where log lines go (default stdout); tests read warnings such as "redis unavailable" from it. */
  logStream?: DestinationStream;
}

/** The composition root: everything is wired here and only here (STYLE.md 3). */
export async function createTessera(config: Config, options: TesseraOptions = {}): Promise<Tessera> {
  const now = () => Math.floor(Date.now() / 1000);
  const db = openDatabase(config.databaseUrl);
  try {
    await migrate(db);
    const box = new SecretBox(resolveSecret(config.dataDir, config.production, options.env));
    const stores = createStores(db);
    const keyring = new Keyring(stores.keys, box, { algorithm: config.keys.algorithm, maxTokenTtl: config.tokens.maxAccessTokenTtl });
    await keyring.init();
    await applyConfigClients(config.clients, stores.clients, box, now(), config.source);
    // profile fapi2: clients made with the CLI are held to the same rules as the config file's.
    const profileProblems = storedClientProfileProblems(config, await stores.clients.list());
    if (profileProblems.length) throw new ConfigError(config.source, profileProblems);
    await applyConfigUsers(config.users, stores, now());
    await warmPasswordHasher();
    const logOptions = options.logger === false ? { enabled: false } : loggerOptions(config.logLevel);
    const log = options.logStream ? pino(logOptions, options.logStream) : pino(logOptions);
    const messenger: Messenger = config.redisUrl
      ? new RedisMessenger(config.redisUrl, config.issuer, (message, err) => log.warn({ err }, message))
      : new LocalMessenger();
    // Client ID metadata documents: https client ids are fetched (engine/cimd), below the record cache.
    const documents = metadataDocumentSettings(config);
    if (documents) {
      stores.clients = new MetadataDocumentClients(stores.clients, documents, (url, reason) => log.info({ clientId: url, reason }, 'client metadata document refused'));
    }
    stores.clients = new CachedClientStore(stores.clients, messenger);
    const metrics = new Metrics();
    const auditStores = createAuditStores(db);
    const webhooks = new WebhookWorker(auditStores.webhooks, box, { production: config.production, ...config.webhooks }, log);
    const recorder = new AuditRecorder(auditStores.audit, log, () => webhooks.kick());
    // Every security and admin event: counted, logged as JSON, stored with its webhook outbox rows.
    const audit = (event: string, data: Record<string, unknown>) => {
      metrics.securityEvents.inc({ event });
      void recorder.record(event, data);
    };
    // While the database is down the feed poll fails four times a second: one warning per 30 s says it.
    let pollWarnedAt = 0;
    const hub = new RevocationHub(stores.revocations, 250, now, (e) => {
      if (Date.now() - pollWarnedAt < 30_000) return;
      pollWarnedAt = Date.now();
      log.warn({ err: e }, 'revocation feed poll failed');
    });
    // Revocations made on other instances arrive through Redis at once (and by polling regardless).
    messenger.subscribe('revoked', (payload) => {
      if (Array.isArray(payload)) hub.publish(payload.filter(isDenied));
    });
    messenger.subscribe('keys', () => void keyring.reload().catch((e: unknown) => log.warn({ err: e }, 'key reload failed')));
    const throttle = new LoginThrottle(stores.loginAttempts, config.login, now, box);
    const jtiCache = config.redisUrl ? new RedisReplayCache(config.redisUrl, config.issuer, 'assertion-jti') : undefined;

    // RFC 9449 §11.1: proofs are single use across every instance (database, or Redis when configured).
    const dbReplay = new KyselyDpopReplayStore(db.kysely);
    const dpopReplay: DpopReplayStore = config.redisUrl
      ? new RedisDpopReplayStore(config.redisUrl, config.issuer, dbReplay, (message, err) => log.warn({ err }, message))
      : dbReplay;
    const ctx: EngineContext = {
      config,
      stores,
      keyring,
      box,
      now,
      revoker: new Revoker(stores, hub, now, audit, (added, reason) => {
        metrics.revocations.inc({ reason }, added.length);
        messenger.publish('revoked', added);
      }),
      introspectionThrottle: new CallerThrottle(
        new FailureCounters(stores.loginAttempts, config.clientAuth.window, now, 'introspect:'),
        { maxPerCaller: config.clientAuth.maxUnknownIntrospections, maxPerSource: config.clientAuth.maxUnknownIntrospections * 10 },
      ),
      clientAuthThrottle: new ClientAuthThrottle(new FailureCounters(stores.loginAttempts, config.clientAuth.window, now, 'client:'), config.clientAuth),
      audit,
      clientAssertions: new ClientAssertionVerifier({
        issuer: config.issuer,
        acceptTokenEndpointAudience: config.clientAuth.acceptTokenEndpointAudience === true,
        keys: new ClientKeys({ production: config.production }),
        box,
        replay: stores.assertionJtis,
        redis: jtiCache,
        now,
        privateKeyAlgs: assertionAlgorithms(config, ['private_key_jwt']),
      }),
      dpop: new DpopProofs(dpopSettings(config), dpopReplay, new DpopNonces(box, 300), now),
    };

    const grants = new GrantRegistry().register(clientCredentials).register(authorizationCode).register(refreshToken).register(passwordGrant(throttle));
    const device = new DeviceFlow(ctx);
    grants.register(device.grant);
    const clients = await stores.clients.list();
    // A CLI client may name an ID token alg that keys.algorithm no longer provides: its logins fail.
    for (const c of clients) {
      const alg = c.idTokenSignedResponseAlg;
      if (alg !== undefined && !(keyring.algorithms as readonly string[]).includes(alg)) {
        log.warn({ clientId: c.id, alg }, `client ${c.id} wants ${alg} ID tokens, but keys.algorithm is ${config.keys.algorithm}: its code exchanges with openid fail`);
      }
    }
    const authMethods = supportedAuthMethods(config, clients);
    // RFC 8414: list only what is usable; the legacy password grant only while some client has it (E1).
    const metadata = {
      ...buildMetadata(ctx, {
        grantTypes: grants.types().filter((g) => g !== 'password' || clients.some((c) => c.grantTypes.includes('password'))),
        authMethods,
        scopes: [...new Set([...clients.flatMap((c) => c.scopes), ...(config.registration.enabled ? config.registration.scopes : []), ...(documents?.scopes ?? [])])].sort(),
      }),
      ...clientAuthMetadata(config, authMethods),
      // RFC 7591 §3 / RFC 8414 §2: only while registration is enabled.
      ...(config.registration.enabled ? { registration_endpoint: `${config.issuer}/register` } : {}),
      // draft-ietf-oauth-client-id-metadata-document §5: https client ids are accepted.
      ...(documents ? { client_id_metadata_document_supported: true } : {}),
    };
    const sessions = new SessionManager(stores.sessions, config.sessions, now);
    const browser = {
      flow: new AuthorizationFlow(ctx, sessions),
      sessions,
      csrf: new Csrf(box),
      throttle,
      cookies: new Cookies(config.issuer),
      device,
      mfa: {
        totp: new TotpFactors(stores.mfa, box, new URL(config.issuer).host, now),
        throttle: new SecondFactorThrottle(new FailureCounters(stores.loginAttempts, config.login.window, now, 'mfa:', 0), config.login),
        tickets: new SecondStepTickets(box, now),
      },
    };
    const refreshHealth = async () => {
      metrics.databaseUp.set((await isReady(db)) ? 1 : 0);
      if (config.redisUrl) metrics.redisUp.set(messenger.healthy() ? 1 : 0);
    };
    const app = buildApp({
      ctx,
      grants,
      ready: () => isReady(db),
      metadata: () => metadata,
      logger: log,
      browser,
      hub,
      metrics,
      refreshHealth,
    });

    // SECURITY-CHECKLIST "Faults": caches (client records, throttle answers) must not let these
    // endpoints answer while the database is known to be down; a probe decides, an answer reopens them.
    app.addHook('preHandler', async (request) => {
      if (request.method !== 'POST' || !db.knownDown?.() || !FAIL_CLOSED_ROUTES.has(request.routeOptions.url ?? '')) return;
      if (!(await isReady(db))) throw new TemporarilyUnavailable('the service is temporarily unavailable', { retryAfter: 5 });
    });

    const timers: NodeJS.Timeout[] = [];
    // Other instances may rotate: re-read the key table so every instance publishes the same JWKS.
    timers.push(setInterval(() => void keyring.reload().catch((e: unknown) => app.log.warn({ err: e }, 'key reload failed')), config.keys.reloadEvery * 1000));
    if (config.keys.rotateEvery !== undefined) {
      const every = config.keys.rotateEvery;
      const check = Math.max(1, Math.min(60, Math.floor(every / 10))) * 1000;
      timers.push(setInterval(() => {
        keyring.rotateIfOlderThan(every).then(
          (rotated) => {
            if (!rotated) return;
            app.log.info({ kid: keyring.active().kid }, 'signing key rotated on schedule');
            audit('key_rotated', { actor: 'schedule', kid: keyring.active().kid });
            messenger.publish('keys', keyring.active().kid);
          },
          (e: unknown) => app.log.warn({ err: e }, 'scheduled key rotation failed'),
        );
      }, check));
    }
    // Expired sessions, interactions, codes and login counters are deleted in the background.
    timers.push(setInterval(() => {
      Promise.all([
        sessions.purgeExpired(),
        throttle.purgeExpired(Math.max(config.login.window, config.clientAuth.window)),
        stores.interactions.purgeExpired(now()),
        stores.codes.purgeExpired(now()),
        stores.refreshTokens.purgeExpired(now()),
        stores.revocations.purgeExpired(now()),
        stores.assertionJtis.purgeExpired(now()),
        stores.pushedRequests.purgeExpired(now()),
        dpopReplay.purgeExpired(now()),
        device.purgeExpired(),
      ]).catch((e: unknown) => app.log.warn({ err: e }, 'purging expired records failed'));
    }, 5 * 60 * 1000));
    // Audit retention: every instance prunes (an idempotent DELETE, so two instances do not conflict).
    const pruneAudit = () =>
      void auditStores.audit.prune(Date.now() - config.audit.retention * 1000).catch((e: unknown) => app.log.warn({ err: e }, 'pruning the audit log failed'));
    timers.push(setInterval(pruneAudit, 60 * 60 * 1000));
    for (const t of timers) t.unref();
    const management = config.management ? buildManagementApp({ ready: () => isReady(db), logger: log, metrics, refreshHealth: () => refreshHealth() }) : undefined;
    let managementUrl: string | undefined;

    let closed = false;
    return {
      app,
      ctx,
      db,
      grants,
      management,
      audit: recorder,
      managementUrl: () => managementUrl,
      async listen() {
        const url = await app.listen({ port: config.port, host: config.host });
        if (management && config.management) {
          const addr = await management.listen({ port: config.management.port, host: config.management.host });
          managementUrl = addr;
        }
        webhooks.start();
        pruneAudit();
        return url;
      },
      async close() {
        if (closed) return;
        closed = true;
        for (const t of timers) clearInterval(t);
        hub.close();
        // In-flight requests finish (a slow one may wait out a database timeout); their keep-alive
        // connections would then idle until keepAliveTimeout (72 s) before close resolves.
        const sweep = setInterval(() => app.server.closeIdleConnections(), 250);
        await app.close().finally(() => clearInterval(sweep));
        await management?.close();
        await webhooks.close();
        await recorder.flush();
        await messenger.close();
        await jtiCache?.close();
        await dpopReplay.close?.();
        await db.close();
      },
    };
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
}
