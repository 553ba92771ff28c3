/**
 * The DPoP `jti` replay cache (RFC 9449 §11.1): a proof is accepted once within its window. Shared by
 * every instance — the database by default, Redis when configured — so a proof used at one instance is
 * refused at the next.
 */
export interface DpopReplayStore {
  /**
   * Records `id` (a hash of the proof key thumbprint and `jti`) until `expiresAt` (epoch seconds).
   * True only for the first caller; false when it was already recorded (a replay).
   */
  use(id: string, expiresAt: number, now: number): Promise<boolean>;
  /** Drops entries whose window has passed. */
  purgeExpired(now: number): Promise<number>;
  close?(): Promise<void>;
}
