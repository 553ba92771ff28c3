import { createLocalJWKSet, createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import type { Client } from '../../storage/stores.js';

/** A client's JWKS document may be at most this large (bytes). */
export const MAX_JWKS_BYTES = 64 * 1024;
const MAX_CACHED = 1000;

export interface ClientKeyOptions {
  /** Production refuses anything but https (outside it, http://127.0.0.1 and localhost serve tests). */
  production: boolean;
  /** Per fetch of a jwks_uri (ms). */
  timeoutMs?: number;
  /** How long a fetched JWKS is used before it is fetched again (ms). */
  cacheMaxAgeMs?: number;
  /** An unknown `kid` refetches once, but not again within this time (ms): random kids cannot make us a fetch loop. */
  cooldownMs?: number;
}

/** True when a jwks_uri may be fetched: https, or (outside production) http on the loopback interface. */
export function jwksUriAllowed(uri: string, production: boolean): boolean {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  if (u.username || u.password || u.hash) return false;
  if (u.protocol === 'https:') return true;
  return !production && u.protocol === 'http:' && (u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]');
}

/**
 * The public keys of `private_key_jwt` clients (OIDC Core §9, §10.1.1): inline `jwks`, or `jwksUri`
 * fetched with jose's remote JWK Set (timeout, cache, one refetch on an unknown `kid` with a cooldown),
 * no redirects, and a size cap. Resolvers are cached per client and replaced when the client changes.
 */
export class ClientKeys {
  readonly #cache = new Map<string, { version: string; get: JWTVerifyGetKey }>();
  readonly #opts: Required<ClientKeyOptions>;

  constructor(options: ClientKeyOptions) {
    this.#opts = { timeoutMs: 3000, cacheMaxAgeMs: 10 * 60_000, cooldownMs: 30_000, ...options };
  }

  /** The key resolver for this client, or undefined when it has no keys. */
  resolver(client: Client): JWTVerifyGetKey | undefined {
    const version = `${client.updatedAt}|${client.jwksUri ?? ''}|${client.jwks ? JSON.stringify(client.jwks) : ''}`;
    const hit = this.#cache.get(client.id);
    if (hit && hit.version === version) return hit.get;
    const get = this.#build(client);
    if (!get) return undefined;
    if (this.#cache.size >= MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(client.id, { version, get });
    return get;
  }

  #build(client: Client): JWTVerifyGetKey | undefined {
    if (client.jwks) return createLocalJWKSet(client.jwks as Parameters<typeof createLocalJWKSet>[0]);
    if (client.jwksUri && jwksUriAllowed(client.jwksUri, this.#opts.production)) {
      return createRemoteJWKSet(new URL(client.jwksUri), {
        timeoutDuration: this.#opts.timeoutMs,
        cacheMaxAge: this.#opts.cacheMaxAgeMs,
        cooldownDuration: this.#opts.cooldownMs,
        [customFetch]: cappedFetch,
      });
    }
    return undefined;
  }
}

/** fetch without redirects that refuses a body over MAX_JWKS_BYTES (declared or actual). */
async function cappedFetch(url: string, init: RequestInit): Promise<Response> {
  const res = await fetch(url, { ...init, redirect: 'manual' });
  if (res.status !== 200) {
    await res.body?.cancel();
    return new Response(null, { status: res.status });
  }
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_JWKS_BYTES) {
    await res.body?.cancel();
    throw new Error('jwks_uri response too large');
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_JWKS_BYTES) {
        await reader.cancel();
        throw new Error('jwks_uri response too large');
      }
      chunks.push(value);
    }
  }
  return new Response(Buffer.concat(chunks), { status: res.status, headers: res.headers });
}
