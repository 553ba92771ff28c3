import { readFileSync } from 'node:fs';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import { actionRoutes } from './actions.js';
import { maskUrl } from './mask.js';
import { pageRoutes } from './pages.js';
import { RelyingParty } from './relying-party.js';
import { securityHeaders, sendPage } from './render.js';
import { SessionStore } from './sessions.js';
import { Forbidden, WebSessions } from './web-session.js';

export interface WebClientOptions {
  /** Tessera's issuer identifier (discovery at `${issuer}/.well-known/openid-configuration`). */
  issuer: string;
  /** This app's client at Tessera: confidential, redirect URI `${baseUrl}/callback`, post-logout `${baseUrl}/`. */
  clientId: string;
  clientSecret: string;
  /** This app's public origin as the browser sees it, e.g. `http://localhost:9002` (no path). */
  baseUrl: string;
  /** The orders API's URL (the audience of the access tokens). */
  ordersApi: string;
  /** Default `openid profile email orders:read`. */
  scope?: string;
  logger?: boolean | Record<string, unknown>;
}

/** Request logs show the URL with credentials masked: the callback's query carries the authorization code. */
function logger(option: WebClientOptions['logger']): false | Record<string, unknown> {
  if (!option) return false;
  const serializers = { req: (req: { method: string; url: string }) => ({ method: req.method, url: maskUrl(req.url) }) };
  return { ...(option === true ? {} : option), serializers };
}

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');

/**
 * The demo web client: a confidential OpenID Connect client of Tessera that shows, step by step,
 * what happens — sign-in, tokens, API calls, refresh rotation and reuse detection, logout.
 *
 * @example
 * const app = await buildWebClient({ issuer: 'http://localhost:9000', clientId: 'demo-web', clientSecret, baseUrl: 'http://localhost:9002', ordersApi: 'http://localhost:9001' });
 * await app.listen({ port: 9002 });
 */
export async function buildWebClient(options: WebClientOptions): Promise<FastifyInstance> {
  const base = new URL(options.baseUrl);
  if (base.origin !== options.baseUrl.replace(/\/$/, '')) throw new TypeError('baseUrl must be an origin (scheme, host, port), without a path');
  const issuerOrigin = new URL(options.issuer).origin;

  const app = Fastify({ logger: logger(options.logger), bodyLimit: 8 * 1024 });
  await app.register(cookie);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addHook('onSend', async (_request, reply) => securityHeaders(reply, [issuerOrigin]));
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof Forbidden) {
      request.log.info({ reason: err.message }, 'form post rejected');
      return sendPage(reply, 'error', { heading: 'This form has expired', message: 'The form could not be verified. Go back to the start page and try again.' }, 403);
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, 'request failed');
    return sendPage(reply, 'error', { heading: 'Something went wrong', message: status === 500 ? 'Internal error.' : err.message }, status);
  });

  const css = asset('web-client.css');
  const js = asset('countdown.js');
  app.get('/assets/web-client.css', async (_req, reply) => reply.type('text/css; charset=utf-8').send(css));
  app.get('/assets/countdown.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(js));

  const rp = new RelyingParty({
    issuer: options.issuer,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    baseUrl: base.origin,
    scope: options.scope ?? 'openid profile email orders:read',
  });
  const sessions = new WebSessions(new SessionStore(), base.origin);
  pageRoutes(app, sessions, rp, { issuer: options.issuer, clientId: options.clientId, ordersApi: options.ordersApi });
  actionRoutes(app, sessions, rp, options.ordersApi);
  return app;
}
