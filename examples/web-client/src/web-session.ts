import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfMatches, type Session, type SessionStore } from './sessions.js';

/** Thrown for a form post that fails the CSRF checks: a 403 page. */
export class Forbidden extends Error {}

/**
 * The browser's session: an HttpOnly, SameSite=Lax cookie holding only a random id (the tokens stay
 * on the server). On https the `__Host-` prefix pins it to this origin.
 */
export class WebSessions {
  readonly #cookie: string;
  readonly #secure: boolean;
  readonly #origin: string;

  constructor(readonly store: SessionStore, baseUrl: string) {
    const url = new URL(baseUrl);
    this.#secure = url.protocol === 'https:';
    this.#cookie = `${this.#secure ? '__Host-' : ''}tessera-demo-client`;
    this.#origin = url.origin;
  }

  current(request: FastifyRequest): Session | undefined {
    return this.store.get(request.cookies[this.#cookie]);
  }

  /** The current session, or a new one (with its cookie set). */
  ensure(request: FastifyRequest, reply: FastifyReply): Session {
    return this.current(request) ?? this.issue(reply, this.store.create());
  }

  /** Sets the cookie for `session` (after create or rotate). */
  issue(reply: FastifyReply, session: Session): Session {
    reply.setCookie(this.#cookie, session.id, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.#secure, maxAge: 3600 });
    return session;
  }

  end(reply: FastifyReply, session: Session): void {
    this.store.delete(session);
    reply.clearCookie(this.#cookie, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.#secure });
  }

  /**
   * The session of a form post, after the CSRF defences: Fetch Metadata and Origin must not name
   * another site (`Origin: null` is what a no-referrer page sends, so then the token alone decides),
   * and the form's `csrf` field must equal the session's token.
   */
  forForm(request: FastifyRequest): Session {
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new Forbidden('cross-site form post');
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== 'null' && origin !== this.#origin) throw new Forbidden('foreign Origin');
    const session = this.current(request);
    const body = request.body as Record<string, string> | undefined;
    if (!session || !csrfMatches(session, body?.csrf)) throw new Forbidden('missing or wrong CSRF token');
    return session;
  }
}
