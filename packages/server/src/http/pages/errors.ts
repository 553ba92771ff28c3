import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthError } from '@tessera/protocol';
import { AuthorizationError } from '../../engine/authorize/errors.js';
import { toOAuthError } from '../errors.js';
import { sendPage } from './render.js';

/** Thrown by page routes for a forbidden form post (CSRF, A16): 403 page. */
export class Forbidden extends Error {
  constructor(readonly reason: string) {
    super('the form could not be verified');
  }
}

/**
 * The error translator for browser-facing routes: an HTML page, never a redirect (the caller redirects
 * only for errors whose redirect URI was verified). Dependency failures fail closed with 503.
 */
export function sendErrorPage(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof Forbidden) {
    request.log.info({ reason: err.reason }, 'form post rejected');
    return sendPage(reply, 'error', {
      title: 'Request blocked',
      heading: 'This form has expired',
      message: 'The form could not be verified. Go back to the application and start signing in again.',
      code: undefined,
    }, { status: 403 });
  }
  const e: OAuthError = err instanceof AuthorizationError ? err.oauth : toOAuthError(err);
  if (e.status >= 500) request.log.error({ err: e.cause ?? e, code: e.error }, 'page request failed');
  else request.log.info({ code: e.error, reason: e.debug ?? e.description }, 'page request rejected');
  if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
  const status = e.status >= 500 ? e.status : e.status === 429 ? 429 : 400;
  return sendPage(reply, 'error', {
    title: 'Error',
    heading: status >= 500 ? 'Service unavailable' : 'The request could not be completed',
    message: sentence(e.description),
    code: e.error,
  }, { status });
}

/** Descriptions are lower-case fragments (they may start with a parameter name); end them with a stop. */
function sentence(s: string): string {
  return s.endsWith('.') ? s : `${s}.`;
}
