import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Timeline, type Exchange } from './timeline.js';

/** Tokens held for the browser, server-side only: the browser gets a session cookie, never a token. */
export interface Tokens {
  accessToken: string;
  refreshToken: string | undefined;
  idToken: string | undefined;
  /** Epoch seconds. */
  expiresAt: number | undefined;
  scope: string | undefined;
}

/** From /userinfo at sign-in. */
export interface Profile {
  name: string | undefined;
  email: string | undefined;
}

/** What the last button press did, shown in the "Result" panel. */
export interface ActionResult {
  title: string;
  /** One sentence explaining what happened and why. */
  note: string;
  exchanges: Exchange[];
}

export interface Session {
  id: string;
  /** Bound to the session; every form carries it (CSRF). */
  csrf: string;
  lastSeen: number;
  /** A sign-in in progress: the values the callback must match (PKCE, nonce, state). */
  pending: { state: string; nonce: string; verifier: string } | undefined;
  /** `state` of an RP-initiated logout in progress. */
  logoutState: string | undefined;
  tokens: Tokens | undefined;
  profile: Profile | undefined;
  /** The refresh token the last rotation replaced, kept to demonstrate reuse detection. */
  previousRefreshToken: string | undefined;
  /** Logged out at Tessera; the old tokens are kept only to show they no longer work. */
  signedOut: boolean;
  result: ActionResult | undefined;
  lastOrderId: number | undefined;
  timeline: Timeline;
}

const IDLE_MS = 60 * 60 * 1000;
const MAX_SESSIONS = 1000;

export const newSecret = (): string => randomBytes(32).toString('base64url');

/** In-memory sessions keyed by a 256-bit random id (a demo: they end with the process). */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    if (Date.now() - s.lastSeen > IDLE_MS) {
      this.#sessions.delete(id);
      return undefined;
    }
    s.lastSeen = Date.now();
    return s;
  }

  create(): Session {
    this.#sweep();
    const s: Session = {
      id: newSecret(), csrf: newSecret(), lastSeen: Date.now(), pending: undefined, logoutState: undefined, tokens: undefined, profile: undefined,
      previousRefreshToken: undefined, signedOut: false, result: undefined, lastOrderId: undefined, timeline: new Timeline(),
    };
    this.#sessions.set(s.id, s);
    return s;
  }

  /** A new id (and CSRF token) for the same session: done at sign-in, against session fixation. */
  rotate(s: Session): Session {
    this.#sessions.delete(s.id);
    s.id = newSecret();
    s.csrf = newSecret();
    this.#sessions.set(s.id, s);
    return s;
  }

  delete(s: Session): void {
    this.#sessions.delete(s.id);
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, s] of this.#sessions) if (now - s.lastSeen > IDLE_MS) this.#sessions.delete(id);
    while (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
  }
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfMatches(session: Session, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const a = Buffer.from(submitted);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}
