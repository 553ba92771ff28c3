import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BrowserDeps } from '../browser-deps.js';
import type { RawParams } from '../../engine/params.js';
import { field, formBody, queryParams, sendOutcome } from './browser-util.js';

/**
 * The authorization endpoint (RFC 6749 §3.1: GET, and POST as OIDC Core §3.1.2.1 allows) and the
 * resume point the login and consent pages return to. No CORS headers are ever sent here (A11).
 */
export function authorizeRoutes(app: FastifyInstance, deps: BrowserDeps): void {
  const start = async (raw: RawParams, request: FastifyRequest, reply: FastifyReply) => {
    const browser = { id: deps.cookies.browser(request, reply), session: deps.cookies.session(request) };
    return sendOutcome(reply, await deps.flow.start(raw, browser).catch((e: unknown) => deps.flow.errorOutcome(e)));
  };
  app.get('/authorize', async (request, reply) => start(queryParams(request), request, reply));
  app.post('/authorize', async (request, reply) => start(formBody(request), request, reply));

  app.get('/authorize/resume', async (request, reply) => {
    const browser = { id: deps.cookies.browser(request, reply), session: deps.cookies.session(request) };
    const iid = field(queryParams(request), 'iid');
    return sendOutcome(reply, await deps.flow.resume(iid, browser).catch((e: unknown) => deps.flow.errorOutcome(e)));
  });
}
