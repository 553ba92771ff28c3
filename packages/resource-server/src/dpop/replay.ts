/**
 * The resource server's DPoP `jti` cache (RFC 9449 §11.1), in memory and bounded. Entries are kept until
 * their proof's window ends; they arrive in roughly expiry order, so expired ones are dropped from the
 * front. When full, the oldest live entry goes first: replaying *that* proof then needs `max` fresh
 * proofs to be accepted within one window.
 */
export class ReplayCache {
  readonly #seen = new Map<string, number>();
  constructor(private readonly max: number) {}

  /** True the first time `id` is seen within its window. */
  use(id: string, expiresAt: number, now: number): boolean {
    for (const [k, exp] of this.#seen) {
      if (exp >= now && this.#seen.size < this.max) break;
      this.#seen.delete(k);
    }
    const exp = this.#seen.get(id);
    if (exp !== undefined && exp >= now) return false;
    this.#seen.set(id, expiresAt);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }
}
