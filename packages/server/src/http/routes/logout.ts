import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BrowserDeps } from '../browser-deps.js';
import type { EngineContext } from '../../engine/context.js';
import { parseLogoutRequest, type LogoutRequest } from '../../engine/logout.js';
import type { RawParams } from '../../engine/params.js';
import { Forbidden } from '../pages/errors.js';
import { sendPage } from '../pages/render.js';
import { assertSameOrigin, field, formBody, queryParams, seeOther } from './browser-util.js';

/**
 * GET/POST /logout (RP-Initiated Logout 1.0). With a session the user is asked to confirm (§2: the OP
 * MUST ask unless a valid `id_token_hint` names the current session); the confirmation is a
 * CSRF-protected POST. Ending the session deletes it server-side, revokes its tokens and clears the cookie; then the
 * browser goes to the registered `post_logout_redirect_uri` (with `state`) or the logged-out page.
 */
export function logoutRoutes(app: FastifyInstance, deps: BrowserDeps, ctx: EngineContext): void {
  const finish = async (request: FastifyRequest, reply: FastifyReply, req: LogoutRequest, cookie: string | undefined) => {
    // DESIGN.md §2: logout ends the session and revokes what was issued in it (refresh-token families,
    // live access tokens) before the browser leaves.
    const session = await deps.sessions.load(cookie);
    if (session) await ctx.revoker.revokeSession(session.sid, 'logout');
    await deps.sessions.end(cookie);
    deps.cookies.clearSession(reply);
    if (req.postLogoutRedirectUri) {
      // Not an authorization response, so no `iss` (RP-Initiated Logout §3 defines only `state`).
      const location = req.state === undefined ? req.postLogoutRedirectUri : responseUriWithoutIss(req.postLogoutRedirectUri, req.state);
      return seeOther(reply, location);
    }
    request.log.info('session ended');
    return sendPage(reply, 'logged-out', { title: 'Signed out' });
  };

  const initiate = async (raw: RawParams, request: FastifyRequest, reply: FastifyReply) => {
    const req = await parseLogoutRequest(raw, ctx);
    const cookie = deps.cookies.session(request);
    const session = await deps.sessions.load(cookie);
    if (!session) return finish(request, reply, req, cookie);
    if (req.hint && req.hint.sub === session.sub && req.hint.sid === session.sid) return finish(request, reply, req, cookie);
    const browser = deps.cookies.browser(request, reply);
    const user = await ctx.stores.users.get(session.sub);
    return sendPage(reply, 'logout', {
      title: 'Sign out',
      userName: user?.name ?? user?.username,
      clientName: req.client?.name,
      csrf: deps.csrf.token('logout', browser, cookie, ''),
      idTokenHint: req.params.id_token_hint,
      clientId: req.params.client_id,
      postLogoutRedirectUri: req.params.post_logout_redirect_uri,
      state: req.params.state,
    }, { formTargets: req.postLogoutRedirectUri ? [req.postLogoutRedirectUri] : [] });
  };

  app.get('/logout', async (request, reply) => initiate(queryParams(request), request, reply));
  app.post('/logout', async (request, reply) => {
    const body = formBody(request);
    if (field(body, 'confirm') === undefined) return initiate(body, request, reply);
    assertSameOrigin(request, ctx.config.issuer);
    const browser = deps.cookies.existingBrowser(request);
    const cookie = deps.cookies.session(request);
    if (!deps.csrf.verify(field(body, 'csrf'), 'logout', browser, cookie, '')) throw new Forbidden('bad CSRF token');
    const { csrf: _c, confirm: _f, ...rest } = body;
    return finish(request, reply, await parseLogoutRequest(rest, ctx), cookie);
  });
}

function responseUriWithoutIss(uri: string, state: string): string {
  return `${uri}${uri.includes('?') ? '&' : '?'}state=${encodeURIComponent(state)}`;
}
