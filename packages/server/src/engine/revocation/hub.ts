import type { DeniedToken, RevocationStore } from '../../storage/stores.js';

export type RevocationListener = (entries: DeniedToken[]) => void;

/** Revocations made on other instances arrive by polling; entries this far back are re-read (clock skew). */
const OVERLAP_MS = 5000;

/**
 * Fan-out of access-token revocations to feed subscribers (DESIGN.md §3). Revocations made by this
 * instance are pushed at once; those made by other instances sharing the database are found by a poll
 * of the denylist (≤ `pollMs`), and a messenger such as Redis pub/sub can `publish` them sooner.
 * Entries already delivered are not repeated.
 */
export class RevocationHub {
  readonly #listeners = new Set<RevocationListener>();
  readonly #seen = new Map<string, number>();
  #cursorMs: number;
  #timer: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(
    private readonly store: RevocationStore,
    private readonly pollMs: number,
    private readonly now: () => number,
    private readonly onError: (e: unknown) => void,
  ) {
    this.#cursorMs = Date.now();
  }

  subscribe(listener: RevocationListener): () => void {
    this.#listeners.add(listener);
    if (!this.#timer) {
      this.#cursorMs = Date.now() - OVERLAP_MS;
      this.#timer = setInterval(() => void this.poll(), this.pollMs);
      this.#timer.unref();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  /** Delivers entries not delivered before. */
  publish(entries: DeniedToken[]): void {
    const fresh = entries.filter((e) => !this.#seen.has(e.jti));
    if (!fresh.length) return;
    for (const e of fresh) this.#seen.set(e.jti, e.exp);
    for (const l of this.#listeners) l(fresh);
  }

  /** Reads the denylist for entries other instances added. */
  async poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const since = this.#cursorMs - OVERLAP_MS;
      const rows = await this.store.deniedSince(since, this.now(), 1000);
      const last = rows.at(-1);
      if (last) this.#cursorMs = Math.max(this.#cursorMs, last.revokedAtMs);
      this.publish(rows);
      const now = this.now();
      for (const [jti, exp] of this.#seen) if (exp < now) this.#seen.delete(jti);
    } catch (e) {
      this.onError(e);
    } finally {
      this.#polling = false;
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
  }
}
