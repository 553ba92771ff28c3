import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidRequest, TooManyRequests } from '@tessera/protocol';
import type { EngineContext } from '../../engine/context.js';
import { formatUserCode, normalizeUserCode, UserCodeRejected, type DeviceFlow, type PendingDevice } from '../../engine/device/index.js';
import { authenticateUser, InvalidCredentials } from '../../engine/login/authenticate-user.js';
import type { RawParams } from '../../engine/params.js';
import { describeScopes } from '../../engine/scope-words.js';
import { amrOf, mfaRequired } from '../../engine/mfa/index.js';
import type { BrowserDeps } from '../browser-deps.js';
import { Forbidden } from '../pages/errors.js';
import { sendPage } from '../pages/render.js';
import { assertSameOrigin, field, formBody, queryParams, seeOther } from './browser-util.js';
import { isForm, postOnly } from './token.js';

/** POST /device_authorization (RFC 8628 §3.1): form-encoded, answered like /token (JSON, no-store). */
export function deviceAuthorizationRoutes(app: FastifyInstance, device: DeviceFlow): void {
  app.post('/device_authorization', async (request, reply) => {
    if (!isForm(request.headers['content-type'])) throw new InvalidRequest('the device authorization endpoint accepts only application/x-www-form-urlencoded');
    if (request.url.includes('?')) throw new InvalidRequest('parameters are not accepted in the query string');
    const response = await device.authorize({ authorization: request.headers.authorization, body: (request.body ?? {}) as RawParams, ip: request.ip });
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').type('application/json').send(response);
  });
  postOnly(app, '/device_authorization', 'the device authorization endpoint');
}

/** CSRF subjects: one per step, the decision bound to the very code that was shown. */
const LOGIN = 'device-login';
const ENTER = 'device-code';
const DECIDE = 'device-decide';

/** The typed code as the form shows it again: normalised when it is one, else as typed (capped). */
function shownCode(input: string | undefined): string {
  const code = normalizeUserCode(input);
  return code ? formatUserCode(code) : (input ?? '').slice(0, 40);
}

function pageUrl(userCode: string): string {
  return userCode ? `/device?user_code=${encodeURIComponent(userCode)}` : '/device';
}

/**
 * The user-code page (RFC 8628 §3.3): sign in (Tessera's own session, same throttled password check
 * as /login), enter or confirm the code (prefilled from `verification_uri_complete`, never approved
 * without a click), then see who asks for what (§5.4) and Allow or Deny. Every POST passes the same
 * origin and CSRF checks as login and consent (A16); the pages share their renderer and headers.
 */
