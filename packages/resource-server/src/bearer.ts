import { InvalidRequest, InvalidToken } from '@tessera/protocol';

/** No credentials at all: 401 whose challenge carries no error code (RFC 6750 §3.1). */
export class MissingToken extends InvalidToken {
  constructor() {
    super('an access token is required');
  }
}

/** The framework-free view of a request that bearer extraction needs. */
export interface BearerRequest {
  method: string;
  /** The request target as received (path and query), e.g. Express `originalUrl`, Fastify `url`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed body, if the framework parsed one. */
  body?: unknown;
  /** `http` or `https` as the framework sees it (DPoP `htu` without a configured origin). */
  protocol?: string;
}

export interface BearerOptions {
  /** Accept `access_token` in a POST `application/x-www-form-urlencoded` body (RFC 6750 §2.2). Default false. */
  allowFormBody?: boolean;
}

/** RFC 6750 §2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

const malformed = (debug: string) => new InvalidRequest('the access token is malformed', { debug });

function formToken(req: BearerRequest): unknown {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const body = req.body;
  if (req.method !== 'POST' || type !== 'application/x-www-form-urlencoded') return undefined;
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, 'access_token')) return undefined;
  return (body as Record<string, unknown>).access_token;
}

/**
 * Finds the bearer token (RFC 6750 §2): the `Authorization: Bearer` header (scheme case-insensitive),
 * or, if enabled, a POST form body. A query `access_token` is refused (RFC 9700 §2.3, OAuth 2.1 §5.1);
 * more than one method is `invalid_request` (RFC 6750 §2); none throws {@link MissingToken}.
 *
 * @example const token = extractBearer({ method: 'GET', url: '/orders', headers: { authorization: 'Bearer abc' } });
 */
export function extractBearer(req: BearerRequest, options: BearerOptions = {}): string {
  const q = req.url.indexOf('?');
  const inQuery = q >= 0 && new URLSearchParams(req.url.slice(q + 1)).has('access_token');
  const header = req.headers.authorization;
  if (Array.isArray(header)) throw malformed('several Authorization headers');
  const space = header?.indexOf(' ') ?? -1;
  const isBearer = header !== undefined && header.slice(0, space < 0 ? undefined : space).toLowerCase() === 'bearer';
  const form = options.allowFormBody ? formToken(req) : undefined;
  const methods = Number(inQuery) + Number(isBearer) + Number(form !== undefined);
  if (methods > 1) throw new InvalidRequest('more than one method was used to send the access token');
  if (inQuery) throw new InvalidRequest('access tokens are not accepted in the query string');
  if (isBearer) {
    const token = space < 0 ? '' : header!.slice(space + 1).trim();
    if (!B64TOKEN.test(token)) throw malformed('Authorization Bearer value is not a b64token');
    return token;
  }
  if (form !== undefined) {
    if (typeof form !== 'string' || !B64TOKEN.test(form)) throw malformed('form access_token is not a single b64token');
    return form;
  }
  throw new MissingToken();
}
