import { ConsentRequired, LoginRequired } from '@tessera/protocol';
import type { Client, Interaction, Session } from '../../storage/stores.js';
import type { AuthorizationRequest } from './request.js';

export type Decision = { next: 'login' } | { next: 'consent' } | { next: 'issue'; session: Session };

/**
 * What an authorization request needs next (OIDC Core §3.1.2.3–3.1.2.4): a sign-in when there is no
 * session, when `prompt=login`/`select_account` asks for one, or when the session is older than
 * `max_age`; then consent unless the client is first-party or the user already granted these scopes
 * (`prompt=consent` always asks). With `prompt=none` either need is an error, never a page (A15).
 */
export function decide(
  request: AuthorizationRequest,
  client: Client,
  session: Session | undefined,
  interaction: Interaction | undefined,
  consented: string[],
  now: number,
): Decision {
  const freshLogin = interaction?.loginSub !== undefined && session?.sub === interaction.loginSub;
  const reauth = request.prompt.includes('login') || request.prompt.includes('select_account');
  // max_age=0 asks for a fresh sign-in (like prompt=login); otherwise only older sessions are redone.
  const tooOld = session !== undefined && request.maxAge !== undefined && (request.maxAge === 0 || now - session.authTime > request.maxAge);
  if (!session || (!freshLogin && (reauth || tooOld))) {
    if (request.prompt.includes('none')) throw new LoginRequired('the user is not signed in');
    return { next: 'login' };
  }
  const granted = request.scopes.every((s) => consented.includes(s));
  const needConsent = !interaction?.consented && (request.prompt.includes('consent') || (!client.firstParty && !granted));
  if (needConsent) {
    if (request.prompt.includes('none')) throw new ConsentRequired('the user has not approved this application');
    return { next: 'consent' };
  }
  return { next: 'issue', session };
}
