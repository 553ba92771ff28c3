import type { FastifyInstance, FastifyReply } from 'fastify';
import { TooManyRequests } from '@tessera/protocol';
import type { BrowserDeps } from '../browser-deps.js';
import type { EngineContext } from '../../engine/context.js';
import type { PendingInteraction } from '../../engine/authorize/flow.js';
import { authenticateUser, InvalidCredentials } from '../../engine/login/authenticate-user.js';
import { sendPage } from '../pages/render.js';
import { field, queryParams, seeOther } from './browser-util.js';
import { interactionPost } from './interaction-post.js';
import { sendCodePage } from './mfa.js';

/**
 * The sign-in page of a pending authorization request. POST checks origin and CSRF token, then the
 * password (throttled per source and per account + source: 429 + Retry-After; a browser that signed
 * in to the account before passes with its device cookie), starts a new session (fresh id: no
 * fixation), renews the device cookie and answers 303 back to the authorization flow (A12).
 */
export function loginRoutes(app: FastifyInstance, deps: BrowserDeps, ctx: EngineContext): void {
  const page = (reply: FastifyReply, p: PendingInteraction, browser: string, session: string | undefined, extra: { status?: number; error?: string; username?: string }) =>
    sendPage(reply, 'login', {
      title: 'Sign in',
      clientName: p.client.name,
      iid: p.id,
      csrf: deps.csrf.token('login', browser, session, p.id),
      username: extra.username ?? p.request.loginHint ?? '',
      error: extra.error,
    }, { status: extra.status ?? 200, formTargets: [p.request.redirectUri] });

  app.get('/login', async (request, reply) => {
    const browser = deps.cookies.browser(request, reply);
    const session = deps.cookies.session(request);
    const p = await deps.flow.pending(field(queryParams(request), 'iid'), { id: browser, session });
    return page(reply, p, browser, session, {});
  });

  app.post('/login', async (request, reply) => {
    const { body, browser, session, pending: p } = await interactionPost(request, deps, ctx.config.issuer, 'login');

    const username = field(body, 'username') ?? '';
    const password = field(body, 'password');
    if (!username || password === undefined) {
      return page(reply, p, browser, session, { status: 400, error: 'Enter your username and password.', username });
    }
    let user;
    try {
      user = await authenticateUser(username, password, request.ip, ctx.stores.users, deps.throttle, deps.cookies.device(request));
    } catch (e) {
      if (e instanceof InvalidCredentials) {
        ctx.audit('login_failed', { clientId: p.client.id, ip: request.ip, userAgent: request.headers['user-agent'], username: username.slice(0, 128), via: 'login_page' });
      }
      if (e instanceof InvalidCredentials) return page(reply, p, browser, session, { status: 401, error: e.message, username });
      if (e instanceof TooManyRequests) {
        reply.header('retry-after', String(e.retryAfter));
        const minutes = Math.max(1, Math.ceil((e.retryAfter ?? 60) / 60));
        return page(reply, p, browser, session, { status: 429, error: `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, username });
      }
      throw e;
    }
    // OWASP device cookie: this browser is now known for this account (README "Throttling model").
    deps.cookies.setDevice(reply, deps.throttle.deviceCookie(user.sub, deps.cookies.device(request)), ctx.config.login.deviceCookieTtl);
    // Issue 15: a user with a second factor gets no session before the code page is passed.
    if (await deps.mfa.totp.enrolled(user.sub)) return sendCodePage(reply, deps, p, browser, session, deps.mfa.tickets.issue(user.sub, browser, p.id));
    const created = await deps.sessions.create(user.sub, session);
    deps.cookies.setSession(reply, created.cookie, created.maxAge);
    await deps.flow.loggedIn(p, user);
    request.log.info({ sub: user.sub }, 'user signed in');
    ctx.audit('login_succeeded', { actor: user.sub, sub: user.sub, clientId: p.client.id, ip: request.ip, userAgent: request.headers['user-agent'], sid: created.session.sid });
    return seeOther(reply, `/authorize/resume?iid=${encodeURIComponent(p.id)}`);
  });
}
