import { readFileSync } from 'node:fs';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import type { EngineContext } from '../engine/context.js';
import type { GrantRegistry } from '../engine/grants/registry.js';
import { parseFormBytes } from './form.js';
import { assertCleanRequest } from './boundary.js';
import { sendOAuthError } from './errors.js';
import { healthRoutes } from './routes/health.js';
import { metadataRoutes } from './routes/metadata.js';
import { tokenRoutes } from './routes/token.js';
import { revocationRoutes } from './routes/revocation.js';
import { parRoutes } from './routes/par.js';
import { registrationRoutes } from './routes/registration.js';
import type { RevocationHub } from '../engine/revocation/hub.js';
import type { Metrics } from './metrics.js';
import { userinfoRoutes } from './routes/userinfo.js';
import { deviceAuthorizationRoutes } from './routes/device.js';
import { browserRoutes } from './browser-routes.js';
import { corsSupport } from './cors.js';
import type { BrowserDeps } from './browser-deps.js';

export interface AppDeps {
  ctx: EngineContext;
  grants: GrantRegistry;
  ready: () => Promise<boolean>;
  metadata: () => Record<string, unknown>;
  logger: FastifyBaseLogger;
  browser: BrowserDeps;
  hub: RevocationHub;
  metrics: Metrics;
  /** Refreshes health gauges before /metrics is served. */
  refreshHealth: () => Promise<void>;
}

/** Builds the Fastify app: parsers, security headers, the one error translator, and the routes. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const { config } = deps.ctx;
  const https = config.tls ? { key: readFileSync(config.tls.key), cert: readFileSync(config.tls.cert) } : null;
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: config.limits.bodyBytes,
    // J2: X-Forwarded-* only from configured proxies.
    trustProxy: config.trustProxy,
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    ...(https ? { https } : {}),
  } as FastifyServerOptions) as unknown as FastifyInstance;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (req, body, done) => {
    try {
      done(null, parseFormBytes(body as Buffer, req.headers['content-type']));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  // Other media types are read (within the body limit) and left unparsed; endpoints reject them.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, undefined));

  // Before any route reads them: the query string and our cookies hold no NUL, invalid UTF-8 or unpaired
  // surrogate (the form parser checks bodies, client authentication the Basic credentials).
  app.addHook('preValidation', async (request) => assertCleanRequest(request, [deps.browser.cookies.browserName, deps.browser.cookies.sessionName]));
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    if (https) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
  });
  app.setErrorHandler((err, request, reply) => sendOAuthError(err, request, reply, config.issuer, (code) => deps.metrics.oauthErrors.inc({ error: code })));
  // /metrics itself is served by the management listener (buildManagementApp), not here.
  deps.metrics.observe(app);
  app.setNotFoundHandler((_req, reply) =>
    reply.code(404).header('cache-control', 'no-store').send({ error: 'not_found', error_description: 'no such endpoint' }),
  );

  healthRoutes(app, deps.ready);
  metadataRoutes(app, deps.ctx, deps.metadata);
  tokenRoutes(app, deps.grants, deps.ctx, (grantType, clientType) => deps.metrics.tokensIssued.inc({ grant_type: grantType, client_type: clientType }));
  revocationRoutes(app, deps.ctx, deps.hub);
  parRoutes(app, deps.ctx);
  if (config.registration.enabled) void app.register(registrationRoutes(deps.ctx));
  userinfoRoutes(app, deps.ctx);
  deviceAuthorizationRoutes(app, deps.browser.device);
  corsSupport(app, deps.ctx.stores.clients);
  void app.register(fastifyCookie);
  void app.register(browserRoutes(deps.browser, deps.ctx));
  return app;
}

/**
 * The management listener (issue 16 §6): /metrics (later /admin) on its own host and port, so they
 * stay private when the main port is public; /healthz and /readyz answer on both.
 */
export function buildManagementApp(deps: Pick<AppDeps, 'ready' | 'logger' | 'metrics' | 'refreshHealth'>): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.logger, return503OnClosing: true } as FastifyServerOptions) as unknown as FastifyInstance;
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).header('cache-control', 'no-store').send({ error: 'not_found', error_description: 'no such endpoint' }));
  healthRoutes(app, deps.ready);
  deps.metrics.serve(app, deps.refreshHealth);
  return app;
}
