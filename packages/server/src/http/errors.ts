import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { challenge, InvalidClient, InvalidRequest, OAuthError, ServerError, TemporarilyUnavailable, UseDpopNonce } from '@tessera/protocol';

// Network errors; PostgreSQL SQLSTATE classes 08 (connection), 57P (shutdown, idle-session timeouts),
// 57014 (statement_timeout), 25P03 (idle_in_transaction_session_timeout), 53300 (too many connections).
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH',
  '57P01', '57P02', '57P03', '57P05', '57014', '25P03', '08000', '08001', '08003', '08004', '08006', '53300',
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_FULL', 'SQLITE_READONLY',
]);

/** True for errors meaning a dependency (database, Redis) is unreachable: answer 503, fail closed. */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'string' && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith('SQLITE_IOERR'))) return true;
  // pg reports a dropped or timed-out connection by message only ("Connection terminated unexpectedly",
  // "Connection terminated due to connection timeout", "Query read timeout", "… is not queryable").
  return typeof e?.message === 'string' && /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Query read timeout|not queryable|database connection|driver has already been destroyed|connection is not open/i.test(e.message);
}

const ENCODING_CODES = new Set(['22021', '22P05']);

function isEncodingError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && ENCODING_CODES.has(code);
}

/** Maps anything thrown into an OAuthError; the original is kept for the log only. */
export function toOAuthError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  if (isUnavailable(err)) return new TemporarilyUnavailable('the service is temporarily unavailable', { retryAfter: 5, cause: err });
  // Defence in depth behind the input boundary: text PostgreSQL cannot store (NUL: 22021
  // character_not_in_repertoire, 22P05 untranslatable_character) is the request's fault, not ours.
  if (isEncodingError(err)) return new InvalidRequest('the request holds characters that cannot be processed', { debug: (err as { code: string }).code });
  const fe = err as Partial<FastifyError>;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new TooLarge('the request body is too large');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new InvalidRequest('the request could not be parsed', { debug: fe.code ?? fe.message });
  }
  return new ServerError('internal error', { cause: err });
}

class TooLarge extends InvalidRequest {
  override readonly status = 413;
}

/**
 * The one place an error becomes HTTP for the back-channel endpoints: RFC 6749 §5.2 JSON,
 * `Cache-Control: no-store`, 401 + `WWW-Authenticate: Basic` for client authentication,
 * `Retry-After` for 429/503. The client sees only the safe description.
 */
export function sendOAuthError(err: unknown, request: FastifyRequest, reply: FastifyReply, realm: string, observe?: (code: string) => void): FastifyReply {
  const e = toOAuthError(err);
  observe?.(e.error);
  if (e.status >= 500) request.log.error({ err: e.cause ?? e, code: e.error }, 'request failed');
  else request.log.info({ code: e.error, reason: e.debug ?? e.description }, 'request rejected');
  reply.code(e.status).header('cache-control', 'no-store').header('pragma', 'no-cache');
  if (e instanceof InvalidClient) reply.header('www-authenticate', challenge('Basic', { realm }));
  if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
  // RFC 9449 §8: the nonce the client must put in its next proof.
  if (e instanceof UseDpopNonce) reply.header('dpop-nonce', e.nonce);
  return reply.type('application/json').send(e.toJSON());
}