export function devicePageRoutes(app: FastifyInstance, deps: BrowserDeps, ctx: EngineContext): void {
  const device = deps.device;

  const signInPage = (reply: FastifyReply, browser: string, session: string | undefined, extra: { status?: number; error?: string; username?: string; userCode?: string }) =>
    sendPage(reply, 'device', {
      title: 'Sign in',
      step: 'login',
      csrf: deps.csrf.token(LOGIN, browser, session, 'device'),
      userCode: extra.userCode ?? '',
      username: extra.username ?? '',
      error: extra.error,
    }, { status: extra.status ?? 200 });

  const codePage = async (reply: FastifyReply, browser: string, cookie: string | undefined, sub: string, extra: { status?: number; error?: string; userCode?: string }) => {
    const user = await ctx.stores.users.get(sub);
    return sendPage(reply, 'device', {
      title: 'Connect a device',
      step: 'code',
      csrf: deps.csrf.token(ENTER, browser, cookie, 'device'),
      userCode: extra.userCode ?? '',
      userName: user?.name ?? user?.username,
      error: extra.error,
    }, { status: extra.status ?? 200 });
  };

  const confirmPage = (reply: FastifyReply, browser: string, cookie: string | undefined, p: PendingDevice) =>
    sendPage(reply, 'device', {
      title: 'Allow access',
      step: 'confirm',
      csrf: deps.csrf.token(DECIDE, browser, cookie, p.userCode),
      userCode: formatUserCode(p.userCode),
      clientName: p.client.name,
      scopes: describeScopes(p.code.scopes),
    });

  const tooMany = (reply: FastifyReply, e: TooManyRequests) => {
    reply.header('retry-after', String(e.retryAfter ?? 60));
    const minutes = Math.max(1, Math.ceil((e.retryAfter ?? 60) / 60));
    return `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
  };

  app.get('/device', async (request, reply) => {
    const browser = deps.cookies.browser(request, reply);
    const cookie = deps.cookies.session(request);
    const session = await deps.sessions.load(cookie);
    const userCode = shownCode(field(queryParams(request), 'user_code'));
    if (!session) return signInPage(reply, browser, cookie, { userCode });
    return codePage(reply, browser, cookie, session.sub, { userCode });
  });

  app.post('/device', async (request, reply) => {
    const { body, browser, cookie } = devicePost(request, deps, ctx.config.issuer);
    const step = field(body, 'step');
    const typed = field(body, 'user_code');

    if (step === 'login') {
      if (!deps.csrf.verify(field(body, 'csrf'), LOGIN, browser, cookie, 'device')) throw new Forbidden('bad CSRF token');
      const username = field(body, 'username') ?? '';
      const password = field(body, 'password');
      const userCode = shownCode(typed);
      if (!username || password === undefined) return signInPage(reply, browser, cookie, { status: 400, error: 'Enter your username and password.', username, userCode });
      let user;
      try {
        user = await authenticateUser(username, password, request.ip, ctx.stores.users, deps.throttle);
      } catch (e) {
        if (e instanceof InvalidCredentials) return signInPage(reply, browser, cookie, { status: 401, error: e.message, username, userCode });
        if (e instanceof TooManyRequests) return signInPage(reply, browser, cookie, { status: 429, error: tooMany(reply, e), username, userCode });
        throw e;
      }
      const created = await deps.sessions.create(user.sub, cookie);
      deps.cookies.setSession(reply, created.cookie, created.maxAge);
      request.log.info({ sub: user.sub }, 'user signed in');
      return seeOther(reply, pageUrl(userCode));
    }

    if (step !== 'code' && step !== 'decide' && step !== 'switch') throw new InvalidRequest('unknown form step');
    const subject = step === 'decide' ? (normalizeUserCode(typed) ?? '') : 'device';
    if (!deps.csrf.verify(field(body, 'csrf'), step === 'decide' ? DECIDE : ENTER, browser, cookie, subject)) throw new Forbidden('bad CSRF token');
    if (step === 'switch') {
      // A shared computer: sign out exactly as /logout does (the session and what it issued end), then
      // sign in as someone else, keeping the code.
      const current = await deps.sessions.load(cookie);
      if (current) await ctx.revoker.revokeSession(current.sid, 'logout');
      await deps.sessions.end(cookie);
      deps.cookies.clearSession(reply);
      return seeOther(reply, pageUrl(shownCode(typed)));
    }
    const session = await deps.sessions.load(cookie);
    // Signed out meanwhile (expired, or ended elsewhere): sign in again, keeping the code.
    if (!session) return seeOther(reply, pageUrl(shownCode(typed)));

    if (step === 'code' && !typed?.trim()) return codePage(reply, browser, cookie, session.sub, { status: 400, error: 'Enter the code shown on your device.' });
    const decision = field(body, 'decision');
    if (step === 'decide' && decision !== 'allow' && decision !== 'deny') throw new InvalidRequest('choose Allow or Deny');
    let pending: PendingDevice;
    try {
      pending = await device.find(typed ?? '', session.sub, request.ip);
    } catch (e) {
      if (e instanceof UserCodeRejected) return codePage(reply, browser, cookie, session.sub, { status: 400, error: e.message, userCode: shownCode(typed) });
      if (e instanceof TooManyRequests) return codePage(reply, browser, cookie, session.sub, { status: 429, error: tooMany(reply, e), userCode: shownCode(typed) });
      throw e;
    }
    if (step === 'code') return confirmPage(reply, browser, cookie, pending);

    // A second factor the account or the client needs is never skipped here: this page only signs in
    // with a password, so an approval needs a session that already proved one (issue 15).
    if (decision === 'allow') {
      const user = await ctx.stores.users.get(session.sub);
      const needsFactor = mfaRequired(user, pending.client, undefined) || (await deps.mfa.totp.enrolled(session.sub));
      if (needsFactor && !amrOf(session).includes('mfa')) {
        return codePage(reply, browser, cookie, session.sub, { status: 403, error: 'This account or application needs a second factor, which this page cannot ask for yet. Sign in to Tessera with your second factor in this browser first, then enter the code again.', userCode: shownCode(typed) });
      }
    }
    const recorded = await device.decide(pending, decision === 'allow', session);
    if (!recorded) return codePage(reply, browser, cookie, session.sub, { status: 400, error: new UserCodeRejected().message });
    request.log.info({ sub: session.sub, clientId: pending.client.id, decision }, 'device authorization decided');
    return sendPage(reply, 'device', {
      title: decision === 'allow' ? 'Device connected' : 'Access denied',
      step: decision === 'allow' ? 'approved' : 'denied',
      clientName: pending.client.name,
    });
  });
}

/** A /device form post: same origin (A16) and the browser cookie; the CSRF token is checked per step. */
function devicePost(request: FastifyRequest, deps: BrowserDeps, issuer: string): { body: RawParams; browser: string; cookie: string | undefined } {
  assertSameOrigin(request, issuer);
  const body = formBody(request);
  const browser = deps.cookies.existingBrowser(request);
  if (browser === undefined) throw new Forbidden('no browser cookie');
  return { body, browser, cookie: deps.cookies.session(request) };
}
