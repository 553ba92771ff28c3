import { InvalidToken, TemporarilyUnavailable } from '@tessera/protocol';
import { basicAuth, fetchJson, isObject } from '../http-client.js';

export interface IntrospectionOptions {
  url: string;
  clientId: string;
  clientSecret: string;
  cacheSeconds: number;
  fetch: typeof fetch;
}

const MAX_ENTRIES = 10_000;

/**
 * RFC 7662 online check. `active:false` → InvalidToken; an unreachable AS → 503 (fail closed).
 * An `active:true` answer is reused for `cacheSeconds`, never past the token's `exp` (RFC 7662 §4).
 */
export class Introspector {
  private readonly activeUntil = new Map<string, number>();
  private readonly auth: string;
  constructor(private readonly o: IntrospectionOptions) {
    this.auth = basicAuth(o.clientId, o.clientSecret);
  }

  async check(token: string, exp: number): Promise<void> {
    const now = Date.now();
    const until = this.activeUntil.get(token);
    if (until !== undefined && now < until) return;
    this.activeUntil.delete(token);
    let body: unknown;
    try {
      body = await fetchJson(this.o.fetch, this.o.url, {
        method: 'POST',
        headers: { authorization: this.auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      });
    } catch (e) {
      throw new TemporarilyUnavailable('token status is temporarily unavailable', { retryAfter: 5, debug: `introspection failed: ${String(e)}` });
    }
    if (!isObject(body) || body.active !== true) throw new InvalidToken('the access token is not active', { debug: 'introspection answered active:false' });
    if (this.activeUntil.size >= MAX_ENTRIES) this.activeUntil.delete(this.activeUntil.keys().next().value as string);
    this.activeUntil.set(token, Math.min(now + this.o.cacheSeconds * 1000, exp * 1000));
  }
}
