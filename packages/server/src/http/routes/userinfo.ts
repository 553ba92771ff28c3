import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { challenge, InvalidDpopProof, InvalidRequest, InvalidToken, InsufficientScope, UseDpopNonce } from '@tessera/protocol';
import type { PresentedToken } from '../../engine/dpop/binding.js';
import type { EngineContext } from '../../engine/context.js';
import { userinfo } from '../../engine/userinfo.js';
import { toOAuthError } from '../errors.js';
import { isForm } from './token.js';

/** No credentials at all: 401 with a bare challenge (RFC 6750 §3.1: no error code). */
class NoToken extends Error {}

/**
 * GET/POST /userinfo (OIDC Core §5.3) as an RFC 6750 protected resource: `Authorization: Bearer`
 * (scheme case-insensitive), or `access_token` in a POST form body (§2.2); never in the query (§2.3,
 * OAuth 2.1 §5.1); more than one method is `invalid_request`. Errors carry `WWW-Authenticate`.
 * A DPoP-bound token comes as `Authorization: DPoP` with a `DPoP` proof (RFC 9449 §7); errors of such
 * a request carry a `DPoP` challenge (§7.1), proof errors are 401 `invalid_dpop_proof` / `use_dpop_nonce`.
 */
export function userinfoRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const realm = ctx.config.issuer;
  const algs = ctx.dpop.settings.algorithms.join(' ');
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    let scheme: PresentedToken['scheme'] = 'Bearer';
    try {
      const presented = credentials(request, `${ctx.config.issuer}/userinfo`);
      scheme = presented.scheme;
      const claims = await userinfo(presented, ctx);
      const nonce = ctx.dpop.nonceHeader();
      if (nonce && scheme === 'DPoP') reply.header('dpop-nonce', nonce);
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').type('application/json').send(claims);
    } catch (err) {
      return sendError(err, request, reply, scheme);
    }
  };
  const sendError = (err: unknown, request: FastifyRequest, reply: FastifyReply, presentedScheme?: PresentedToken['scheme']) => {
    // Before the handler ran (a refused body), the scheme is read from the header alone.
    const scheme = presentedScheme ?? (/^dpop /i.test(request.headers.authorization ?? '') ? 'DPoP' : 'Bearer');
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    if (err instanceof NoToken) return reply.code(401).header('www-authenticate', challenge('Bearer', { realm })).send();
    const e = toOAuthError(err);
    if (e.status >= 500) request.log.error({ err: e.cause ?? e }, 'userinfo failed');
    else request.log.info({ code: e.error, reason: e.debug ?? e.description }, 'userinfo rejected');
    if (scheme === 'DPoP' && (e instanceof InvalidToken || e instanceof InsufficientScope || e instanceof InvalidRequest || e instanceof InvalidDpopProof || e instanceof UseDpopNonce)) {
      // RFC 9449 §7.1, §9: a DPoP challenge; proof errors are 401 at a protected resource.
      if (e instanceof UseDpopNonce) reply.header('dpop-nonce', e.nonce);
      reply.header('www-authenticate', challenge('DPoP', {
        algs,
        error: e.error,
        error_description: e.description,
        ...(e instanceof InsufficientScope && e.scope ? { scope: e.scope } : {}),
      }));
      const status = e instanceof InvalidDpopProof || e instanceof UseDpopNonce ? 401 : e.status;
      return reply.code(status).type('application/json').send(e.toJSON());
    }
    if (e instanceof InvalidToken || e instanceof InsufficientScope || e instanceof InvalidRequest) {
      reply.header('www-authenticate', challenge('Bearer', {
        realm,
        error: e.error,
        error_description: e.description,
        ...(e instanceof InsufficientScope && e.scope ? { scope: e.scope } : {}),
      }));
    }
    if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
    return reply.code(e.status).type('application/json').send(e.toJSON());
  };
  // A body the form parser refuses (NUL, not UTF-8, another charset) is answered the RFC 6750 way too.
  app.get('/userinfo', { errorHandler: (err, request, reply) => sendError(err, request, reply) }, handler);
  app.post('/userinfo', { errorHandler: (err, request, reply) => sendError(err, request, reply) }, handler);
}

/** The token and how it was sent: `Authorization: DPoP` (RFC 9449 §7.1) or a bearer method. */
function credentials(request: FastifyRequest, url: string): PresentedToken {
  const header = request.headers.authorization;
  if (header !== undefined && /^dpop /i.test(header)) {
    if (/[?&]access_token=/.test(request.url)) throw new InvalidRequest('access tokens are not accepted in the query string');
    const m = /^dpop +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
    if (!m) throw new InvalidToken('malformed Authorization header');
    return { token: m[1]!, scheme: 'DPoP', proof: { header: request.headers.dpop, method: request.method, url } };
  }
  return { token: bearer(request), scheme: 'Bearer' };
}

function bearer(request: FastifyRequest): string {
  if (/[?&]access_token=/.test(request.url)) throw new InvalidRequest('access tokens are not accepted in the query string');
  const header = request.headers.authorization;
  const body = request.method === 'POST' && isForm(request.headers['content-type']) ? (request.body as Record<string, unknown> | undefined)?.access_token : undefined;
  if (header !== undefined && body !== undefined) throw new InvalidRequest('more than one method of sending the access token');
  if (body !== undefined) {
    if (typeof body !== 'string') throw new InvalidRequest('access_token is repeated');
    return body;
  }
  if (header === undefined || !/^bearer /i.test(header)) throw new NoToken();
  const m = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!m) throw new InvalidToken('malformed Authorization header');
  return m[1]!;
}
