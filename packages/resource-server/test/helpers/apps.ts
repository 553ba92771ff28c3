// The same small protected API built on each adapter, for the shared adapter suite.
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import * as ex from '../../src/express.ts';
import * as fy from '../../src/fastify.ts';
import type { AuthResult, HttpAuthOptions, Verifier } from '../../src/index.ts';

export interface RunningApp {
  url: string;
  close(): Promise<void>;
}
/** RFC 9470 routes: `/stepup/acr` needs this acr, `/stepup/recent` a sign-in within 300 s. */
export const STEP_UP_ACR = 'urn:tessera:acr:mfa';

export type AppFactory = (verifier: Verifier, http: HttpAuthOptions) => Promise<RunningApp>;

/** What handlers echo back, so the suite can check `req.auth` / `request.auth`. */
export const summary = (a: AuthResult | null | undefined) => ({
  sub: a?.sub,
  clientId: a?.clientId,
  scopes: [...(a?.scopes ?? [])],
  roles: [...(a?.roles ?? [])],
  enumerable: Object.keys(a ?? {}).sort(),
  hasToken: typeof a?.token === 'string',
});

export const expressApp: AppFactory = async (verifier, http) => {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  const auth = ex.requireAuth(verifier, http);
  app.use(auth.metadata);
  app.get('/public', (_req, res) => void res.json({ public: true }));
  app.get('/orders', auth, ex.requireScopes('orders:read'), (req, res) => void res.json(summary(req.auth)));
  app.post('/orders', auth, ex.requireScopes('orders:write'), (req, res) => void res.status(201).json(summary(req.auth)));
  app.delete('/orders/:id', auth, ex.requireRoles('admin'), (req, res) => void res.json(summary(req.auth)));
  app.get('/unguarded-guard', ex.requireScopes('orders:read'), (_req, res) => void res.json({}));
  app.get('/stepup/acr', auth, ex.requireAcr(STEP_UP_ACR), (req, res) => void res.json(summary(req.auth)));
  app.get('/stepup/recent', auth, ex.requireAuthTime(300), (req, res) => void res.json(summary(req.auth)));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
};

export const fastifyApp: AppFactory = async (verifier, http) => {
  const app = Fastify();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(body as string)) {
      const prev = out[k];
      out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
    }
    done(null, out);
  });
  await app.register(fy.tesseraAuth, { verifier, ...http });
  app.get('/public', async () => ({ public: true }));
  app.get('/unguarded-guard', { preHandler: fy.requireScopes('orders:read') }, async () => ({}));
  await app.register(async (api) => {
    api.addHook('preHandler', api.authenticate);
    api.get('/orders', { preHandler: fy.requireScopes('orders:read') }, async (req) => summary(req.auth));
    api.post('/orders', { preHandler: fy.requireScopes('orders:write') }, async (req, reply) => reply.code(201).send(summary(req.auth)));
    api.delete('/orders/:id', { preHandler: fy.requireRoles('admin') }, async (req) => summary(req.auth));
    api.get('/stepup/acr', { preHandler: fy.requireAcr(STEP_UP_ACR) }, async (req) => summary(req.auth));
    api.get('/stepup/recent', { preHandler: fy.requireAuthTime(300) }, async (req) => summary(req.auth));
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
};
