import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidClient, InvalidRequest, OAuthError, TooManyRequests } from '@tessera/protocol';
import type { EngineContext } from '../../engine/context.js';
import { authenticateClientThrottled } from '../../engine/client-auth/index.js';
import { revokeEndpoint } from '../../engine/revoke-endpoint.js';
import { introspectEndpoint } from '../../engine/introspect-endpoint.js';
import type { RawParams } from '../../engine/params.js';
import type { RevocationHub } from '../../engine/revocation/hub.js';
import type { DeniedToken } from '../../storage/stores.js';
import { isForm } from './token.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
const HEARTBEAT_MS = 15_000;

function formRequest(request: FastifyRequest): { authorization: string | undefined; body: RawParams; ip: string } {
  if (!isForm(request.headers['content-type'])) throw new InvalidRequest('only application/x-www-form-urlencoded is accepted');
  if (request.url.includes('?')) throw new InvalidRequest('parameters are not accepted in the query string');
  return { authorization: request.headers.authorization, body: (request.body ?? {}) as RawParams, ip: request.ip };
}

/** An authenticated client that lacks a permission: 403 (its credentials are fine, so not 401). */
class NotPermitted extends OAuthError {
  readonly error = 'unauthorized_client';
  readonly status = 403;
}

/**
 * Only resource servers (clients with the `introspect` permission) read the revocation feed. Failed or
 * missing client authentication is 401 `invalid_client`; a client that authenticated but lacks the
 * permission is 403 `unauthorized_client`.
 */
async function feedCaller(request: FastifyRequest, ctx: EngineContext): Promise<string> {
  const { client, method } = await authenticateClientThrottled({ authorization: request.headers.authorization, params: {} }, request.ip, ctx);
  if (method === 'none') throw new InvalidClient('the revocation feed requires client authentication');
  if (!(client.permissions ?? []).includes('introspect')) throw new NotPermitted('this client may not read the revocation feed', { debug: `${client.id} lacks the introspect permission` });
  return client.id;
}

/** Open streams per client on one instance: a resource server needs one per process, not hundreds. */
const MAX_STREAMS_PER_CLIENT = 32;

/** `since` / `Last-Event-ID`: a cursor in milliseconds as this server handed it out. */
function cursor(value: unknown): number {
  if (value === undefined || value === '') return 0;
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) throw new InvalidRequest('since must be a cursor returned by this endpoint');
  return Number(value);
}

const wire = (e: DeniedToken) => ({ jti: e.jti, exp: e.exp });

/**
 * POST /revoke (RFC 7009), POST /introspect (RFC 7662), and the revocation feed for resource servers:
 * `GET /revocations?since=` (JSON page) and `GET /revocations/stream` (Server-Sent Events, resumable
 * with Last-Event-ID). Feed entries are denylisted jtis with their `exp`; cursors are milliseconds.
 */
export function revocationRoutes(app: FastifyInstance, ctx: EngineContext, hub: RevocationHub): void {
  const streams = new Set<() => void>();
  const perClient = new Map<string, number>();
  // Open streams would keep a graceful shutdown waiting forever: end them when the server closes.
  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });
  app.post('/revoke', async (request, reply) => {
    await revokeEndpoint(formRequest(request), ctx);
    return reply.headers(NO_STORE).send();
  });

  app.post('/introspect', async (request, reply) => {
    const body = await introspectEndpoint(formRequest(request), ctx);
    return reply.headers(NO_STORE).type('application/json').send(body);
  });

  app.get('/revocations', async (request, reply) => {
    await feedCaller(request, ctx);
    const since = cursor((request.query as Record<string, unknown>).since);
    const rows = await ctx.stores.revocations.deniedSince(since, ctx.now(), 5000);
    const next = rows.length ? rows.at(-1)!.revokedAtMs : Math.max(since, Date.now() - 1000);
    return reply.headers(NO_STORE).send({ revocations: rows.map(wire), cursor: String(next) });
  });

  app.get('/revocations/stream', async (request, reply) => {
    const clientId = await feedCaller(request, ctx);
    const lastId = request.headers['last-event-id'];
    const since = cursor(Array.isArray(lastId) ? lastId[0] : lastId ?? (request.query as Record<string, unknown>).since);
    const backlog = since > 0 ? await ctx.stores.revocations.deniedSince(since, ctx.now(), 5000) : [];

    if ((perClient.get(clientId) ?? 0) >= MAX_STREAMS_PER_CLIENT) {
      throw new TooManyRequests('too many open revocation streams for this client', { retryAfter: 5 });
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (entries: DeniedToken[]) => {
      for (const e of entries) res.write(`id: ${e.revokedAtMs}\nevent: revoked\ndata: ${JSON.stringify(wire(e))}\n\n`);
    };
    res.write(': tessera revocation feed\n\n');
    send(backlog);
    const unsubscribe = hub.subscribe(send);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    const stop = () => {
      clearInterval(heartbeat);
      unsubscribe();
      if (streams.delete(end)) perClient.set(clientId, (perClient.get(clientId) ?? 1) - 1);
    };
    const end = () => {
      stop();
      res.end();
    };
    streams.add(end);
    perClient.set(clientId, (perClient.get(clientId) ?? 0) + 1);
    request.raw.on('close', stop);
  });
}
