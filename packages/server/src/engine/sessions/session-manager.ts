import type { Session, SessionStore } from '../../storage/stores.js';
import { isRandomToken, randomToken, sha256 } from './secrets.js';

export interface SessionSettings {
  /** Absolute lifetime in seconds. */
  ttl: number;
  /** Ends after this many seconds without use. */
  idleTtl: number;
}

/** Only refresh `last_seen_at` when it is this stale, so page views do not all write. */
const TOUCH_EVERY = 60;

/**
 * Browser sessions at Tessera's own pages (issue 3 §4): the cookie holds a 256-bit random id, the
 * database holds its SHA-256 with the user, auth time and expiry, so a session survives restarts, is
 * shared by every instance, and can be ended server-side. A login always creates a new id (no fixation).
 */
export class SessionManager {
  constructor(
    private readonly store: SessionStore,
    private readonly settings: SessionSettings,
    private readonly now: () => number,
  ) {}

  /** Starts a session, ending `previous` (the id is rotated at every login). */
  async create(sub: string, previous: string | undefined, amr: readonly string[] = ['pwd']): Promise<{ cookie: string; session: Session; maxAge: number }> {
    if (isRandomToken(previous)) await this.store.delete(sha256(previous));
    const cookie = randomToken();
    const now = this.now();
    const session: Session = {
      idHash: sha256(cookie),
      sid: randomToken(),
      sub,
      authTime: now,
      amr: [...amr],
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.settings.ttl,
    };
    await this.store.insert(session);
    return { cookie, session, maxAge: this.settings.ttl };
  }

  /** The live session for a cookie value, or undefined (expired, idle too long, ended, or unknown). */
  async load(cookie: string | undefined): Promise<Session | undefined> {
    if (!isRandomToken(cookie)) return undefined;
    const session = await this.store.get(sha256(cookie));
    if (!session) return undefined;
    const now = this.now();
    if (session.expiresAt <= now || session.lastSeenAt + this.settings.idleTtl <= now) {
      await this.store.delete(session.idHash);
      return undefined;
    }
    if (now - session.lastSeenAt >= TOUCH_EVERY) await this.store.touch(session.idHash, now);
    return session;
  }

  /** Step-up inside a session: the user proved `amr` now (e.g. confirmed a TOTP enrolment). */
  async upgrade(session: Session, amr: readonly string[]): Promise<void> {
    await this.store.upgrade(session.idHash, [...amr], this.now());
  }

  async end(cookie: string | undefined): Promise<void> {
    if (isRandomToken(cookie)) await this.store.delete(sha256(cookie));
  }

  purgeExpired(): Promise<number> {
    const now = this.now();
    return this.store.purgeExpired(now - this.settings.idleTtl, now);
  }
}
