import { createVerifier, type Verifier } from './verifier.js';
import { extractBearer, type BearerOptions, type BearerRequest } from './bearer.js';
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
  /** RFC 9728: serve protected-resource metadata and name it in every challenge. */
  resourceMetadata?: ResourceMetadataOptions;
}

/** A shared verifier, or options to create one (which may include the HTTP options). */
export type AuthSource = Verifier | (VerifierOptions & HttpAuthOptions);

interface Context {
  realm: string;
  metadataUrl: string | undefined;
  log: ((f: AuthFailure) => void) | undefined;
}

/** Set by authentication, read by guards and error mapping; keyed by the framework's request object. */
const contexts = new WeakMap<object, Context>();

/** Maps an error to its response (the one mapping, {@link toHttpResponse}) and reports it to `log`. */
export function fail(key: object, req: BearerRequest, error: unknown): HttpErrorResponse {
  const c = contexts.get(key);
  const res = toHttpResponse(error, c?.realm ?? '', c?.metadataUrl);
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
  let metadata: ResourceMetadata | undefined;
  try {
    metadata = o.resourceMetadata ? resolveResourceMetadata(o.resourceMetadata, verifier, o.allowFormBody ? ['header', 'body'] : ['header']) : undefined;
  } catch (e) {
    if (owned) void verifier.close();
    throw e;
  }
  const ctx: Context = { realm: o.realm ?? verifier.audience[0]!, metadataUrl: metadata?.url, log: o.log };
  return {
    verifier,
    owned,
    metadata,
    async authenticate(key, req) {
      contexts.set(key, ctx);
      return verifier.verify(extractBearer(req, o));
    },
  };
}
