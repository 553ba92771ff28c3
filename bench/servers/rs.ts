import type { Server } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import express, { type Express, type RequestHandler } from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createRequire } from 'node:module';
import { tesseraAuth, requireScopes as fastifyScopes } from '../../packages/resource-server/src/fastify.ts';
import { requireAuth, requireScopes as expressScopes } from '../../packages/resource-server/src/express.ts';
import { SCOPE, freePort, type Alg } from '../lib/fixtures.ts';
import type { Started } from './child.ts';

// Loaded untyped: its global `Express.Request.auth` declaration clashes with the Tessera adapter's.
const { auth: auth0, requiredScopes } = createRequire(import.meta.url)('express-oauth2-jwt-bearer') as {
  auth: (o: { issuerBaseURL: string; audience: string; tokenSigningAlg: string }) => RequestHandler;
  requiredScopes: (scopes: string) => RequestHandler;
};

export type RsVariant = 'fastify-tessera' | 'fastify-bare' | 'fastify-jose' | 'express-tessera' | 'express-auth0' | 'express-bare';

interface Args {
  variant: RsVariant;
  issuer: string;
  audience: string;
  alg: Alg;
  /** Subscribe the Tessera verifier to the issuer's revocation feed with these client credentials. */
  feed?: { url: string; clientId: string; clientSecret: string };
}

/** One protected route, GET /orders, needing `orders:read`; the bare variants have no check at all. */
export async function start(args: Args): Promise<Started> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  if (args.variant.startsWith('fastify-')) {
    const app = await fastifyApp(args);
    await app.listen({ port, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  }
  const app = expressApp(args);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function fastifyApp(a: Args): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  if (a.variant === 'fastify-bare') {
    app.get('/orders', async () => ({ ok: true }));
  } else if (a.variant === 'fastify-tessera') {
    await app.register(tesseraAuth, { issuer: a.issuer, audience: a.audience, algorithms: [a.alg], ...(a.feed ? { revocation: { feed: a.feed } } : {}) });
    await app.register(async (api) => {
      api.addHook('preHandler', api.authenticate);
      api.get('/orders', { preHandler: fastifyScopes(SCOPE) }, async (req) => ({ ok: true, sub: req.auth!.sub }));
    });
  } else {
    // The plain-jose reference: what a careful hand-written check costs (no result cache).
    const jwks = createRemoteJWKSet(new URL(`${a.issuer}/jwks.json`));
    app.get('/orders', async (req, reply) => {
      const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
      if (!m) return reply.code(401).send({ error: 'invalid_token' });
      try {
        const { payload } = await jwtVerify(m[1]!, jwks, { issuer: a.issuer, audience: a.audience, algorithms: [a.alg], typ: 'at+jwt' });
        if (!String(payload.scope ?? '').split(' ').includes(SCOPE)) return reply.code(403).send({ error: 'insufficient_scope' });
        return { ok: true, sub: payload.sub };
      } catch {
        return reply.code(401).send({ error: 'invalid_token' });
      }
    });
  }
  return app;
}

function expressApp(a: Args): Express {
  const app = express();
  app.disable('x-powered-by');
  if (a.variant === 'express-bare') {
    app.get('/orders', (_req, res) => void res.json({ ok: true }));
  } else if (a.variant === 'express-tessera') {
    app.get('/orders', requireAuth({ issuer: a.issuer, audience: a.audience, algorithms: [a.alg] }), expressScopes(SCOPE), (req, res) => {
      res.json({ ok: true, sub: req.auth!.sub });
    });
  } else {
    app.get('/orders', auth0({ issuerBaseURL: a.issuer, audience: a.audience, tokenSigningAlg: a.alg }), requiredScopes(SCOPE), (req, res) => {
      res.json({ ok: true, sub: (req as unknown as { auth?: { payload: { sub?: string } } }).auth?.payload.sub });
    });
  }
  return app;
}
