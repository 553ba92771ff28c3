import { LRUCache } from 'lru-cache';
import type { AuthResult } from './claims.js';

interface Entry {
  result: AuthResult;
  jti: string;
  /** ms epoch of `exp`: the entry is never served at or after it. */
  expiresAt: number;
}

/**
 * Bounded LRU (`lru-cache`) of verified results keyed by the *whole* token string (header, payload
 * and signature), so two tokens that differ only in their signature can never share an entry. Expiry
 * is judged against the caller's clock (`exp` of the token), not a TTL of the cache's own.
 */
export class ResultCache {
  private readonly lru: LRUCache<string, Entry> | undefined;
  constructor(max: number) {
    // lru-cache needs a positive bound; 0 means no caching at all.
    this.lru = max > 0 ? new LRUCache<string, Entry>({ max }) : undefined;
  }

  get(token: string, nowMs: number): Entry | undefined {
    const e = this.lru?.get(token);
    if (!e) return undefined;
    if (nowMs >= e.expiresAt) {
      this.lru!.delete(token);
      return undefined;
    }
    return e;
  }

  set(token: string, entry: Entry): void {
    this.lru?.set(token, entry);
  }

  /** Drops every entry for a revoked `jti` (revocations are rare; a scan is fine). */
  dropJti(jti: string): void {
    if (!this.lru) return;
    const keys: string[] = [];
    for (const [k, e] of this.lru.entries()) if (e.jti === jti) keys.push(k);
    for (const k of keys) this.lru.delete(k);
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }
}
