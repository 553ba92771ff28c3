import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { createVerifier, type DpopOptions, type RevocationOptions } from '@tessera/resource-server';
import { requireAcr, requireRoles, requireScopes, tesseraAuth } from '@tessera/resource-server/fastify';
import { OrderStore } from './store.js';

export interface OrdersApiOptions {
  /** Tessera's issuer identifier. */
  issuer: string;
  /** This API's identifier: the `aud` its tokens must carry. */
  audience: string;
  /** SQLite file for the orders (':memory:' in throwaway setups). */
  dbFile: string;
  revocation?: RevocationOptions;
  /** Minimum seconds between JWKS refetches for an unknown `kid` (the toolkit's default when omitted). */
  jwksCooldown?: number;
  /** DPoP-bound tokens (RFC 9449): e.g. the public origin behind a proxy, or `required: true`. */
  dpop?: DpopOptions;
  logger?: boolean | Record<string, unknown>;
  /**
   * The `acr` a DELETE needs (RFC 9470 step-up); default `urn:tessera:acr:mfa` (password + second
   * factor). `false` lets a password-only admin token delete (for demos whose client cannot step up).
   */
  deleteAcr?: string | false;
}

/** Tessera's acr for a sign-in with a second factor. */
export const ACR_MFA = 'urn:tessera:acr:mfa';

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const NewOrder = Type.Object(
  { item: Type.String({ minLength: 1, maxLength: 200 }), quantity: Type.Integer({ minimum: 1, maximum: 1000 }) },
  { additionalProperties: false },
);

/**
 * The example protected API: reading orders needs `orders:read`, creating needs `orders:write`,
 * deleting needs the `admin` role ("admins can delete, users can only read") and a sign-in with a second
 * factor (RFC 9470: a password-only token gets 401 `insufficient_user_authentication`, `acr_values`).
 */
export async function buildOrdersApi(options: OrdersApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 16 * 1024 });
  const store = new OrderStore(options.dbFile);
  app.addHook('onClose', async () => store.close());
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).send({ error: status === 500 ? 'server_error' : 'invalid_request', error_description: status === 500 ? 'internal error' : err.message });
  });

  const verifier = createVerifier({
    issuer: options.issuer,
    audience: options.audience,
    ...(options.revocation ? { revocation: options.revocation } : {}),
    ...(options.jwksCooldown !== undefined ? { jwksCooldown: options.jwksCooldown } : {}),
    onError: (e, context) => app.log.warn({ context, err: e instanceof Error ? e.message : String(e) }, 'token verifier background error'),
  });
  app.addHook('onClose', async () => verifier.close());
  await app.register(tesseraAuth, { verifier, realm: 'orders', ...(options.dpop ? { dpop: options.dpop } : {}) });

  app.get('/healthz', async () => ({ status: 'ok' }));

  await app.register(async (api) => {
    api.addHook('preHandler', api.authenticate);

    api.get('/orders', { preHandler: requireScopes('orders:read') }, async () => ({ orders: store.list() }));

    api.get('/orders/:id', { schema: { params: IdParams }, preHandler: requireScopes('orders:read') }, async (req, reply) => {
      const order = store.get((req.params as { id: number }).id);
      return order ?? reply.code(404).send({ error: 'not_found', error_description: 'no such order' });
    });

    api.post('/orders', { schema: { body: NewOrder }, preHandler: requireScopes('orders:write') }, async (req, reply) => {
      const body = req.body as { item: string; quantity: number };
      return reply.code(201).send(store.create(body.item, body.quantity, req.auth!.sub));
    });

    const deleteAcr = options.deleteAcr ?? ACR_MFA;
    const deleteGuards = deleteAcr === false ? [requireRoles('admin')] : [requireRoles('admin'), requireAcr(deleteAcr)];
    api.delete('/orders/:id', { schema: { params: IdParams }, preHandler: deleteGuards }, async (req, reply) => {
      return store.delete((req.params as { id: number }).id)
        ? reply.code(204).send()
        : reply.code(404).send({ error: 'not_found', error_description: 'no such order' });
    });
  });
  return app;
}
