import type { AuthResult } from './claims.js';

interface Entry {
  result: AuthResult;
  jti: string;
  /** ms epoch of `exp`: the entry is never served at or after it. */
  expiresAt: number;
}

/**
 * Bounded LRU of verified results keyed by the *whole* token string (header, payload and signature),
 * so two tokens that differ only in their signature can never share an entry.
 */
export class ResultCache {
  private readonly map = new Map<string, Entry>();
  constructor(private readonly max: number) {}

  get(token: string, nowMs: number): Entry | undefined {
    const e = this.map.get(token);
    if (!e) return undefined;
    this.map.delete(token);
    if (nowMs >= e.expiresAt) return undefined;
    this.map.set(token, e);
    return e;
  }

  set(token: string, entry: Entry): void {
    if (this.max === 0) return;
    this.map.delete(token);
    this.map.set(token, entry);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }

  /** Drops every entry for a revoked `jti` (revocations are rare; a scan is fine). */
  dropJti(jti: string): void {
    for (const [k, e] of this.map) if (e.jti === jti) this.map.delete(k);
  }

  get size(): number {
    return this.map.size;
  }
}
