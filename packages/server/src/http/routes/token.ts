import type { FastifyInstance } from 'fastify';
import { InvalidRequest } from '@tessera/protocol';
import { tokenEndpoint } from '../../engine/token-endpoint.js';
import type { GrantRegistry } from '../../engine/grants/registry.js';
import type { EngineContext } from '../../engine/context.js';
import type { RawParams } from '../../engine/params.js';

const FORM = 'application/x-www-form-urlencoded';
/** RFC 9745 Deprecation date (RFC 9651 Date): 2025-01-01, when RFC 9700 had said the password grant MUST NOT be used. */
const DEPRECATED_SINCE = '@1735689600';

/** True when the request's media type is form-encoded (parameters such as charset allowed). */
export function isForm(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === FORM;
}

/** POST /token (RFC 6749 §3.2): form-encoded only; other methods get 405. */
export function tokenRoutes(app: FastifyInstance, grants: GrantRegistry, ctx: EngineContext, issued: (grantType: string, clientType: string) => void = () => undefined): void {
  app.post('/token', async (request, reply) => {
    if (!isForm(request.headers['content-type'])) throw new InvalidRequest(`the token endpoint accepts only ${FORM}`);
    if (request.url.includes('?')) throw new InvalidRequest('parameters are not accepted in the query string');
    const { response, handler, client } = await tokenEndpoint(
      { authorization: request.headers.authorization, body: (request.body ?? {}) as RawParams, ip: request.ip, dpop: request.headers.dpop },
      grants,
      ctx,
    );
    issued(handler.grantType, client.type);
    // RFC 9745: the legacy password grant announces its deprecation (since OAuth 2.1 / RFC 9700 §2.4).
    if (handler.deprecated) reply.header('deprecation', DEPRECATED_SINCE).header('link', '<https://www.rfc-editor.org/rfc/rfc9700#section-2.4>; rel="deprecation"');
    // RFC 9449 §8: with nonces in use, each response hands out the current one.
    const nonce = ctx.dpop.nonceHeader();
    if (nonce) reply.header('dpop-nonce', nonce);
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').type('application/json').send(response);
  });
  postOnly(app, '/token', 'the token endpoint');
}

/** Other methods at a POST-only endpoint: 405 with `Allow: POST` and an RFC 6749 §5.2 body. */
export function postOnly(app: FastifyInstance, url: string, name: string): void {
  app.route({
    method: ['GET', 'PUT', 'DELETE', 'PATCH'],
    url,
    handler: async (_request, reply) =>
      reply.code(405).header('allow', 'POST').header('cache-control', 'no-store')
        .send({ error: 'invalid_request', error_description: `${name} accepts only POST` }),
  });
}
