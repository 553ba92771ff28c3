import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { challenge, InvalidToken } from '@tessera/protocol';
import type { EngineContext } from '../../engine/context.js';
import { deleteRegistration, InvalidClientMetadata, readRegistration, registerEndpoint, updateRegistration } from '../../engine/registration/index.js';
import { isCleanText } from '../../engine/params.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const NO_JSON = Symbol('not JSON');

function isJson(type: string | undefined): boolean {
  return /^application\/json\s*(;|$)/i.test(type ?? '');
}

/** RFC 7591 §3.1: the body is a JSON object; anything else is `invalid_client_metadata`, never a 500. */
function jsonBody(request: FastifyRequest): unknown {
  if (!isJson(request.headers['content-type'])) throw new InvalidClientMetadata('the request body must be application/json');
  const body = request.body;
  if (body === NO_JSON || body === undefined) throw new InvalidClientMetadata('the request body is not valid JSON');
  return body;
}

/** RFC 6750 §3: a refused bearer token gets its challenge (the error translator sends the JSON). */
function withChallenge(reply: FastifyReply, issuer: string) {
  return (e: unknown): never => {
    if (e instanceof InvalidToken) reply.header('www-authenticate', challenge('Bearer', { realm: issuer, error: e.error, error_description: e.description }));
    throw e;
  };
}

const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store').header('pragma', 'no-cache').type('application/json');

/**
 * POST /register (RFC 7591 §3) and GET/PUT/DELETE /register/:client_id (RFC 7592 §2), registered only
 * while `registration.enabled`. JSON bodies are parsed here only (strict UTF-8; the app parses forms).
 */
export function registrationRoutes(ctx: EngineContext) {
  return async (app: FastifyInstance): Promise<void> => {
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, raw, done) => {
      try {
        const text = UTF8.decode(raw as Buffer);
        done(null, isCleanText(text) ? (JSON.parse(text) as unknown) : NO_JSON);
      } catch {
        done(null, NO_JSON);
      }
    });
    const issuer = ctx.config.issuer;
    app.post('/register', async (request, reply) => {
      const body = jsonBody(request);
      const info = await registerEndpoint({ authorization: request.headers.authorization, body, ip: request.ip }, ctx).catch(withChallenge(reply, issuer));
      return noStore(reply).code(201).send(info);
    });
    const id = (request: FastifyRequest) => (request.params as { clientId: string }).clientId;
    app.get('/register/:clientId', async (request, reply) => {
      const info = await readRegistration({ clientId: id(request), authorization: request.headers.authorization }, ctx).catch(withChallenge(reply, issuer));
      return noStore(reply).send(info);
    });
    app.put('/register/:clientId', async (request, reply) => {
      // Authorization comes first (RFC 7592 §2); a body that is not a JSON object is then invalid_client_metadata.
      const body = isJson(request.headers['content-type']) && request.body !== NO_JSON ? request.body : undefined;
      const info = await updateRegistration({ clientId: id(request), authorization: request.headers.authorization, body }, ctx).catch(withChallenge(reply, issuer));
      return noStore(reply).send(info);
    });
    app.delete('/register/:clientId', async (request, reply) => {
      await deleteRegistration({ clientId: id(request), authorization: request.headers.authorization }, ctx).catch(withChallenge(reply, issuer));
      return reply.code(204).header('cache-control', 'no-store').send();
    });
  };
}
