import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BrowserDeps } from '../browser-deps.js';
import type { EngineContext } from '../../engine/context.js';
import type { PendingInteraction } from '../../engine/authorize/flow.js';
import type { Session } from '../../storage/stores.js';
import { TOTP_AMR } from '../../engine/mfa/index.js';
import { sendPage } from '../pages/render.js';
import { Forbidden } from '../pages/errors.js';
import { assertSameOrigin, field, formBody, queryParams, seeOther } from './browser-util.js';
import { interactionPost } from './interaction-post.js';

interface PageExtra {
  status?: number;
  error?: string;
}

/** The code page between the password and the session (issue 15 §2): a TOTP or a recovery code. */
export function sendCodePage(reply: FastifyReply, deps: BrowserDeps, p: PendingInteraction, browser: string, session: string | undefined, ticket: string, extra: PageExtra = {}): FastifyReply {
  return sendPage(reply, 'mfa', {
    title: 'Two-step verification',
    clientName: p.client.name,
    iid: p.id,
    csrf: deps.csrf.token('mfa', browser, session, p.id),
    ticket,
    error: extra.error,
  }, { status: extra.status ?? 200, formTargets: [p.request.redirectUri] });
}

function tooMany(reply: FastifyReply, retryAfter: number): string {
  reply.header('retry-after', String(retryAfter));
  const minutes = Math.max(1, Math.ceil(retryAfter / 60));
  return `Too many wrong codes. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

/**
 * Second-factor pages (issue 15 §2):
 * - `POST /login/mfa`: the code after the password (ticket from the login page), throttled per account
 *   and per source; success starts the session with amr `pwd otp mfa` and resumes the authorization.
 * - `GET/POST /mfa/totp/setup`: enrolment for a signed-in user (QR code as server-rendered SVG, confirm
 *   with a first code, the recovery codes shown once). With `iid` it is the step the authorization flow
 *   sends a user to whom a policy requires a second factor; confirming upgrades the session.
 */
export function mfaRoutes(app: FastifyInstance, deps: BrowserDeps, ctx: EngineContext): void {
  const { totp, throttle, tickets } = deps.mfa;

  app.post('/login/mfa', async (request, reply) => {
    const { body, browser, session, pending: p } = await interactionPost(request, deps, ctx.config.issuer, 'mfa');
    const ticket = field(body, 'ticket');
    const sub = tickets.verify(ticket, browser, p.id);
    if (sub === undefined) throw new Forbidden('missing, foreign or expired second-step ticket');
    const code = field(body, 'code') ?? '';
    if (code.trim() === '') return sendCodePage(reply, deps, p, browser, session, ticket!, { status: 400, error: 'Enter the code from your authenticator app.' });
    const wait = await throttle.retryAfter(sub, request.ip);
    if (wait > 0) {
      ctx.audit('mfa_throttled', { sub });
      return sendCodePage(reply, deps, p, browser, session, ticket!, { status: 429, error: tooMany(reply, wait) });
    }
    const factor = code.length <= 32 ? await totp.verify(sub, code) : undefined;
    if (factor === undefined) {
      await throttle.recordFailure(sub, request.ip);
      ctx.audit('mfa_verification_failed', { sub, factor: 'totp' });
      return sendCodePage(reply, deps, p, browser, session, ticket!, { status: 401, error: 'That code is not valid. Try the current one.' });
    }
    await throttle.recordSuccess(sub);
    if (factor === 'recovery') ctx.audit('mfa_recovery_code_used', { sub, remaining: await totp.unusedRecoveryCodes(sub) });
    const user = await ctx.stores.users.get(sub);
    if (!user) throw new Forbidden('the user no longer exists');
    const created = await deps.sessions.create(sub, session, TOTP_AMR);
    deps.cookies.setSession(reply, created.cookie, created.maxAge);
    await deps.flow.loggedIn(p, user);
    request.log.info({ sub, factor }, 'user signed in with a second factor');
    return seeOther(reply, `/authorize/resume?iid=${encodeURIComponent(p.id)}`);
  });

  /** The signed-in user of a setup request, and the authorization it belongs to (if any). */
  const signedIn = async (request: FastifyRequest, browser: string, iid: string | undefined): Promise<{ session: Session; p: PendingInteraction | undefined }> => {
    const cookie = deps.cookies.session(request);
    const p = iid !== undefined ? await deps.flow.pending(iid, { id: browser, session: cookie }) : undefined;
    const session = p ? p.session : await deps.sessions.load(cookie);
    if (!session) throw new Forbidden('no session: sign in before setting up a second factor');
    return { session, p };
  };

  const setupPage = async (reply: FastifyReply, browser: string, cookie: string | undefined, session: Session, p: PendingInteraction | undefined, fresh: boolean, extra: PageExtra = {}) => {
    const user = await ctx.stores.users.get(session.sub);
    if (!user) throw new Forbidden('the user no longer exists');
    const setup = fresh ? await totp.begin(user.sub, user.username) : await totp.pending(user.sub, user.username);
    if (!setup) {
      return sendPage(reply, 'notice', { title: 'Two-step verification', heading: 'Two-step verification is already on', message: 'An authenticator app is already set up for this account.' }, { status: 409 });
    }
    return sendPage(reply, 'totp-setup', {
      title: 'Set up two-step verification',
      qrSvg: setup.qrSvg,
      secret: setup.secret,
      required: p !== undefined,
      iid: p?.id,
      csrf: deps.csrf.token('mfa-setup', browser, cookie, p?.id ?? session.sid),
      error: extra.error,
    }, { status: extra.status ?? 200, ...(p ? { formTargets: [p.request.redirectUri] } : {}) });
  };

  app.get('/mfa/totp/setup', async (request, reply) => {
    const browser = deps.cookies.browser(request, reply);
    const { session, p } = await signedIn(request, browser, field(queryParams(request), 'iid'));
    return setupPage(reply, browser, deps.cookies.session(request), session, p, true);
  });

  app.post('/mfa/totp/setup', async (request, reply) => {
    assertSameOrigin(request, ctx.config.issuer);
    const body = formBody(request);
    const browser = deps.cookies.existingBrowser(request);
    if (browser === undefined) throw new Forbidden('no browser cookie');
    const cookie = deps.cookies.session(request);
    const { session, p } = await signedIn(request, browser, field(body, 'iid'));
    if (!deps.csrf.verify(field(body, 'csrf'), 'mfa-setup', browser, cookie, p?.id ?? session.sid)) throw new Forbidden('bad CSRF token');

    const wait = await throttle.retryAfter(session.sub, request.ip);
    if (wait > 0) return setupPage(reply, browser, cookie, session, p, false, { status: 429, error: tooMany(reply, wait) });
    const code = field(body, 'code') ?? '';
    const codes = code.length <= 10 ? await totp.confirm(session.sub, code) : undefined;
    if (!codes) {
      await throttle.recordFailure(session.sub, request.ip);
      ctx.audit('mfa_verification_failed', { sub: session.sub, factor: 'totp_enrolment' });
      return setupPage(reply, browser, cookie, session, p, false, { status: 401, error: 'That code is not valid. Check the time on your device and try the current code.' });
    }
    await throttle.recordSuccess(session.sub);
    // The user just proved possession of the new factor in this session: it is now a two-factor session.
    await deps.sessions.upgrade(session, TOTP_AMR);
    ctx.audit('mfa_totp_enrolled', { sub: session.sub });
    return sendPage(reply, 'totp-done', {
      title: 'Two-step verification is on',
      codes,
      next: p ? `/authorize/resume?iid=${encodeURIComponent(p.id)}` : undefined,
    });
  });
}
