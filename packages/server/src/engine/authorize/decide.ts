import { ConsentRequired, LoginRequired } from '@tessera/protocol';
import type { Client, Interaction, Session } from '../../storage/stores.js';
import type { AuthorizationRequest } from './request.js';
import { amrOf } from '../mfa/policy.js';

export type Decision = { next: 'login' } | { next: 'enrol' } | { next: 'consent' } | { next: 'issue'; session: Session };

/** The user's second-factor situation (issue 15): a policy demands one, and/or the user has one. */
export interface MfaState {
  required: boolean;
  enrolled: boolean;
}

/**
 * What an authorization request needs next (OIDC Core §3.1.2.3–3.1.2.4): a sign-in when there is no
 * session, when `prompt=login`/`select_account` asks for one, or when the session is older than
 * `max_age`; then consent unless the client is first-party or the user already granted these scopes
 * (`prompt=consent` always asks). A user with a second factor, or one a policy requires it of, needs a
 * session that used it: else a new sign-in (enrolled) or the enrolment page (not yet enrolled).
 * With `prompt=none` any of these needs is an error, never a page (A15).
 */
export function decide(
  request: AuthorizationRequest,
  client: Client,
  session: Session | undefined,
  interaction: Interaction | undefined,
  consented: string[],
  now: number,
  mfa: MfaState = { required: false, enrolled: false },
): Decision {
  const freshLogin = interaction?.loginSub !== undefined && session?.sub === interaction.loginSub;
  const reauth = request.prompt.includes('login') || request.prompt.includes('select_account');
  // max_age=0 asks for a fresh sign-in (like prompt=login); otherwise only older sessions are redone.
  const tooOld = session !== undefined && request.maxAge !== undefined && (request.maxAge === 0 || now - session.authTime > request.maxAge);
  if (!session || (!freshLogin && (reauth || tooOld))) {
    if (request.prompt.includes('none')) throw new LoginRequired('the user is not signed in');
    return { next: 'login' };
  }
  if ((mfa.required || mfa.enrolled) && !amrOf(session).includes('mfa')) {
    if (request.prompt.includes('none')) throw new LoginRequired('a sign-in with a second factor is required');
    return { next: mfa.enrolled ? 'login' : 'enrol' };
  }
  const granted = request.scopes.every((s) => consented.includes(s));
  const needConsent = !interaction?.consented && (request.prompt.includes('consent') || (!client.firstParty && !granted));
  if (needConsent) {
    if (request.prompt.includes('none')) throw new ConsentRequired('the user has not approved this application');
    return { next: 'consent' };
  }
  return { next: 'issue', session };
}
