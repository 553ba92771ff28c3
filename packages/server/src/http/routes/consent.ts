import type { FastifyInstance } from 'fastify';
import { InvalidRequest } from '@tessera/protocol';
import type { BrowserDeps } from '../browser-deps.js';
import type { EngineContext } from '../../engine/context.js';
import { describeScopes, redirectHost } from '../../engine/scope-words.js';
import { sendPage } from '../pages/render.js';
import { field, queryParams, seeOther, sendOutcome } from './browser-util.js';
import { interactionPost } from './interaction-post.js';

/**
 * The consent page (A18): the client's name, the scopes in words, the host the browser will be sent
 * to; Allow or Deny. Deny redirects `access_denied` to the registered redirect URI only.
 */
export function consentRoutes(app: FastifyInstance, deps: BrowserDeps, ctx: EngineContext): void {
  app.get('/consent', async (request, reply) => {
    const browser = deps.cookies.browser(request, reply);
    const session = deps.cookies.session(request);
    const p = await deps.flow.pending(field(queryParams(request), 'iid'), { id: browser, session });
    // No session (expired meanwhile): the flow sends the user to sign in again.
    if (!p.session) return seeOther(reply, `/authorize/resume?iid=${encodeURIComponent(p.id)}`);
    const user = await ctx.stores.users.get(p.session.sub);
    // A client from a metadata document (engine/cimd): nobody vouched for it; its host is what is known.
    const doc = p.client.metadataDocument;
    return sendPage(reply, 'consent', {
      title: 'Allow access',
      clientName: p.client.name,
      unverifiedHost: doc?.host,
      logoUri: doc?.logoUri,
      userName: user?.name ?? user?.username,
      scopes: describeScopes(p.request.scopes),
      redirectHost: redirectHost(p.request.redirectUri),
      iid: p.id,
      csrf: deps.csrf.token('consent', browser, session, p.id),
    }, { formTargets: [p.request.redirectUri], ...(doc?.logoUri ? { imageOrigin: new URL(doc.logoUri).origin } : {}) });
  });

  app.post('/consent', async (request, reply) => {
    const { body, browser, session, pending: p } = await interactionPost(request, deps, ctx.config.issuer, 'consent');
    const decision = field(body, 'decision');
    if (decision !== 'allow' && decision !== 'deny') throw new InvalidRequest('choose Allow or Deny');
    const outcome = await deps.flow.consent(p, decision === 'allow', { id: browser, session }).catch((e: unknown) => deps.flow.errorOutcome(e));
    return sendOutcome(reply, outcome);
  });
}
