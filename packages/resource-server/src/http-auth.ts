import { createVerifier, type Verifier } from './verifier.js';
import { InvalidRequest } from '@tessera/protocol';
import { extractBearer, type BearerOptions, type BearerRequest } from './bearer.js';
import { DpopChecker } from './dpop/checker.js';
import { resolveDpopOptions, type DpopOptions } from './dpop/options.js';
import { toHttpResponse, type HttpErrorResponse } from './http-error.js';
import type { Guard } from './guards.js';
import type { AuthResult } from './claims.js';
import type { VerifierOptions } from './options.js';
import { resolveResourceMetadata, type ResourceMetadata, type ResourceMetadataOptions } from './resource-metadata.js';

/** What a failed authentication tells the operator's log. Never contains the token. */
export interface AuthFailure {
  status: number;
  error: string;
  /** The operator-only reason (`OAuthError.debug`). */
  debug: string | undefined;
  method: string;
  /** Path without the query string. */
  path: string;
}

/** HTTP-level options shared by the Express and Fastify adapters. */
export interface HttpAuthOptions extends BearerOptions {
  /** `realm` of the `WWW-Authenticate` challenge (RFC 6750 §3); defaults to the first audience. */
  realm?: string;
  /** Called for each rejected request, e.g. to log `debug`. */
  log?: (failure: AuthFailure) => void;
  /** DPoP-bound tokens (RFC 9449 §7); they are accepted and checked even without these options. */
  dpop?: DpopOptions;
  /** RFC 9728: serve protected-resource metadata and name it in every challenge. */
  resourceMetadata?: ResourceMetadataOptions;
}

/** A shared verifier, or options to create one (which may include the HTTP options). */
export type AuthSource = Verifier | (VerifierOptions & HttpAuthOptions);

interface Context {
  realm: string;
  metadataUrl: string | undefined;
  log: ((f: AuthFailure) => void) | undefined;
  dpop: DpopChecker;
}

/** Set by authentication, read by guards and error mapping; keyed by the framework's request object. */
const contexts = new WeakMap<object, Context>();
/** Requests that came with `Authorization: DPoP`: their errors carry a DPoP challenge (RFC 9449 §7.1). */
const dpopRequests = new WeakSet<object>();

/** Maps an error to its response (the one mapping, {@link toHttpResponse}) and reports it to `log`. */
export function fail(key: object, req: BearerRequest, error: unknown): HttpErrorResponse {
  const c = contexts.get(key);
  const dpop = c && (dpopRequests.has(key) || c.dpop.config.required) ? { algs: c.dpop.algs } : undefined;
  const res = toHttpResponse(error, c?.realm ?? '', dpop, c?.metadataUrl);
  const debug = (error as { debug?: string } | null)?.debug ?? (error instanceof Error && res.status === 500 ? error.message : undefined);
  c?.log?.({ status: res.status, error: res.body.error, debug, method: req.method, path: req.url.split('?')[0]! });
  return res;
}

/** Runs a route guard; a guard on a route without authentication fails closed with 500. */
export function runGuard(key: object, req: BearerRequest, auth: AuthResult | null | undefined, check: Guard): HttpErrorResponse | undefined {
  try {
    if (!contexts.has(key)) throw new TypeError('route guard used on a route without authentication');
    check(auth);
    return undefined;
  } catch (e) {
    return fail(key, req, e);
  }
}

/** The framework-free pipeline an adapter wraps: remember context, extract the bearer token, verify. */
export interface HttpAuth {
  verifier: Verifier;
  /** True when this pipeline created the verifier (so the adapter closes it). */
  owned: boolean;
  /** RFC 9728 metadata, when configured. */
  metadata: ResourceMetadata | undefined;
  authenticate(key: object, req: BearerRequest): Promise<AuthResult>;
}

export function createHttpAuth(source: AuthSource, http: HttpAuthOptions = {}): HttpAuth {
  const owned = typeof (source as Verifier).verify !== 'function';
  const verifier = owned ? createVerifier(source as VerifierOptions) : (source as Verifier);
  const o: HttpAuthOptions = owned ? { ...(source as HttpAuthOptions), ...http } : http;
  const problems: string[] = [];
  const dpopConfig = resolveDpopOptions(o.dpop, problems);
  if (problems.length) throw new TypeError(`invalid resource-server options: ${problems.join('; ')}`);
  const dpop = new DpopChecker(dpopConfig, 5);
  let metadata: ResourceMetadata | undefined;
  try {
    metadata = o.resourceMetadata ? resolveResourceMetadata(o.resourceMetadata, verifier, o.allowFormBody ? ['header', 'body'] : ['header']) : undefined;
  } catch (e) {
    if (owned) void verifier.close();
    throw e;
  }
  const ctx: Context = { realm: o.realm ?? verifier.audience[0]!, metadataUrl: metadata?.url, log: o.log, dpop };
  return {
    verifier,
    owned,
    metadata,
    async authenticate(key, req) {
      contexts.set(key, ctx);
      const header = req.headers.authorization;
      if (typeof header === 'string' && header.length > 5 && header.slice(0, 5).toLowerCase() === 'dpop ') {
        dpopRequests.add(key);
        const token = extractDpop(req, header, o);
        const result = await verifier.verify(token);
        await dpop.checkProof(req, token, result.claims);
        return result;
      }
      // The repeated-token fast path: a cached verification plus one own-property read.
      const result = await verifier.verify(extractBearer(req, o));
      dpop.checkBearer(result.claims);
      return result;
    },
  };
}

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** RFC 9449 §7.1: `Authorization: DPoP <token>`; with a query or form token as well it is `invalid_request`. */
function extractDpop(req: BearerRequest, header: string, o: HttpAuthOptions): string {
  const q = req.url.indexOf('?');
  if (q >= 0 && new URLSearchParams(req.url.slice(q + 1)).has('access_token')) throw new InvalidRequest('more than one method was used to send the access token');
  if (o.allowFormBody && req.method === 'POST' && typeof req.body === 'object' && req.body !== null && Object.hasOwn(req.body, 'access_token')) {
    throw new InvalidRequest('more than one method was used to send the access token');
  }
  const token = header.slice(5).trim();
  if (!B64TOKEN.test(token)) throw new InvalidRequest('the access token is malformed', { debug: 'Authorization DPoP value is not a b64token' });
  return token;
}
