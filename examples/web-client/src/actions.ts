import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { callOrdersApi, lastOrderId } from './orders-client.js';
import { describeError } from './errors.js';
import { maskToken } from './mask.js';
import { stepUpChallenge, type RelyingParty } from './relying-party.js';
import { newSecret, type Session } from './sessions.js';
import type { Exchange } from './timeline.js';
import type { WebSessions } from './web-session.js';

/** After every button: POST-redirect-GET to the result panel. */
const done = (reply: FastifyReply) => reply.code(303).header('location', '/#result').send();

const API_NOTES: Record<number, string> = {
  200: 'The API verified the token (signature, iss, aud, exp) and it carries orders:read.',
  204: 'Deleted: the token carries the role admin.',
  401: 'The API refused the token (invalid_token): it was revoked or has expired. A subscribed API learns revocations from Tessera’s feed within a second.',
  403: 'The token is valid but lacks what this route needs: deleting takes the role admin (insufficient_scope).',
  404: 'The token was accepted, but there is no such order.',
};

function result(session: Session, title: string, note: string, exchanges: (Exchange | undefined)[]): void {
  session.result = { title, note, exchanges: exchanges.filter((e): e is Exchange => e !== undefined) };
}

/** The buttons: every one is a CSRF-checked form POST. */
export function actionRoutes(app: FastifyInstance, sessions: WebSessions, rp: RelyingParty, ordersApi: string): void {
  app.post('/login', async (request, reply) => {
    const s = sessions.forForm(request);
    const prompt = (request.body as Record<string, string>).prompt === 'login' ? 'login' : undefined;
    try {
      const { url, pending } = await rp.authorizationUrl(s.timeline, prompt);
      s.pending = pending;
      s.timeline.front('browser sent to the authorization endpoint (code + PKCE S256 + nonce + state)', 'GET', url.href, 303);
      return reply.code(303).header('location', url.href).send();
    } catch (e) {
      result(s, 'Sign-in could not start', `Discovery failed: ${describeError(e)}`, []);
      return done(reply);
    }
  });

  const api = (method: 'GET' | 'DELETE', title: string, path: (s: Session, form: Record<string, string>) => string) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const s = sessions.forForm(request);
      if (!s.tokens) {
        result(s, title, 'Sign in first: the app has no access token.', []);
        return done(reply);
      }
      try {
        const { exchange, json } = await callOrdersApi(s.timeline, ordersApi, s.tokens.accessToken, method, path(s, request.body as Record<string, string>));
        if (method === 'GET' && exchange.status === 200) s.lastOrderId = lastOrderId(json);
        // RFC 9470: the API wants a stronger or fresher sign-in; re-authorize with what it asked for.
        const stepUp = exchange.status === 401 ? stepUpChallenge(exchange.responseHeaders.find(([k]) => k === 'www-authenticate')?.[1]) : undefined;
        if (stepUp) {
          const { url, pending } = await rp.authorizationUrl(s.timeline, undefined, stepUp);
          s.pending = pending;
          s.timeline.front(`step-up (RFC 9470): the API asked for ${stepUp.acrValues ? `acr_values=${stepUp.acrValues}` : ''}${stepUp.maxAge !== undefined ? ` max_age=${stepUp.maxAge}` : ''}; browser sent to the authorization endpoint`, 'GET', url.href, 303);
          result(s, title, 'The API needs a stronger sign-in (insufficient_user_authentication): signing in again with the acr_values it named. Press the button again afterwards.', [exchange]);
          return reply.code(303).header('location', url.href).send();
        }
        result(s, title, API_NOTES[exchange.status ?? 0] ?? `The API answered ${exchange.status}.`, [exchange]);
      } catch (e) {
        result(s, title, `The orders API could not be reached: ${describeError(e)}`, []);
      }
      return done(reply);
    };
  app.post('/orders/list', api('GET', 'List orders', () => '/orders'));
  app.post('/orders/delete', api('DELETE', 'Delete an order', (s, form) => {
    const id = Number(form.id);
    return `/orders/${Number.isSafeInteger(id) && id > 0 ? id : s.lastOrderId ?? 1}`;
  }));

  app.post('/refresh', async (request, reply) => {
    const s = sessions.forForm(request);
    const old = s.tokens?.refreshToken;
    if (!s.tokens || !old) {
      result(s, 'Refresh', 'There is no refresh token to use.', []);
      return done(reply);
    }
    try {
      s.tokens = await rp.refresh(s.timeline, s.tokens, old);
      s.previousRefreshToken = old;
      const next = s.tokens.refreshToken ?? '';
      result(s, 'Refresh', `Rotated: the refresh token ${maskToken(old)} is spent and ${maskToken(next)} replaces it, with a new access token.`, [s.timeline.last]);
    } catch (e) {
      result(s, 'Refresh failed', `${describeError(e)}. The refresh token no longer works: its family was revoked (reuse detected, or logout).`, [s.timeline.last]);
    }
    return done(reply);
  });

  app.post('/refresh/reuse', async (request, reply) => {
    const s = sessions.forForm(request);
    const old = s.previousRefreshToken;
    if (!s.tokens || !old) {
      result(s, 'Reuse old refresh token', 'Press "Refresh" first: only a rotated (spent) refresh token can be reused.', []);
      return done(reply);
    }
    const attempt = async (token: string) => {
      try {
        await rp.refresh(s.timeline, s.tokens!, token);
        return 'accepted (unexpected)';
      } catch (e) {
        return describeError(e);
      }
    };
    const first = await attempt(old);
    const reused = s.timeline.last;
    const current = s.tokens.refreshToken;
    const second = current ? await attempt(current) : 'no current refresh token';
    result(
      s,
      'Reuse old refresh token',
      `Replaying the spent token: ${first}. Tessera treats that as theft and revokes the whole family (RFC 9700 §4.14.2), so the current refresh token fails too: ${second}.`,
      [reused, current ? s.timeline.last : undefined],
    );
    return done(reply);
  });

  app.post('/logout', async (request, reply) => {
    const s = sessions.forForm(request);
    s.logoutState = newSecret();
    try {
      const url = await rp.endSessionUrl(s.timeline, s.tokens?.idToken, s.logoutState);
      s.timeline.front('browser sent to the end_session_endpoint (RP-initiated logout)', 'GET', url.href, 303);
      return reply.code(303).header('location', url.href).send();
    } catch (e) {
      result(s, 'Log out', `Could not start the logout: ${describeError(e)}`, []);
      return done(reply);
    }
  });

  app.post('/reset', async (request, reply) => {
    sessions.end(reply, sessions.forForm(request));
    return reply.code(303).header('location', '/').send();
  });
}
