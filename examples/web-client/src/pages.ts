import type { FastifyInstance } from 'fastify';
import { describeError } from './errors.js';
import type { RelyingParty } from './relying-party.js';
import { sendPage } from './render.js';
import { tokensView } from './token-view.js';
import type { WebSessions } from './web-session.js';

export interface PageContext {
  issuer: string;
  clientId: string;
  ordersApi: string;
}

/** The one page (home) and the two places Tessera sends the browser back to: /callback and / after logout. */
export function pageRoutes(app: FastifyInstance, sessions: WebSessions, rp: RelyingParty, ctx: PageContext): void {
  const here = (url: string) => new URL(url, rp.postLogoutRedirectUri);

  app.get('/', async (request, reply) => {
    const s = sessions.ensure(request, reply);
    const state = here(request.url).searchParams.get('state');
    if (state !== null && s.logoutState !== undefined && state === s.logoutState) {
      // RP-Initiated Logout §3: Tessera came back to our post_logout_redirect_uri with our state.
      s.timeline.front('browser back at the post_logout_redirect_uri', 'GET', here(request.url).href, 200);
      s.logoutState = undefined;
      s.signedOut = true;
      s.result = {
        title: 'Logged out',
        note: 'Tessera ended its session and revoked the tokens issued in it. This app kept the old access token only to show that the API now refuses it: press "List orders".',
        exchanges: [],
      };
      return reply.code(303).header('location', '/#result').send();
    }
    return sendPage(reply, 'home', {
      ...ctx,
      csrf: s.csrf,
      signedIn: s.tokens !== undefined && !s.signedOut,
      signedOut: s.signedOut,
      tokens: tokensView(s),
      canReuse: s.previousRefreshToken !== undefined,
      lastOrderId: s.lastOrderId,
      result: s.result,
      timeline: s.timeline.entries,
      now: Math.floor(Date.now() / 1000),
    });
  });

  app.get('/callback', async (request, reply) => {
    const s = sessions.ensure(request, reply);
    const callback = here(request.url);
    s.timeline.front('browser back at the redirect URI with the authorization response', 'GET', callback.href, 303);
    const pending = s.pending;
    s.pending = undefined;
    if (!pending) {
      s.result = { title: 'Sign-in failed', note: 'No sign-in was in progress in this browser session. Press "Sign in with Tessera" again.', exchanges: [] };
      return reply.code(303).header('location', '/#result').send();
    }
    const seen = s.timeline.entries.length;
    try {
      ({ tokens: s.tokens, profile: s.profile } = await rp.redeem(s.timeline, callback, pending));
      s.previousRefreshToken = undefined;
      s.signedOut = false;
      s.result = {
        title: 'Signed in',
        note: 'The code was exchanged at the token endpoint (client_secret_basic + code_verifier); openid-client validated the ID token (iss, aud, exp, nonce), then read the profile from /userinfo.',
        exchanges: s.timeline.entries.slice(seen),
      };
      sessions.issue(reply, sessions.store.rotate(s));
    } catch (e) {
      s.result = { title: 'Sign-in failed', note: describeError(e), exchanges: s.timeline.entries.slice(seen) };
    }
    return reply.code(303).header('location', '/#result').send();
  });
}
