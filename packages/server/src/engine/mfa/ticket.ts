import { timingSafeEqual } from 'node:crypto';
import type { SecretBox } from '../keys/secret-box.js';

/** How long the code page may be left open after the password was accepted. */
const TICKET_TTL = 5 * 60;

/**
 * The state between the password and the code page: `sub.issuedAt.mac`, an HMAC binding the user to
 * the browser cookie and the interaction, so no session exists until the second factor is proven and
 * the ticket is useless in another browser or for another authorization request.
 */
export class SecondStepTickets {
  constructor(
    private readonly box: SecretBox,
    private readonly now: () => number,
  ) {}

  issue(sub: string, browser: string, interactionId: string): string {
    const at = this.now();
    return `${sub}.${at}.${this.#mac(sub, at, browser, interactionId)}`;
  }

  /** The user the ticket was issued for, or undefined (forged, foreign, expired). */
  verify(ticket: string | undefined, browser: string, interactionId: string): string | undefined {
    if (ticket === undefined || ticket.length > 200) return undefined;
    const m = /^(usr_[A-Za-z0-9_-]{1,80})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(ticket);
    if (!m) return undefined;
    const [, sub, issued, mac] = m as unknown as [string, string, string, string];
    const at = Number(issued);
    if (at + TICKET_TTL <= this.now() || at > this.now() + 60) return undefined;
    const expected = Buffer.from(this.#mac(sub, at, browser, interactionId));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected) ? sub : undefined;
  }

  #mac(sub: string, at: number, browser: string, interactionId: string): string {
    return this.box.mac('mfa-ticket', [sub, String(at), browser, interactionId].join('\u0000'));
  }
}
