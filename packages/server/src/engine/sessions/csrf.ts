import { timingSafeEqual } from 'node:crypto';
import type { SecretBox } from '../keys/secret-box.js';

/**
 * Anti-CSRF tokens for Tessera's forms (SECURITY-CHECKLIST A16): an HMAC, under a key only the server
 * holds, of the browser cookie, the session (if any), the form's purpose and the interaction. A token is
 * therefore useless in another browser, after a login (the session id changes), and for another form.
 * The cookies are SameSite=Lax, so a cross-site POST arrives without them and fails the check.
 */
export class Csrf {
  constructor(private readonly box: SecretBox) {}

  token(purpose: string, browser: string, session: string | undefined, subject: string): string {
    return this.box.mac('csrf', [purpose, browser, session ?? '', subject].join('\u0000'));
  }

  verify(given: string | undefined, purpose: string, browser: string | undefined, session: string | undefined, subject: string): boolean {
    if (given === undefined || browser === undefined) return false;
    const expected = Buffer.from(this.token(purpose, browser, session, subject));
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}
