import type { FastifyInstance } from 'fastify';
import { InvalidRequest } from '@tessera/protocol';
import type { EngineContext } from '../../engine/context.js';
import { parEndpoint } from '../../engine/par/index.js';
import type { RawParams } from '../../engine/params.js';
import { isForm, postOnly } from './token.js';

/** POST /par (RFC 9126 §2.1): form-encoded only, 201 with no-store (§2.2); other methods get 405 (§2). */
export function parRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.post('/par', async (request, reply) => {
    if (!isForm(request.headers['content-type'])) throw new InvalidRequest('the PAR endpoint accepts only application/x-www-form-urlencoded');
    if (request.url.includes('?')) throw new InvalidRequest('parameters are not accepted in the query string');
    const response = await parEndpoint({ authorization: request.headers.authorization, dpop: request.headers.dpop, body: (request.body ?? {}) as RawParams, ip: request.ip }, ctx);
    return reply.code(201).header('cache-control', 'no-store').header('pragma', 'no-cache').type('application/json').send(response);
  });
  postOnly(app, '/par', 'the PAR endpoint');
}
