import type { FastifyInstance } from 'fastify';
import type { EngineContext } from '../engine/context.js';
import type { BrowserDeps } from './browser-deps.js';
import { sendErrorPage } from './pages/errors.js';
import { assetRoutes } from './routes/assets.js';
import { authorizeRoutes } from './routes/authorize.js';
import { consentRoutes } from './routes/consent.js';
import { devicePageRoutes } from './routes/device.js';
import { loginRoutes } from './routes/login.js';
import { logoutRoutes } from './routes/logout.js';
import { mfaRoutes } from './routes/mfa.js';

/**
 * Everything a person's browser visits, in one encapsulated plugin whose error handler renders an HTML
 * page (the back-channel JSON translator does not apply here).
 */
export function browserRoutes(deps: BrowserDeps, ctx: EngineContext) {
  return async (scope: FastifyInstance): Promise<void> => {
    scope.setErrorHandler((err, request, reply) => sendErrorPage(err, request, reply));
    assetRoutes(scope);
    authorizeRoutes(scope, deps);
    loginRoutes(scope, deps, ctx);
    mfaRoutes(scope, deps, ctx);
    consentRoutes(scope, deps, ctx);
    logoutRoutes(scope, deps, ctx);
    devicePageRoutes(scope, deps, ctx);
  };
}
