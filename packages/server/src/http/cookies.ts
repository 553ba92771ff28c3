import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CookieSerializeOptions } from '@fastify/cookie';
import { randomToken } from '../engine/sessions/secrets.js';

/**
 * Tessera's browser cookies, all HttpOnly and SameSite=Lax (a cross-site POST arrives without
 * them). With an https issuer they are Secure and use the `__Host-` prefix (RFC 6265bis §4.1.3.2: no
 * Domain, Path=/, Secure), so a sibling sub-domain cannot plant or shadow them.
 * - browser: a random id naming this browser, binding pending sign-ins and CSRF tokens to it;
 * - session: the signed-in session (server-side, see SessionManager);
 * - device: signed entries naming the accounts this browser signed in to (LoginThrottle device cookies),
 *   kept across sessions and logouts so a known browser passes the per-account sign-in limits.
 */
export class Cookies {
  readonly secure: boolean;
  readonly browserName: string;
  readonly sessionName: string;
  readonly deviceName: string;

  constructor(issuer: string) {
    this.secure = new URL(issuer).protocol === 'https:';
    const prefix = this.secure ? '__Host-' : '';
    this.browserName = `${prefix}tessera-browser`;
    this.sessionName = `${prefix}tessera-session`;
    this.deviceName = `${prefix}tessera-device`;
  }

  /** The browser id, set now when the browser has none (or an ill-formed one). */
  browser(request: FastifyRequest, reply: FastifyReply): string {
    const current = request.cookies[this.browserName];
    if (current !== undefined && /^[A-Za-z0-9_-]{43}$/.test(current)) return current;
    const id = randomToken();
    reply.setCookie(this.browserName, id, this.#options());
    return id;
  }

  existingBrowser(request: FastifyRequest): string | undefined {
    return request.cookies[this.browserName];
  }

  session(request: FastifyRequest): string | undefined {
    return request.cookies[this.sessionName];
  }

  setSession(reply: FastifyReply, value: string, maxAge: number): void {
    reply.setCookie(this.sessionName, value, { ...this.#options(), maxAge });
  }

  device(request: FastifyRequest): string | undefined {
    return request.cookies[this.deviceName];
  }

  setDevice(reply: FastifyReply, value: string, maxAge: number): void {
    reply.setCookie(this.deviceName, value, { ...this.#options(), maxAge });
  }

  clearSession(reply: FastifyReply): void {
    reply.clearCookie(this.sessionName, this.#options());
  }

  #options(): CookieSerializeOptions {
    return { path: '/', httpOnly: true, sameSite: 'lax', secure: this.secure };
  }
}
